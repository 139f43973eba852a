"""Rules about what is bought and who buys it (engine 2026-12-02.1): the product against the client's profile.

Each reads the purchases only: selling a product never needs the profile that buying it would (closing a
position moves the book toward compliance). Each answers its threshold, the value it computed, and one
sentence an agent can relay; numbers in sentences are plain decimals (`money.plain`), never exponents.
"""

from __future__ import annotations

from wealthgate.money import plain
from wealthgate.suitability.book import Case, money_text, names, result, times
from wealthgate.suitability.facts import RuleResult, Security
from wealthgate.vocabulary import EXPERIENCE_LEVELS


def a(word: str) -> str:
    """The word with its indefinite article: "a moderate", "an aggressive"."""
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word.replace('_', ' ')}"


def _bought(c: Case) -> list[Security]:
    return [c.facts.securities[s] for s in sorted({t.symbol for t in c.buys})]


def restricted_list(c: Case) -> RuleResult:
    hit = sorted({t.symbol for t in c.trades if t.symbol in c.policy.restricted_symbols})
    return result(
        "restricted_list",
        bool(hit),
        sorted(c.policy.restricted_symbols),
        hit,
        "No traded symbol is on the firm's restricted list.",
        f"{', '.join(hit)} is on the firm's restricted list and may not be traded.",
    )


def client_restrictions(c: Case) -> RuleResult:
    p = c.facts.profile
    hit = sorted(
        s.symbol for s in _bought(c) if s.symbol in p.excluded_symbols or s.sector in p.excluded_sectors
    )
    return result(
        "client_restrictions",
        bool(hit),
        {"excluded_symbols": sorted(p.excluded_symbols), "excluded_sectors": sorted(p.excluded_sectors)},
        hit,
        "No purchase is in a symbol or sector the client excluded.",
        f"The client excluded {', '.join(hit)} (by symbol or sector); it may not be bought.",
    )


def product_risk(c: Case) -> RuleResult:
    level = c.facts.profile.risk_level
    allowed = c.policy.max_product_risk[level]
    worst = max(_bought(c), key=lambda s: (s.risk_rating, s.symbol), default=None)
    if worst is None:
        return RuleResult("product_risk", "pass", allowed, None, "Nothing is bought.")
    return result(
        "product_risk",
        worst.risk_rating > allowed,
        allowed,
        worst.risk_rating,
        f"The riskiest purchase, {worst.symbol}, is rated {worst.risk_rating}; {a(level)} client may buy"
        f" up to {allowed}.",
        f"{worst.symbol} is rated {worst.risk_rating} but {a(level)} client may only buy products rated up to"
        f" {allowed}.",
    )


def investment_objective(c: Case) -> RuleResult:
    """The product against what the client invests for: a rating above the objective's maximum, or a complex,
    leveraged or inverse product for an objective that excludes them (capital preservation, income)."""
    objective = c.facts.profile.investment_objective
    bought = _bought(c)
    if objective is None:
        return result(
            "investment_objective",
            bool(bought),
            None,
            None,
            "Nothing is bought.",
            "The profile records no investment objective: a person confirms the purchase fits the client.",
            worse="needs_review",
        )
    top = c.policy.objective_max_product_risk[objective]
    no_complex = objective in c.policy.objective_no_complex
    threshold = {"max_product_risk": top, "complex_allowed": not no_complex}
    too_risky = sorted(s.symbol for s in bought if s.risk_rating > top)
    too_complex = sorted(s.symbol for s in bought if no_complex and s.complex)
    goal = objective.replace("_", " ")
    if too_risky or too_complex:
        reasons = []
        if too_risky:
            reasons.append(f"{', '.join(too_risky)} is rated above {top}")
        if too_complex:
            reasons.append(f"{', '.join(too_complex)} is complex, leveraged or inverse")
        return RuleResult(
            "investment_objective",
            "fail",
            threshold,
            {"objective": objective, "products": sorted(set(too_risky) | set(too_complex))},
            f"The client invests for {goal}: {'; '.join(reasons)}, which that objective does not allow.",
        )
    return RuleResult(
        "investment_objective",
        "pass",
        threshold,
        {"objective": objective, "products": []},
        f"Every purchase fits an objective of {goal} (rated up to {top}"
        f"{', nothing complex' if no_complex else ''})."
        if bought
        else "Nothing is bought.",
    )


def complex_products(c: Case) -> RuleResult:
    """Experience and risk level for complex products; a leveraged or inverse fund is complex whatever its
    flag in the master says."""
    p, policy = c.facts.profile, c.policy
    bought = sorted(s.symbol for s in _bought(c) if s.complex)
    threshold = {
        "min_experience": policy.complex_min_experience,
        "risk_levels": sorted(policy.complex_risk_levels),
    }
    experienced = EXPERIENCE_LEVELS.index(p.investment_experience) >= EXPERIENCE_LEVELS.index(
        policy.complex_min_experience
    )
    eligible = experienced and p.risk_level in policy.complex_risk_levels
    return result(
        "complex_products",
        bool(bought) and not eligible,
        threshold,
        bought,
        f"The client qualifies for complex products ({names(bought)})."
        if bought
        else "No complex or leveraged product is bought.",
        f"{names(bought)} is complex or leveraged; the client needs {policy.complex_min_experience}"
        f" experience and a risk level in {names(policy.complex_risk_levels)}.",
    )


def complex_for_age_and_horizon(c: Case) -> RuleResult:
    """No complex, leveraged or inverse purchase from the policy's age on, or for a time horizon the policy
    names (short: money needed within three years cannot wait out a loss such products can bring)."""
    p, policy = c.facts.profile, c.policy
    bought = sorted(s.symbol for s in _bought(c) if s.complex)
    threshold = {"from_age": policy.complex_age_from, "time_horizons": sorted(policy.complex_time_horizons)}
    value = {"age": p.age, "time_horizon": p.time_horizon, "products": bought}
    reasons = []
    if p.age >= policy.complex_age_from:
        reasons.append(f"is {p.age}, at or past the policy's age of {policy.complex_age_from}")
    if p.time_horizon in policy.complex_time_horizons:
        reasons.append(f"has a {p.time_horizon} time horizon")
    if not bought:
        return RuleResult(
            "complex_for_age_and_horizon",
            "pass",
            threshold,
            value,
            "No complex or leveraged product is bought.",
        )
    if reasons:
        return RuleResult(
            "complex_for_age_and_horizon",
            "fail",
            threshold,
            value,
            f"{names(bought)} is complex, leveraged or inverse and the client {' and '.join(reasons)}:"
            " not suitable at that age or horizon.",
        )
    return RuleResult(
        "complex_for_age_and_horizon",
        "pass",
        threshold,
        value,
        f"The client ({p.age}, {p.time_horizon} horizon) is within the policy's age and horizon for"
        f" {names(bought)}.",
    )


def leveraged_holding_period(c: Case) -> RuleResult:
    """Every leveraged or inverse purchase carries the holding-period warning and goes to a person: such a
    fund resets its multiple daily, so over longer periods its return departs from the index's times the
    multiple."""
    days = c.policy.leveraged_holding_period_days
    funds = [s for s in _bought(c) if s.leveraged]
    if not funds:
        return RuleResult(
            "leveraged_holding_period", "pass", days, [], "No leveraged or inverse fund is bought."
        )
    listed = ", ".join(f"{s.symbol} ({times(s.leverage)})" for s in funds)
    span = "1 trading day" if days == 1 else f"{days} trading days"
    return RuleResult(
        "leveraged_holding_period",
        "needs_review",
        days,
        [s.symbol for s in funds],
        f"{listed} resets its leverage daily and is meant for holding periods of about {span}: held longer,"
        " its return drifts from the stated multiple of the index (more so in volatile markets), so the"
        " position needs daily monitoring and a person confirms the client understands this.",
    )


def options_approval(c: Case) -> RuleResult:
    """Buying an options product (the policy lists them with the approval level each needs) needs the client's
    options approval at that level or above. Closing sales need none."""
    level = c.facts.profile.options_level
    needed = {
        s.symbol: c.policy.options_products[s.symbol]
        for s in _bought(c)
        if s.symbol in c.policy.options_products
    }
    if not needed:
        return RuleResult("options_approval", "pass", None, level, "No options product is bought.")
    top = max(needed.values())
    short = sorted(s for s, n in needed.items() if n > level)
    return result(
        "options_approval",
        bool(short),
        top,
        level,
        f"The client's options approval (level {level}) covers {names(needed)} (level {top} needed).",
        f"{names(short)} needs options approval level {top}; the client's is {level}.",
    )


def accredited_investor(c: Case) -> RuleResult:
    """Illiquid alternatives (private funds) only for accredited investors: net worth or annual income at the
    policy's minimum (SEC Rule 501(a): $1,000,000 net worth, $200,000 income). The profile's net worth is
    taken as reported; it does not separate out a primary residence."""
    p, policy = c.facts.profile, c.policy
    bought = sorted(
        s.symbol
        for s in _bought(c)
        if s.asset_class in policy.accredited_asset_classes and s.liquidity in policy.accredited_liquidity
    )
    threshold = {
        "min_net_worth": plain(policy.accredited_min_net_worth),
        "min_annual_income": plain(policy.accredited_min_annual_income),
    }
    shown = {
        "net_worth": None if p.net_worth is None else money_text(p.net_worth),
        "annual_income": None if p.annual_income is None else money_text(p.annual_income),
    }
    if not bought:
        return RuleResult(
            "accredited_investor", "pass", threshold, shown, "No private or illiquid alternative is bought."
        )
    if p.net_worth is None or p.annual_income is None:
        return RuleResult(
            "accredited_investor",
            "needs_review",
            threshold,
            shown,
            f"{names(bought)} is for accredited investors and the profile lacks net worth or income.",
        )
    accredited = (
        p.net_worth >= policy.accredited_min_net_worth
        or p.annual_income >= policy.accredited_min_annual_income
    )
    return result(
        "accredited_investor",
        not accredited,
        threshold,
        shown,
        f"{names(bought)} is for accredited investors and the client qualifies.",
        f"{names(bought)} is for accredited investors: the client's net worth ({money_text(p.net_worth)}) is"
        f" below {plain(policy.accredited_min_net_worth)} and income ({money_text(p.annual_income)}) below"
        f" {plain(policy.accredited_min_annual_income)}.",
    )


def tax_status(c: Case) -> RuleResult:
    """Tax-exempt income (municipal bonds) brings a tax-exempt client nothing: it usually yields less than a
    taxable bond of the same quality, so the purchase goes to a person."""
    status = c.facts.profile.tax_status
    sectors = c.policy.tax_exempt_income_sectors
    bought = sorted(s.symbol for s in _bought(c) if s.sector in sectors)
    threshold = sorted(sectors)
    if not bought:
        return RuleResult("tax_status", "pass", threshold, status, "No tax-exempt income product is bought.")
    if status is None:
        return RuleResult(
            "tax_status",
            "needs_review",
            threshold,
            status,
            f"{names(bought)} pays tax-exempt income and the profile records no tax status.",
        )
    return result(
        "tax_status",
        status == "tax_exempt",
        threshold,
        status,
        f"{names(bought)} pays tax-exempt income, which suits a {status} client.",
        f"{names(bought)} pays tax-exempt income, which brings a tax-exempt client nothing; a taxable bond"
        " usually yields more.",
        worse="needs_review",
    )
