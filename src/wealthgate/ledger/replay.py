"""Replaying a ledger: a pure function of transactions -> cash and positions, with average cost and FIFO lots.

Conventions (see ledger/models.py): `amount` is the signed net cash effect; buys and sells carry a positive
quantity; a transfer's quantity is signed (+ in, - out). Average cost: a buy adds the cash it cost
(its amount: quantity x price to the cent, plus fees) to the position's cost basis; a sale removes the
sold fraction of it, and what it brought in beyond that fraction is realized gain. A correction is a reversing
entry that names the original (`reverses_id`): replay skips both, so a reversed pair has no effect at all.

FIFO lots, kept alongside: every acquisition (a buy; a transfer in, at quantity x price) opens a lot costing
exactly what the average-cost method added for it, so both methods start from the same total cost. A sale
(or a transfer out) consumes the oldest open lots first; FIFO realized gain is the sale's proceeds less the
lot cost it removed. A lot's open cost is always round(cost x open quantity / quantity) (`to_money`, as
average cost rounds): a consumption removes the difference, so a lot's removed and open costs add up to its
cost exactly, and a fully consumed lot leaves nothing. Short positions (only where an account allows
shorting) hold no lots: a sale beyond the open lots realizes only the share of its proceeds that the lots
covered, and a buy covers the short before opening a lot for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
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
    trade_date: date | None = None  # when a lot it opens was acquired

    @classmethod
    def from_row(cls, r: Row) -> Entry:
        """From a `transactions` row (a record or mapping of its columns, id, reverses_id, trade_date too)."""
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
            r["trade_date"],
        )


@dataclass(slots=True)
class Lot:
    """An open tax lot: what one acquisition still holds."""

    acquired_on: date | None
    quantity: Decimal  # acquired
    cost: Decimal  # what the acquisition cost (fees included), as average cost added it
    open_quantity: Decimal
    open_cost: Decimal  # round(cost x open_quantity / quantity)
    opened_by: int | None = None  # the transaction id

    def take(self, quantity: Decimal) -> Decimal:
        """Consume `quantity` (at most what is open); returns the cost it removes."""
        self.open_quantity -= quantity
        remaining = to_money(self.cost * self.open_quantity / self.quantity) if self.open_quantity else ZERO
        removed = self.open_cost - remaining
        self.open_cost = remaining
        return removed


@dataclass(slots=True)
class Holding:
    quantity: Decimal = ZERO
    cost_basis: Decimal = ZERO
    realized_gain: Decimal = ZERO  # proceeds of sales (after fees) less the average cost they removed
    lots: list[Lot] = field(default_factory=list)  # open FIFO lots, oldest first
    fifo_realized_gain: Decimal = ZERO  # proceeds of sales (after fees) less the lot cost they removed

    @property
    def fifo_cost_basis(self) -> Decimal:
        return sum((lot.open_cost for lot in self.lots), ZERO)

    def acquire(self, e: Entry, quantity: Decimal, cost: Decimal) -> None:
        """Open a lot for `quantity` (less any short it covers) costing `cost` (pro rata when it covers)."""
        opened = quantity - min(quantity, max(-self.quantity, ZERO))
        if opened <= 0:
            return
        if opened != quantity:
            cost = to_money(cost * opened / quantity)
        self.lots.append(Lot(e.trade_date, opened, cost, opened, cost, e.id))

    def consume(self, quantity: Decimal) -> tuple[Decimal, Decimal]:
        """Take `quantity` from the oldest lots; returns (quantity taken, cost removed)."""
        taken = removed = ZERO
        while self.lots and taken < quantity:
            lot = self.lots[0]
            q = min(lot.open_quantity, quantity - taken)
            removed += lot.take(q)
            taken += q
            if lot.open_quantity == 0:
                del self.lots[0]
        return taken, removed


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
            before = h.cost_basis
            h.cost_basis = to_money(h.cost_basis - e.amount)
            h.acquire(e, e.quantity, h.cost_basis - before)
            h.quantity += e.quantity
        elif e.type == "sell":
            if h.quantity > 0:
                remaining = to_money(h.cost_basis * (h.quantity - e.quantity) / h.quantity)
                h.realized_gain += e.amount - (h.cost_basis - remaining)
                h.cost_basis = remaining
            taken, removed = h.consume(e.quantity)
            if taken:
                proceeds = e.amount if taken == e.quantity else to_money(e.amount * taken / e.quantity)
                h.fifo_realized_gain += proceeds - removed
            h.quantity -= e.quantity
        elif e.type == "transfer":
            if e.quantity > 0:
                before = h.cost_basis
                h.cost_basis = to_money(h.cost_basis + e.quantity * (e.price or ZERO))
                h.acquire(e, e.quantity, h.cost_basis - before)
            else:
                if h.quantity > 0:
                    h.cost_basis = to_money(h.cost_basis * (h.quantity + e.quantity) / h.quantity)
                h.consume(-e.quantity)
            h.quantity += e.quantity
        if h.quantity == 0:
            h.cost_basis = ZERO

    def open_holdings(self) -> dict[tuple[int, str], Holding]:
        return {k: h for k, h in self.holdings.items() if h.quantity != 0}


def effective(entries: Iterable[Entry]) -> list[Entry]:
    """The entries (in order: trade date, then id) that count: reversed pairs left out."""
    ordered = list(entries)
    reversed_ids = {e.reverses_id for e in ordered if e.reverses_id is not None}
    return [e for e in ordered if e.reverses_id is None and (e.id is None or e.id not in reversed_ids)]


def replay(entries: Iterable[Entry]) -> Book:
    """Apply entries in order (trade date, then id), leaving out reversed pairs."""
    book = Book()
    for e in effective(entries):
        book.apply(e)
    return book
