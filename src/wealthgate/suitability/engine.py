"""The suitability check: a pure function (facts, policy, trades) -> verdict. No I/O, no clock.

Facts are what the firm knew when the check ran: the client's whole profile (Reg BI's investment profile:
age, other investments, financial situation and needs, tax status, objectives, experience, time horizon,
liquidity needs, risk tolerance), client-level holdings (all accounts), cash, the securities involved with the
prices used, and the client's recent trading. Trades are valued at those prices (see `book.py`).

Every rule is evaluated and reported, whatever the others say: `fail` blocks, `needs_review` sends the
recommendation to a person, the verdict is the worst outcome. A rule never fails a trade that moves the book
toward compliance.

Versions: `ENGINE_VERSION` is stored with every recommendation, and a verdict is replayed by the rule set of
the version it was stored under (`RULE_SETS`). A version's rule set never changes once released: the rules of
2026-11-25.1 live frozen in `engine_2026_11_25.py`; changing a rule, its wording or a default makes a new
version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from wealthgate.errors import Invalid
from wealthgate.suitability import engine_2026_11_25, portfolio_rules, product_rules, wealth_rules
from wealthgate.suitability.book import Case, quantity_of
from wealthgate.suitability.facts import (
    OUTCOMES,
    Activity,
    Facts,
    Profile,
    RuleResult,
    Security,
    Trade,
    Verdict,
)
from wealthgate.suitability.policy import Policy

__all__ = [
    "ENGINE_VERSION",
    "OLDEST_ENGINE",
    "OUTCOMES",
    "RULES",
    "RULE_SETS",
    "Activity",
    "Facts",
    "Profile",
    "RuleResult",
    "Security",
    "Trade",
    "Verdict",
    "evaluate",
    "quantity_of",
]

ENGINE_VERSION = "2026-12-02.1"
OLDEST_ENGINE = engine_2026_11_25.VERSION  # what a snapshot naming no engine version was judged by

# The current rule set, in the order it is reported, each with the engine version it entered in (a rule of
# the first version appears here in its reworked form: plain decimals, the caps weigh leveraged funds by
# exposure, the band rule sends a liquidation to review).
RULES: tuple[tuple[str, str, Callable[[Case], RuleResult]], ...] = (
    ("holdings_sufficient", OLDEST_ENGINE, portfolio_rules.holdings_sufficient),
    ("cash_sufficient", OLDEST_ENGINE, wealth_rules.cash_sufficient),
    ("margin", ENGINE_VERSION, wealth_rules.margin),
    ("restricted_list", OLDEST_ENGINE, product_rules.restricted_list),
    ("client_restrictions", OLDEST_ENGINE, product_rules.client_restrictions),
    ("product_risk", OLDEST_ENGINE, product_rules.product_risk),
    ("investment_objective", ENGINE_VERSION, product_rules.investment_objective),
    ("complex_products", OLDEST_ENGINE, product_rules.complex_products),
    ("complex_for_age_and_horizon", ENGINE_VERSION, product_rules.complex_for_age_and_horizon),
    ("leveraged_holding_period", ENGINE_VERSION, product_rules.leveraged_holding_period),
    ("options_approval", ENGINE_VERSION, product_rules.options_approval),
    ("liquidity", OLDEST_ENGINE, portfolio_rules.liquidity),
    ("accredited_investor", ENGINE_VERSION, product_rules.accredited_investor),
    ("tax_status", ENGINE_VERSION, product_rules.tax_status),
    ("trade_size", ENGINE_VERSION, wealth_rules.trade_size),
    ("single_position_cap", OLDEST_ENGINE, portfolio_rules.single_position_cap),
    ("sector_cap", OLDEST_ENGINE, portfolio_rules.sector_cap),
    ("net_worth_concentration", ENGINE_VERSION, wealth_rules.net_worth_concentration),
    ("asset_class_bands", OLDEST_ENGINE, portfolio_rules.asset_class_bands),
    ("equity_for_age_and_horizon", OLDEST_ENGINE, portfolio_rules.equity_for_age_and_horizon),
    ("trade_frequency", OLDEST_ENGINE, portfolio_rules.trade_frequency),
    ("turnover_and_cost", ENGINE_VERSION, wealth_rules.turnover_and_cost),
    ("liquidation", ENGINE_VERSION, portfolio_rules.liquidation),
)


def _current(facts: Facts, policy: Policy, trades: Iterable[Trade]) -> tuple[RuleResult, ...]:
    case = Case(facts, policy, tuple(trades))
    return tuple(rule(case) for _name, _since, rule in RULES)


RULE_SETS: dict[str, Callable[[Facts, Policy, Iterable[Trade]], tuple[RuleResult, ...]]] = {
    engine_2026_11_25.VERSION: engine_2026_11_25.rules,
    ENGINE_VERSION: _current,
}


def evaluate(
    facts: Facts, policy: Policy, trades: Iterable[Trade], *, engine_version: str = ENGINE_VERSION
) -> Verdict:
    """Every rule of `engine_version` (the current one unless a replay names another) over the trades; the
    verdict is the worst outcome. Every traded symbol must be in facts."""
    rule_set = RULE_SETS.get(engine_version)
    if rule_set is None:
        raise Invalid(
            f"engine version {engine_version!r} is not one this service knows", field="engine_version"
        )
    rules = rule_set(facts, policy, trades)
    verdict = max((r.outcome for r in rules), key=OUTCOMES.index)
    return Verdict(verdict, rules, facts.as_of)
