"""The `lots` table: a position's open FIFO lots, maintained from the ledger as `positions` is.

Written wherever positions are: posting re-derives the lots of the (account, symbol) it touches in the same
transaction; the demo book, `demo-data` and migration 0006 write the replay of what they load or find. Reads
that replay the ledger anyway (the portfolio route) take lots from that replay.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

from wealthgate.db.sql import Sql
from wealthgate.ledger.accounts import VisibleAccount
from wealthgate.ledger.replay import Holding
from wealthgate.money import to_price

COLUMNS = (
    "opened_by_id",
    "acquired_on",
    "quantity",
    "open_quantity",
    "unit_cost",
    "cost_basis",
)
_DELETE = Sql("DELETE FROM lots WHERE firm_id = :firm_id AND account_id = :account_id AND symbol = :symbol")
_INSERT = Sql(
    """
INSERT INTO lots (firm_id, client_id, account_id, symbol, opened_by_id, acquired_on, quantity, open_quantity,
                  unit_cost, cost_basis)
VALUES (:firm_id, :client_id, :account_id, :symbol, :opened_by_id, :acquired_on, :quantity, :open_quantity,
        :unit_cost, :cost_basis)
"""
)

LotValues = tuple[int, date, Decimal, Decimal, Decimal, Decimal]


def lot_values(holding: Holding | None) -> list[LotValues]:
    """The open lots of a replayed holding as `COLUMNS` values, oldest first."""
    if holding is None:
        return []
    values = []
    for lot in holding.lots:
        if lot.opened_by is None or lot.acquired_on is None:
            raise ValueError("a stored lot needs the id and trade date of the transaction that opened it")
        unit_cost = to_price(lot.cost / lot.quantity)
        values.append(
            (lot.opened_by, lot.acquired_on, lot.quantity, lot.open_quantity, unit_cost, lot.open_cost)
        )
    return values


async def rederive(
    conn: asyncpg.Connection, account: VisibleAccount, symbol: str, holding: Holding | None
) -> None:
    """Replace the stored lots of (account, symbol) with those of `holding`, its replay; in the caller's
    transaction."""
    await _DELETE.execute(conn, **account.ids, symbol=symbol)
    rows = [
        _INSERT.args(
            dict(zip(COLUMNS, v, strict=True)), **account.ids, client_id=account.client_id, symbol=symbol
        )
        for v in lot_values(holding)
    ]
    if rows:
        await conn.executemany(_INSERT.text, rows)
