"""The client's book as a rebalance's trades so far leave it: quantities and cash per account. Pure, private
to one proposal.

Each trade is a leg (side, account, symbol); a further trade on the same leg adds to it, so a proposal ends
with at most one sell per holding and one buy per account and symbol. Cash moves by each leg's value rounded
to the cent, as the suitability engine and the ledger value a trade, so the cash shown after the trades is
what the accounts would hold at these prices (fees aside). Prices never change within a proposal, so the
book's total value is taken as fixed; weights here are exact (not rounded) shares of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from wealthgate.money import QUANTITY_PLACES, to_cents
from wealthgate.portfolios.analytics import CASH_CLASS, Holding, Valuation, value

ZERO = Decimal(0)
Leg = tuple[str, int, str]  # side, account id, symbol


@dataclass(frozen=True, slots=True)
class Candidate:
    """A security the rebalance may trade, at its latest price."""

    symbol: str
    name: str
    asset_class: str
    sector: str
    region: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class Trade:
    side: str
    symbol: str
    asset_class: str
    quantity: Decimal
    price: Decimal
    estimated_value: Decimal
    account_id: int
    reason: str


def shares(amount: Decimal, price: Decimal, fractional: bool, *, up: bool = False) -> Decimal:
    """Shares worth `amount` at `price`: whole ones unless fractional; rounded down, or up with `up`."""
    rounding = ROUND_CEILING if up else ROUND_FLOOR
    raw = amount / price
    return raw.quantize(QUANTITY_PLACES, rounding=rounding) if fractional else raw.to_integral_value(rounding)


class Draft:
    """Quantities per (account, symbol) and cash per account after the legs so far."""

    def __init__(self, v: Valuation, candidates: Iterable[Candidate]) -> None:
        self.total = v.total_value
        self.as_of = v.as_of
        self.account_types = dict(v.account_types)
        self.base_cash = dict(v.cash)
        self.cash = dict(self.base_cash)
        for a in self.account_types:
            self.cash.setdefault(a, ZERO)
            self.base_cash.setdefault(a, ZERO)
        self.listing: dict[str, Candidate] = {c.symbol: c for c in candidates}
        self.base: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        self.cost: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        self.unpriced: dict[str, str] = {}  # held without a price: never traded, valued at nothing
        for item in v.holdings:
            h = item.holding
            self.base[(h.account_id, h.symbol)] += h.quantity
            self.cost[(h.account_id, h.symbol)] += h.cost_basis
            if h.price is None:
                self.unpriced[h.symbol] = h.asset_class
            elif h.symbol not in self.listing:
                self.listing[h.symbol] = Candidate(
                    h.symbol, h.name, h.asset_class, h.sector, h.region, h.price
                )
        self.legs: dict[Leg, Decimal] = {}
        self.reasons: dict[Leg, str] = {}

    def copy(self) -> Draft:
        other = object.__new__(Draft)
        other.__dict__.update(self.__dict__)
        other.cash, other.legs, other.reasons = dict(self.cash), dict(self.legs), dict(self.reasons)
        return other

    # -- trading -------------------------------------------------------------------------------------------
    def price(self, symbol: str) -> Decimal:
        return self.listing[symbol].price

    def trade(self, side: str, account: int, symbol: str, quantity: Decimal, reason: str) -> None:
        """Add `quantity` (negative to take back) to the leg; cash moves by the change in the leg's value."""
        key = (side, account, symbol)
        old = self.legs.get(key, ZERO)
        new = old + quantity
        p = self.price(symbol)
        delta = to_cents(new * p) - to_cents(old * p)
        self.cash[account] += -delta if side == "buy" else delta
        if new == 0:
            self.legs.pop(key, None)
            self.reasons.pop(key, None)
        else:
            self.legs[key] = new
            self.reasons.setdefault(key, reason)

    def leg(self, side: str, account: int, symbol: str) -> Decimal:
        return self.legs.get((side, account, symbol), ZERO)

    def leg_value(self, side: str, account: int, symbol: str) -> Decimal:
        return to_cents(self.leg(side, account, symbol) * self.price(symbol))

    def bought(self) -> set[str]:
        return {s for side, _, s in self.legs if side == "buy"}

    def sold(self) -> set[str]:
        return {s for side, _, s in self.legs if side == "sell"}

    # -- the book after the legs -----------------------------------------------------------------------------
    def quantity(self, account: int, symbol: str) -> Decimal:
        return (
            self.base.get((account, symbol), ZERO)
            + self.legs.get(("buy", account, symbol), ZERO)
            - self.legs.get(("sell", account, symbol), ZERO)
        )

    def positions(self) -> dict[tuple[int, str], Decimal]:
        keys = set(self.base) | {(a, s) for _, a, s in self.legs}
        return {k: q for k in sorted(keys) if (q := self.quantity(*k)) != 0}

    def holdings(self, asset_class: str | None = None) -> list[tuple[int, str, Decimal]]:
        """Priced positions (account, symbol, quantity), of one class or all."""
        return [
            (a, s, q)
            for (a, s), q in self.positions().items()
            if q > 0
            and s in self.listing
            and (asset_class is None or self.listing[s].asset_class == asset_class)
        ]

    def by(self, attribute: str) -> dict[str, Decimal]:
        """Exact value per symbol, sector or asset_class (account cash counts as the cash class)."""
        out: dict[str, Decimal] = defaultdict(Decimal)
        for (_, s), q in self.positions().items():
            if s in self.listing:
                listing = self.listing[s]
                out[s if attribute == "symbol" else getattr(listing, attribute)] += q * listing.price
        if attribute == "asset_class":
            out[CASH_CLASS] += self.cash_total()
        return dict(out)

    def cash_total(self) -> Decimal:
        return sum(self.cash.values(), ZERO)

    def trades(self) -> list[Trade]:
        """Sells first (they fund the buys), then buys; each in account and symbol order."""
        out = []
        for (side, account, symbol), q in sorted(
            self.legs.items(), key=lambda kv: (kv[0][0] != "sell", kv[0])
        ):
            c = self.listing[symbol]
            out.append(
                Trade(
                    side,
                    symbol,
                    c.asset_class,
                    q,
                    c.price,
                    to_cents(q * c.price),
                    account,
                    self.reasons[(side, account, symbol)],
                )
            )
        return out

    def valuation(self, v: Valuation) -> Valuation:
        """The book after the legs, valued like the original (`analytics.value`)."""
        held = {(i.holding.account_id, i.holding.symbol): i.holding for i in v.holdings}
        out: list[Holding] = []
        for (a, s), q in self.positions().items():
            if (a, s) in held:
                h = held[(a, s)]
                out.append(
                    Holding(
                        a,
                        h.account_type,
                        s,
                        h.name,
                        h.asset_class,
                        h.sector,
                        h.region,
                        q,
                        h.cost_basis,
                        h.price,
                        h.price_date,
                    )
                )
            else:
                c = self.listing[s]
                out.append(
                    Holding(
                        a,
                        self.account_types.get(a, "taxable"),
                        s,
                        c.name,
                        c.asset_class,
                        c.sector,
                        c.region,
                        q,
                        ZERO,
                        c.price,
                        v.as_of,
                    )
                )
        return value(out, self.cash, self.account_types, v.as_of)


def merged(trades: Iterable[Trade]) -> dict[tuple[str, str], Decimal]:
    """Quantity per (side, symbol), accounts summed: the trades as the suitability check and a recommendation
    take them."""
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for t in trades:
        out[(t.side, t.symbol)] += t.quantity
    return dict(out)


def weights_of(values: Mapping[str, Decimal], total: Decimal) -> dict[str, Decimal]:
    return {k: (v / total if total > 0 else ZERO) for k, v in values.items()}
