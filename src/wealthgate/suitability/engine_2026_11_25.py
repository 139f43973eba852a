"""Engine 2026-11-25.1, frozen: the twelve rules as they judged every verdict stored under that version.

Replay runs the rule set of the version a verdict was stored with (`engine.RULE_SETS`), so this file is
never edited, as a migration is never edited: it is the code of that day, copied unchanged, with the money
helpers it used (`to_cents` half-even, the share scale) copied in too, so that a later change of the service's
rounding or number formatting (explanations here print `Decimal.normalize()`, e.g. "1E+4") cannot change a
replay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any

from wealthgate.suitability.facts import Facts, RuleResult, Security, Trade
from wealthgate.suitability.policy import Policy
from wealthgate.vocabulary import EXPERIENCE_LEVELS

VERSION = "2026-11-25.1"
ZERO = Decimal(0)
SHARE = Decimal("0.0001")  # weights reported as 4-place decimal strings (0.2345 = 23.45%)
QUANTITY_PLACES = Decimal("0.00000001")
CENT = Decimal("0.01")


def _as_written(quantity: Decimal) -> str:
    """A quantity as this engine wrote it into stored verdicts (10000 was "1E+4"). Kept, not fixed: replay
    must give back exactly what was stored; new verdicts use money.plain."""
    return str(quantity.normalize())


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def pct(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal('0.01'))}%"


def _s(share: Decimal) -> str:
    return str(share.quantize(SHARE))


@dataclass(frozen=True, slots=True)
class _Book:
    """Client-level values: per symbol, per sector, per asset class, and cash."""

    values: Mapping[str, Decimal]
    cash: Decimal

    def total(self) -> Decimal:
        return sum(self.values.values(), ZERO) + self.cash

    def share(self, value: Decimal) -> Decimal:
        total = self.total()
        return value / total if total > 0 else ZERO

    def by(self, facts: Facts, attribute: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for symbol, v in self.values.items():
            out[getattr(facts.securities[symbol], attribute)] += v
        return dict(out)


def quantity_of(trade: Trade, security: Security) -> Decimal:
    """Shares traded: as given, or the amount at the price, rounded down to the share scale."""
    if trade.quantity is not None:
        return trade.quantity
    amount = trade.amount if trade.amount is not None else ZERO
    return (amount / security.price).quantize(QUANTITY_PLACES, rounding=ROUND_DOWN)


def _books(facts: Facts, trades: Iterable[Trade]) -> tuple[_Book, _Book, dict[str, Decimal]]:
    """Before and after the trades; and the net quantity change per symbol."""
    secs = facts.securities
    before = {s: to_cents(q * secs[s].price) for s, q in facts.positions.items() if q != 0}
    change: dict[str, Decimal] = defaultdict(lambda: ZERO)
    cash = facts.cash
    for t in trades:
        q = quantity_of(t, secs[t.symbol])
        value = to_cents(q * secs[t.symbol].price)
        change[t.symbol] += q if t.side == "buy" else -q
        cash += -value if t.side == "buy" else value
    after_q = {
        s: facts.positions.get(s, ZERO) + change.get(s, ZERO) for s in set(facts.positions) | set(change)
    }
    after = {s: to_cents(q * secs[s].price) for s, q in after_q.items() if q != 0}
    return _Book(before, facts.cash), _Book(after, cash), dict(change)


def _result(
    rule: str, failed: bool, threshold: Any, value: Any, ok: str, bad: str, worse: str = "fail"
) -> RuleResult:
    return RuleResult(rule, worse if failed else "pass", threshold, value, bad if failed else ok)


def _holdings_sufficient(facts: Facts, change: Mapping[str, Decimal]) -> RuleResult:
    short = sorted(s for s, d in change.items() if facts.positions.get(s, ZERO) + d < 0)
    if not short:
        return RuleResult(
            "holdings_sufficient", "pass", None, None, "Every sale is covered by shares the client holds."
        )
    s = short[0]
    held = facts.positions.get(s, ZERO)
    return RuleResult(
        "holdings_sufficient",
        "fail",
        _as_written(held),
        _as_written(-change[s]),
        f"The client holds {_as_written(held)} {s} and the trades sell {_as_written(-change[s])}.",
    )


def _cash_sufficient(before: _Book, after: _Book) -> RuleResult:
    needed = before.cash - after.cash
    return _result(
        "cash_sufficient",
        after.cash < 0,
        str(before.cash),
        str(needed),
        f"The trades need {needed} of cash net and {before.cash} is available.",
        f"The trades need {needed} of cash net but only {before.cash} is available.",
    )


def _restricted_list(policy: Policy, trades: list[Trade]) -> RuleResult:
    hit = sorted({t.symbol for t in trades if t.symbol in policy.restricted_symbols})
    return _result(
        "restricted_list",
        bool(hit),
        sorted(policy.restricted_symbols),
        hit,
        "No traded symbol is on the firm's restricted list.",
        f"{', '.join(hit)} is on the firm's restricted list and may not be traded.",
    )


def _client_restrictions(facts: Facts, buys: list[Trade]) -> RuleResult:
    p = facts.profile
    hit = sorted(
        {
            t.symbol
            for t in buys
            if t.symbol in p.excluded_symbols or facts.securities[t.symbol].sector in p.excluded_sectors
        }
    )
    return _result(
        "client_restrictions",
        bool(hit),
        {"excluded_symbols": sorted(p.excluded_symbols), "excluded_sectors": sorted(p.excluded_sectors)},
        hit,
        "No purchase is in a symbol or sector the client excluded.",
        f"The client excluded {', '.join(hit)} (by symbol or sector); it may not be bought.",
    )


def _product_risk(facts: Facts, policy: Policy, buys: list[Trade]) -> RuleResult:
    level = facts.profile.risk_level
    allowed = policy.max_product_risk[level]
    worst = max(buys, key=lambda t: (facts.securities[t.symbol].risk_rating, t.symbol), default=None)
    rating = facts.securities[worst.symbol].risk_rating if worst else None
    if worst is None or rating is None:
        return RuleResult("product_risk", "pass", allowed, None, "Nothing is bought.")
    return _result(
        "product_risk",
        rating > allowed,
        allowed,
        rating,
        f"The riskiest purchase, {worst.symbol}, is rated {rating}; a {level} client may buy up to"
        f" {allowed}.",
        f"{worst.symbol} is rated {rating} but a {level} client may only buy products rated up to {allowed}.",
    )


def _complex_products(facts: Facts, policy: Policy, buys: list[Trade]) -> RuleResult:
    p = facts.profile
    complex_buys = sorted({t.symbol for t in buys if facts.securities[t.symbol].is_complex})
    threshold = {
        "min_experience": policy.complex_min_experience,
        "risk_levels": sorted(policy.complex_risk_levels),
    }
    experienced = EXPERIENCE_LEVELS.index(p.investment_experience) >= EXPERIENCE_LEVELS.index(
        policy.complex_min_experience
    )
    eligible = experienced and p.risk_level in policy.complex_risk_levels
    return _result(
        "complex_products",
        bool(complex_buys) and not eligible,
        threshold,
        complex_buys,
        "No complex or leveraged product is bought."
        if not complex_buys
        else f"The client qualifies for complex products ({', '.join(complex_buys)}).",
        f"{', '.join(complex_buys)} is complex or leveraged; the client needs {policy.complex_min_experience}"
        f" experience and a risk level in {', '.join(sorted(policy.complex_risk_levels))}.",
    )


def _liquidity(facts: Facts, policy: Policy, before: _Book, after: _Book, buys: list[Trade]) -> RuleResult:
    illiquid = {s for s, sec in facts.securities.items() if sec.liquidity in policy.illiquid_liquidity}
    bought = sorted({t.symbol for t in buys} & illiquid)
    share_before = before.share(sum((v for s, v in before.values.items() if s in illiquid), ZERO))
    share_after = after.share(sum((v for s, v in after.values.items() if s in illiquid), ZERO))
    threshold = {
        "max_share": _s(policy.illiquid_max_share),
        "blocked_for": sorted(policy.illiquid_blocked_needs),
    }
    if bought and facts.profile.liquidity_needs in policy.illiquid_blocked_needs:
        return RuleResult(
            "liquidity",
            "fail",
            threshold,
            _s(share_after),
            f"The client has {facts.profile.liquidity_needs} liquidity needs and {', '.join(bought)}"
            " is illiquid.",
        )
    over = share_after > policy.illiquid_max_share and share_after > share_before
    return _result(
        "liquidity",
        over,
        threshold,
        _s(share_after),
        f"Illiquid products are {pct(share_after)} of the portfolio after the trades.",
        f"Illiquid products would rise to {pct(share_after)}, above the"
        f" {pct(policy.illiquid_max_share)} limit.",
        worse="needs_review",
    )


def _cap(
    rule: str,
    label: str,
    before: Mapping[str, Decimal],
    after: Mapping[str, Decimal],
    after_book: _Book,
    cap: Decimal,
) -> RuleResult:
    """Fail when a holding (or sector) the trades increase ends above the cap; report its weight after."""
    raised = [k for k, v in after.items() if v > before.get(k, ZERO)]
    pool = raised or list(after)
    if not pool:
        return RuleResult(rule, "pass", _s(cap), None, f"No {label} is held after the trades.")
    worst = max(pool, key=lambda k: (after[k], k))
    weight = after_book.share(after[worst])
    if raised and weight > cap:
        return RuleResult(
            rule,
            "fail",
            _s(cap),
            _s(weight),
            f"{worst} would be {pct(weight)} of the portfolio after the trades, above the {pct(cap)}"
            f" {label} cap.",
        )
    if raised:
        text = f"The largest {label} the trades increase, {worst}, would be {pct(weight)} (cap {pct(cap)})."
    else:
        text = f"No trade increases a {label}; the largest, {worst}, would be {pct(weight)} (cap {pct(cap)})."
    return RuleResult(rule, "pass", _s(cap), _s(weight), text)


def _single_issuers(facts: Facts, policy: Policy, book: _Book) -> dict[str, Decimal]:
    return {
        s: v for s, v in book.values.items() if facts.securities[s].sector not in policy.cap_exempt_sectors
    }


def _sectors(facts: Facts, policy: Policy, book: _Book) -> dict[str, Decimal]:
    return {k: v for k, v in book.by(facts, "sector").items() if k not in policy.cap_exempt_sectors}


def _asset_class_bands(facts: Facts, policy: Policy, before: _Book, after: _Book) -> RuleResult:
    model = policy.asset_class_bands.get(facts.profile.risk_level, {})
    if not model:
        return RuleResult(
            "asset_class_bands",
            "pass",
            None,
            None,
            f"The policy sets no bands for {facts.profile.risk_level}.",
        )
    pre = {**before.by(facts, "asset_class")}
    post = {**after.by(facts, "asset_class")}
    pre["cash_equivalent"] = pre.get("cash_equivalent", ZERO) + before.cash
    post["cash_equivalent"] = post.get("cash_equivalent", ZERO) + after.cash
    threshold = {c: {"target": str(b.target), "band": str(b.band)} for c, b in sorted(model.items())}
    value = {c: _s(after.share(v)) for c, v in sorted(post.items()) if v != 0}
    worse, outside = [], []
    for cls in sorted(set(model) | set(post)):
        target = model[cls].target if cls in model else ZERO
        band = model[cls].band if cls in model else ZERO
        gap_after = abs(after.share(post.get(cls, ZERO)) - target)
        gap_before = abs(before.share(pre.get(cls, ZERO)) - target)
        if gap_after > band:
            outside.append(cls)
            if gap_after > gap_before:
                worse.append(cls)
    if worse:
        return RuleResult(
            "asset_class_bands",
            "fail",
            threshold,
            value,
            f"The trades move {', '.join(worse)} further outside the {facts.profile.risk_level}"
            " model's bands.",
        )
    if outside:
        return RuleResult(
            "asset_class_bands",
            "needs_review",
            threshold,
            value,
            f"{', '.join(outside)} stays outside the model's bands after the trades, though no further"
            " from its target.",
        )
    return RuleResult(
        "asset_class_bands",
        "pass",
        threshold,
        value,
        "Every asset class is within its model band after the trades.",
    )


def _equity_for_age_and_horizon(facts: Facts, policy: Policy, before: _Book, after: _Book) -> RuleResult:
    p = facts.profile
    limit = policy.equity_by_time_horizon[p.time_horizon]
    reason = f"a {p.time_horizon} time horizon"
    if p.age >= policy.equity_age_from and policy.equity_age_max_share < limit:
        limit, reason = policy.equity_age_max_share, f"age {p.age}"
    eq_before = before.share(before.by(facts, "asset_class").get("equity", ZERO))
    eq_after = after.share(after.by(facts, "asset_class").get("equity", ZERO))
    return _result(
        "equity_for_age_and_horizon",
        eq_after > limit and eq_after > eq_before,
        _s(limit),
        _s(eq_after),
        f"Equities are {pct(eq_after)} after the trades; the limit for {reason} is {pct(limit)}.",
        f"Equities would rise to {pct(eq_after)}, above the {pct(limit)} suited to {reason}.",
        worse="needs_review",
    )


def _trade_frequency(facts: Facts, policy: Policy, trades: list[Trade]) -> RuleResult:
    count = facts.recent_trades + len(trades)
    days = policy.frequency_window_days
    return _result(
        "trade_frequency",
        count > policy.frequency_max_trades,
        policy.frequency_max_trades,
        count,
        f"{count} trades in {days} days including these, within the limit of {policy.frequency_max_trades}.",
        f"{count} trades in {days} days including these exceeds {policy.frequency_max_trades}:"
        " possible churning.",
        worse="needs_review",
    )


def rules(facts: Facts, policy: Policy, trades: Iterable[Trade]) -> tuple[RuleResult, ...]:
    """The twelve rules of this version, in their order."""
    trades = list(trades)
    buys = [t for t in trades if t.side == "buy"]
    before, after, change = _books(facts, trades)
    return (
        _holdings_sufficient(facts, change),
        _cash_sufficient(before, after),
        _restricted_list(policy, trades),
        _client_restrictions(facts, buys),
        _product_risk(facts, policy, buys),
        _complex_products(facts, policy, buys),
        _liquidity(facts, policy, before, after, buys),
        _cap(
            "single_position_cap",
            "single-position",
            _single_issuers(facts, policy, before),
            _single_issuers(facts, policy, after),
            after,
            policy.single_position_cap,
        ),
        _cap(
            "sector_cap",
            "sector",
            _sectors(facts, policy, before),
            _sectors(facts, policy, after),
            after,
            policy.sector_cap,
        ),
        _asset_class_bands(facts, policy, before, after),
        _equity_for_age_and_horizon(facts, policy, before, after),
        _trade_frequency(facts, policy, trades),
    )
