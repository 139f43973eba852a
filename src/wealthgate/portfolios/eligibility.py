"""Which securities a rebalance may buy for a client, and in plain words why not. Pure.

The same tests the firm's suitability engine applies to a purchase (`suitability/engine.py`), read from the
same policy and profile, so the rebalancer never sizes a trade the check would refuse: the firm's restricted
list, the client's excluded symbols and sectors, the product risk rating against the client's risk level and
investment objective, complex products, illiquid products against the client's liquidity needs, private
alternatives for accredited investors only, and tax-exempt income for a tax-exempt client. One rule is the
rebalancer's own: it never buys a complex, leveraged or inverse product, even for a client who may hold one,
because a model allocation is held for years and such products are built for days. The engine still has the
last word on every proposal.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from wealthgate.suitability.engine import Profile, Security
from wealthgate.suitability.policy import Policy

# Account types whose income is not taxed as it arises: where income-producing assets are placed first.
TAX_ADVANTAGED = frozenset({"ira", "roth_ira", "401k"})
# Classes whose return is mostly income taxed at ordinary rates (coupons, REIT distributions): placed first in
# tax-advantaged accounts, except tax-exempt income (municipal bonds), which is wasted there.
INCOME_CLASSES = frozenset({"fixed_income", "real_estate"})


def refusal(
    symbol: str,
    securities: Mapping[str, Security],
    profile: Profile,
    policy: Policy,
    extra_symbols: frozenset[str] = frozenset(),
    extra_sectors: frozenset[str] = frozenset(),
) -> str | None:
    """Why `symbol` may not be bought for this client (a phrase naming the cause), or None when it may."""
    sec = securities.get(symbol)
    if sec is None:
        return "is not in the security master"
    limit = policy.max_product_risk.get(profile.risk_level, 0)
    objective = profile.investment_objective
    suited = policy.objective_max_product_risk.get(objective, 5) if objective else 5
    illiquid = sec.liquidity in policy.illiquid_liquidity
    accredited = (profile.net_worth or 0) >= policy.accredited_min_net_worth or (
        profile.annual_income or 0
    ) >= policy.accredited_min_annual_income
    private = (
        sec.asset_class in policy.accredited_asset_classes and sec.liquidity in policy.accredited_liquidity
    )
    goal = (objective or "").replace("_", " ")
    checks = (
        (sec.price <= 0, "has no price"),
        (symbol in policy.restricted_symbols, "is on the firm's restricted list"),
        (symbol in profile.excluded_symbols or symbol in extra_symbols, "is excluded by the client"),
        (
            sec.sector in profile.excluded_sectors or sec.sector in extra_sectors,
            f"is in {sec.sector}, a sector the client excluded",
        ),
        (
            sec.risk_rating > limit,
            f"is rated {sec.risk_rating}, above the {limit} a {profile.risk_level} client may buy",
        ),
        (
            sec.risk_rating > suited,
            f"is rated {sec.risk_rating}, above the {suited} suited to an objective of {goal}",
        ),
        (sec.complex, "is complex, leveraged or inverse, which a rebalance never buys"),
        (
            illiquid and profile.liquidity_needs in policy.illiquid_blocked_needs,
            f"is illiquid and the client has {profile.liquidity_needs} liquidity needs",
        ),
        (private and not accredited, "is for accredited investors, which the client is not on record as"),
        (
            sec.sector in policy.tax_exempt_income_sectors and profile.tax_status == "tax_exempt",
            "pays tax-exempt income, which brings a tax-exempt client nothing",
        ),
    )
    return next((why for refused, why in checks if refused), None)


def equity_limit(profile: Profile, policy: Policy) -> tuple[Decimal, str]:
    """The equity share the policy suits to the client's time horizon and age, and the reason in words."""
    limit = policy.equity_by_time_horizon.get(profile.time_horizon, Decimal(1))
    reason = f"a {profile.time_horizon} time horizon"
    if profile.age >= policy.equity_age_from and policy.equity_age_max_share < limit:
        limit, reason = policy.equity_age_max_share, f"age {profile.age}"
    return limit, reason
