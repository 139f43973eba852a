"""Replaying a ledger: a pure function of transactions -> cash and positions with average cost.

Conventions (see ledger/models.py): `amount` is the signed net cash effect; buys and sells carry a positive
quantity; a transfer's quantity is signed (+ in, - out). Average cost: a buy adds the cash it cost
(its amount: quantity x price to the cent, plus fees) to the position's cost basis; a sale removes the
sold fraction of it, and what it brought in beyond that fraction is realized gain. A correction is a reversing
entry that names the original (`reverses_id`): replay skips both, so a reversed pair has no effect at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from wealthgate.money import to_money

ZERO = Decimal(0)


class Row(Protocol):
    """A `transactions` row: a database record or a plain mapping of its columns."""

    def __getitem__(self, key: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Entry:
    """One posted transaction, reduced to what replay needs."""

    account_id: int
    type: str
    symbol: str | None
    quantity: Decimal | None
    price: Decimal | None
    amount: Decimal
    fees: Decimal = ZERO
    id: int | None = None
    reverses_id: int | None = None

    @classmethod
    def from_row(cls, r: Row) -> Entry:
        """From a `transactions` row (a record or mapping with its columns, id and reverses_id included)."""
        return cls(
            r["account_id"],
            r["type"],
            r["symbol"],
            r["quantity"],
            r["price"],
            r["amount"],
            r["fees"],
            r["id"],
            r["reverses_id"],
        )


@dataclass(slots=True)
class Holding:
    quantity: Decimal = ZERO
    cost_basis: Decimal = ZERO
    realized_gain: Decimal = ZERO  # proceeds of sales (after fees) less the average cost they removed


@dataclass(slots=True)
class Book:
    """Cash per account and holdings per (account, symbol)."""

    cash: dict[int, Decimal] = field(default_factory=dict)
    holdings: dict[tuple[int, str], Holding] = field(default_factory=dict)

    def apply(self, e: Entry) -> None:
        self.cash[e.account_id] = self.cash.get(e.account_id, ZERO) + e.amount
        if e.symbol is None or e.quantity is None:
            return
        key = (e.account_id, e.symbol)
        h = self.holdings.setdefault(key, Holding())
        if e.type == "buy":
            # the cash actually paid (quantity x price rounded to the cent, plus fees) is the cost
            h.cost_basis = to_money(h.cost_basis - e.amount)
            h.quantity += e.quantity
        elif e.type == "sell":
            if h.quantity > 0:
                remaining = to_money(h.cost_basis * (h.quantity - e.quantity) / h.quantity)
                h.realized_gain += e.amount - (h.cost_basis - remaining)
                h.cost_basis = remaining
            h.quantity -= e.quantity
        elif e.type == "transfer":
            if e.quantity > 0:
                h.cost_basis = to_money(h.cost_basis + e.quantity * (e.price or ZERO))
            elif h.quantity > 0:
                h.cost_basis = to_money(h.cost_basis * (h.quantity + e.quantity) / h.quantity)
            h.quantity += e.quantity
        if h.quantity == 0:
            h.cost_basis = ZERO

    def open_holdings(self) -> dict[tuple[int, str], Holding]:
        return {k: h for k, h in self.holdings.items() if h.quantity != 0}


def replay(entries: Iterable[Entry]) -> Book:
    """Apply entries in order (trade date, then id), leaving out reversed pairs."""
    ordered = list(entries)
    reversed_ids = {e.reverses_id for e in ordered if e.reverses_id is not None}
    book = Book()
    for e in ordered:
        if e.reverses_id is not None or (e.id is not None and e.id in reversed_ids):
            continue
        book.apply(e)
    return book
