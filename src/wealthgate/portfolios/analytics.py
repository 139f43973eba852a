"""Valuation, allocation and drift: pure functions of plain data (no I/O), property-tested.

Conventions: market value = round(quantity x price, 2); weights are shares of total value (holdings plus cash)
rounded to 6 places. Both follow the service's one rounding rule (money.py: half away from zero, as PostgreSQL
rounds, so the context's SQL shows the same figures), each weight on its own: a set of weights may therefore
add up to 1 give or take a few millionths (at most half a millionth per weight), as on a statement, and is
never forced to 1.000000 by moving a tie the wrong way. Drift bands are judged on the exact shares; only the
figures shown are rounded.
Account cash counts as the `cash_equivalent` asset class (and sector/region "Cash") for allocation and drift.
A price older than `STALE_AFTER_DAYS` before the valuation date is flagged stale; a holding with no price at
all is flagged and valued at nothing, never silently dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from wealthgate.money import to_cents, to_weight

STALE_AFTER_DAYS = 5
CASH_CLASS = "cash_equivalent"


@dataclass(frozen=True, slots=True)
class Holding:
    account_id: int
    account_type: str
    symbol: str
    name: str
    asset_class: str
    sector: str
    region: str
    quantity: Decimal
    cost_basis: Decimal
    price: Decimal | None
    price_date: date | None


@dataclass(frozen=True, slots=True)
class Valued:
    holding: Holding
    market_value: Decimal | None
    unrealized_gain: Decimal | None
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Valuation:
    as_of: date
    holdings: tuple[Valued, ...]
    cash: Mapping[int, Decimal]  # per account
    account_types: Mapping[int, str]

    @property
    def holdings_value(self) -> Decimal:
        return sum((v.market_value for v in self.holdings if v.market_value is not None), Decimal(0))

    @property
    def cash_total(self) -> Decimal:
        return sum(self.cash.values(), Decimal(0))

    @property
    def total_value(self) -> Decimal:
        return self.holdings_value + self.cash_total


def value(
    holdings: Iterable[Holding], cash: Mapping[int, Decimal], account_types: Mapping[int, str], as_of: date
) -> Valuation:
    valued = []
    for h in holdings:
        flags: list[str] = []
        if h.price is None:
            flags.append("price_missing")
            mv = gain = None
        else:
            mv = to_cents(h.quantity * h.price)
            gain = mv - h.cost_basis
            if h.price_date is not None and (as_of - h.price_date).days > STALE_AFTER_DAYS:
                flags.append("price_stale")
        valued.append(Valued(h, mv, gain, tuple(flags)))
    return Valuation(as_of, tuple(valued), dict(cash), dict(account_types))


def shares(amounts: Mapping[str, Decimal], total: Decimal) -> dict[str, Decimal]:
    """Exact shares of `total` (zero when total is not positive). Division keeps 28 significant digits: for
    cents over a total below 10^16 any share that differs from a 4-place target +/- band differs from it by
    more than 10^-22, so a comparison with a band is decided exactly."""
    if total <= 0:
        return {k: Decimal(0) for k in amounts}
    return {k: v / total for k, v in amounts.items()}


def weights(amounts: Mapping[str, Decimal], total: Decimal) -> dict[str, Decimal]:
    """Shares of `total` as shown: each rounded to 6 places by the one rule (half away from zero)."""
    return {k: to_weight(x) for k, x in shares(amounts, total).items()}


def allocation(v: Valuation, *, exact: bool = False) -> dict[str, dict[str, Decimal]]:
    """Weights by asset class, sector, region and account type, rounded to 6 places; with `exact`, the
    unrounded shares (what drift bands and limits are judged on)."""
    sums: dict[str, dict[str, Decimal]] = {
        d: defaultdict(Decimal) for d in ("asset_class", "sector", "region", "account_type")
    }
    for item in v.holdings:
        if item.market_value is None:
            continue
        h = item.holding
        sums["asset_class"][h.asset_class] += item.market_value
        sums["sector"][h.sector] += item.market_value
        sums["region"][h.region] += item.market_value
        sums["account_type"][h.account_type] += item.market_value
    for account, amount in v.cash.items():
        if amount:
            sums["asset_class"][CASH_CLASS] += amount
            sums["sector"]["Cash"] += amount
            sums["region"]["Cash"] += amount
            sums["account_type"][v.account_types.get(account, "unknown")] += amount
    total = v.total_value
    share = shares if exact else weights
    return {dim: share(dict(parts), total) for dim, parts in sums.items()}


@dataclass(frozen=True, slots=True)
class Drift:
    asset_class: str
    target: Decimal
    actual: Decimal
    difference: Decimal
    band: Decimal
    in_band: bool


def drift(by_class: Mapping[str, Decimal], model: Mapping[str, tuple[Decimal, Decimal]]) -> list[Drift]:
    """Actual vs target per asset class of the model (and any class held outside it, target 0, band 0).

    `in_band` is judged on `by_class` as given, so give it exact shares (`allocation(v, exact=True)`): a
    share 0.0000004 beyond its band is out of it, though it shows as on the edge once rounded. `actual` and
    `difference` are the figures shown, rounded to 6 places."""
    classes = sorted(set(model) | {c for c, w in by_class.items() if w})
    out = []
    for c in classes:
        target, band = model.get(c, (Decimal(0), Decimal(0)))
        actual = by_class.get(c, Decimal(0))
        diff = actual - target
        out.append(Drift(c, target, to_weight(actual), to_weight(diff), band, abs(diff) <= band))
    return out
