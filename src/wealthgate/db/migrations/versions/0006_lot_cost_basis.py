"""lots: the open lot's cost basis, and the table filled from the ledger (FIFO replay)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00

Nothing wrote `lots` before this revision. From here it is maintained like `positions` (ledger/lots.py), so the
upgrade fills it with the FIFO replay of every (account, symbol) slice of the ledger already posted, streamed
in ledger order; the downgrade empties it again, as it was. The replay is a frozen copy in this file: a
migration imports nothing from the application.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
COLUMNS = ("opened_by_id", "acquired_on", "quantity", "open_quantity", "unit_cost", "cost_basis")
_SLICES = sa.text(
    "SELECT firm_id, client_id, account_id, symbol, id, trade_date, type, quantity, price, amount, fees,"
    " reverses_id FROM transactions WHERE symbol IS NOT NULL"
    " ORDER BY firm_id, account_id, symbol, trade_date, id"
)
_INSERT = sa.text(
    "INSERT INTO lots (firm_id, client_id, account_id, symbol, "  # noqa: S608  (this revision's COLUMNS; values are bound)
    + ", ".join(COLUMNS)
    + ") VALUES (:firm_id, :client_id, :account_id, :symbol, "
    + ", ".join(f":{c}" for c in COLUMNS)
    + ")"
)

# The FIFO replay as it was on this revision's day, frozen here so that a later change to the application's
# replay cannot change what this upgrade writes (ledger/replay.py explains the conventions).
ZERO = Decimal(0)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def _price(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


@dataclass(slots=True)
class _Lot:
    acquired_on: date
    quantity: Decimal
    cost: Decimal
    open_quantity: Decimal
    open_cost: Decimal
    opened_by: int

    def take(self, quantity: Decimal) -> None:
        self.open_quantity -= quantity
        self.open_cost = (
            _money(self.cost * self.open_quantity / self.quantity) if self.open_quantity else ZERO
        )


@dataclass(slots=True)
class _Holding:
    quantity: Decimal = ZERO
    cost_basis: Decimal = ZERO
    lots: list[_Lot] = field(default_factory=list)

    def acquire(self, r: sa.RowMapping, quantity: Decimal, cost: Decimal) -> None:
        opened = quantity - min(quantity, max(-self.quantity, ZERO))
        if opened <= 0:
            return
        if opened != quantity:
            cost = _money(cost * opened / quantity)
        self.lots.append(_Lot(r["trade_date"], opened, cost, opened, cost, r["id"]))

    def consume(self, quantity: Decimal) -> None:
        taken = ZERO
        while self.lots and taken < quantity:
            lot = self.lots[0]
            q = min(lot.open_quantity, quantity - taken)
            lot.take(q)
            taken += q
            if lot.open_quantity == 0:
                del self.lots[0]

    def apply(self, r: sa.RowMapping) -> None:
        quantity, kind = r["quantity"], r["type"]
        if quantity is None:
            return
        if kind == "buy":
            before = self.cost_basis
            self.cost_basis = _money(self.cost_basis - r["amount"])
            self.acquire(r, quantity, self.cost_basis - before)
            self.quantity += quantity
        elif kind == "sell":
            if self.quantity > 0:
                self.cost_basis = _money(self.cost_basis * (self.quantity - quantity) / self.quantity)
            self.consume(quantity)
            self.quantity -= quantity
        elif kind == "transfer":
            if quantity > 0:
                before = self.cost_basis
                self.cost_basis = _money(self.cost_basis + quantity * (r["price"] or ZERO))
                self.acquire(r, quantity, self.cost_basis - before)
            else:
                if self.quantity > 0:
                    self.cost_basis = _money(self.cost_basis * (self.quantity + quantity) / self.quantity)
                self.consume(-quantity)
            self.quantity += quantity
        if self.quantity == 0:
            self.cost_basis = ZERO


def _open_lots(rows: Iterable[sa.RowMapping]) -> list[tuple[Any, ...]]:
    """The open FIFO lots of one (account, symbol) slice in ledger order, reversed pairs left out."""
    ordered = list(rows)
    reversed_ids = {r["reverses_id"] for r in ordered if r["reverses_id"] is not None}
    holding = _Holding()
    for r in ordered:
        if r["reverses_id"] is None and r["id"] not in reversed_ids:
            holding.apply(r)
    return [
        (
            lot.opened_by,
            lot.acquired_on,
            lot.quantity,
            lot.open_quantity,
            _price(lot.cost / lot.quantity),
            lot.open_cost,
        )
        for lot in holding.lots
    ]


def _lots(conn: sa.Connection) -> Iterator[dict[str, Any]]:
    # options on the statement: a Connection's own execution_options would change it for the later statements
    rows = conn.execute(_SLICES.execution_options(stream_results=True, yield_per=BATCH)).mappings()
    for (firm_id, account_id, symbol), group in groupby(
        rows, key=lambda r: (r["firm_id"], r["account_id"], r["symbol"])
    ):
        slice_ = list(group)
        for values in _open_lots(slice_):
            yield {
                "firm_id": firm_id,
                "client_id": slice_[0]["client_id"],
                "account_id": account_id,
                "symbol": symbol,
                **dict(zip(COLUMNS, values, strict=True)),
            }


def upgrade() -> None:
    op.execute("DELETE FROM lots")
    op.add_column("lots", sa.Column("cost_basis", sa.Numeric(precision=20, scale=4), nullable=False))
    conn = op.get_bind()
    batch: list[dict[str, Any]] = []
    for lot in _lots(conn):
        batch.append(lot)
        if len(batch) == BATCH:
            conn.execute(_INSERT, batch)
            batch = []
    if batch:
        conn.execute(_INSERT, batch)


def downgrade() -> None:
    op.execute("DELETE FROM lots")
    op.drop_column("lots", "cost_basis")
