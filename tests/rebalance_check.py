"""An independent check of rebalance proposals: apply the trades to the accounts' cash and positions, then
test what the firm's policy requires of the book they leave. Shared by the rebalancer's unit and API tests.

Nothing here comes from `wealthgate.portfolios`: the simulator is a ledger in a few lines (a buy takes its
estimated value from its account's cash, a sale brings it), values are exact quantity x price, and the caps
are read straight from the policy's numbers, so a defect in the rebalancer's own arithmetic cannot hide here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

D = Decimal
ZERO = D(0)


@dataclass(frozen=True)
class Listing:
    price: Decimal
    asset_class: str
    sector: str
    leveraged: bool = False


@dataclass
class Book:
    """Cash per account and quantity per (account, symbol), with the securities' prices and attributes."""

    listings: Mapping[str, Listing]
    cash: dict[int, Decimal]
    positions: dict[tuple[int, str], Decimal] = field(default_factory=dict)

    def copy(self) -> Book:
        return Book(self.listings, dict(self.cash), dict(self.positions))

    def values(self, by: str = "symbol") -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for (_, symbol), q in self.positions.items():
            x = self.listings[symbol]
            key = symbol if by == "symbol" else getattr(x, by)
            out[key] += q * x.price
        return dict(out)

    def total(self) -> Decimal:
        return sum(self.values().values(), ZERO) + sum(self.cash.values(), ZERO)

    def class_values(self) -> dict[str, Decimal]:
        out = self.values("asset_class")
        out["cash_equivalent"] = out.get("cash_equivalent", ZERO) + sum(self.cash.values(), ZERO)
        return out


def field_of(trade: Any, name: str) -> Any:
    return trade[name] if isinstance(trade, Mapping) else getattr(trade, name)


def apply(book: Book, trades: Iterable[Any]) -> Book:
    """The book after the trades (objects or JSON dicts); an impossible trade is an AssertionError."""
    after = book.copy()
    for t in trades:
        side, symbol, account = field_of(t, "side"), field_of(t, "symbol"), field_of(t, "account_id")
        quantity, value = D(str(field_of(t, "quantity"))), D(str(field_of(t, "estimated_value")))
        assert account in after.cash, f"{side} {symbol}: account {account!r} is not one of the client's"
        assert quantity > 0, f"{side} {symbol}: quantity {quantity}"
        price = after.listings[symbol].price
        assert D(str(field_of(t, "price"))) == price, f"{symbol} priced {field_of(t, 'price')}, not {price}"
        assert abs(value - quantity * price) <= D("0.005"), f"{symbol}: {value} is not {quantity} x {price}"
        key = (account, symbol)
        if side == "sell":
            assert after.positions.get(key, ZERO) >= quantity, (
                f"sells {quantity} {symbol} not held in {account}"
            )
            after.positions[key] = after.positions.get(key, ZERO) - quantity
            after.cash[account] += value
        else:
            assert side == "buy", side
            after.positions[key] = after.positions.get(key, ZERO) + quantity
            after.cash[account] -= value
    after.positions = {k: q for k, q in after.positions.items() if q != 0}
    return after


def client_level(book: Book, trades: Iterable[Any]) -> tuple[Decimal, dict[str, Decimal]]:
    """Cash and value per symbol after the trades with accounts ignored: what the firm's check sees."""
    cash = sum(book.cash.values(), ZERO)
    values = book.values()
    for t in trades:
        value = D(str(field_of(t, "estimated_value")))
        symbol = field_of(t, "symbol")
        sign = 1 if field_of(t, "side") == "buy" else -1
        cash -= sign * value
        values[symbol] = (
            values.get(symbol, ZERO) + sign * D(str(field_of(t, "quantity"))) * book.listings[symbol].price
        )
    return cash, values


def cap_breaches(
    before: Book,
    after: Book,
    *,
    single_cap: Decimal,
    sector_cap: Decimal,
    exempt_sectors: Iterable[str],
    held_away: Decimal = ZERO,
) -> list[str]:
    """Holdings and sectors the trades raised to above the policy's caps (the firm's rule: a cap binds what
    the trades increase; funds of exempt sectors spread their own risk unless leveraged)."""
    exempt = set(exempt_sectors)
    base = after.total() + held_away
    out = []

    def capped(symbol: str) -> bool:
        x = after.listings[symbol]
        return x.leveraged or x.sector not in exempt

    pre, post = before.values(), after.values()
    for symbol, worth in post.items():
        if capped(symbol) and worth > pre.get(symbol, ZERO) and worth > single_cap * base:
            out.append(f"{symbol} raised to {worth / base:.4f} of the book, above the {single_cap} cap")
    sectors_pre: dict[str, Decimal] = defaultdict(Decimal)
    sectors_post: dict[str, Decimal] = defaultdict(Decimal)
    for values, into in ((pre, sectors_pre), (post, sectors_post)):
        for symbol, worth in values.items():
            if after.listings[symbol].sector not in exempt:
                into[after.listings[symbol].sector] += worth
    for sector, worth in sectors_post.items():
        if worth > sectors_pre.get(sector, ZERO) and worth > sector_cap * base:
            out.append(f"sector {sector} raised to {worth / base:.4f}, above the {sector_cap} cap")
    return out


def merged(trades: Iterable[Any]) -> dict[tuple[str, str], Decimal]:
    """Quantity per (side, symbol), accounts summed: what a recommendation carries."""
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for t in trades:
        out[(field_of(t, "side"), field_of(t, "symbol"))] += D(str(field_of(t, "quantity")))
    return dict(out)
