"""lots: the open lot's cost basis, and the table filled from the ledger (FIFO replay)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00

Nothing wrote `lots` before this revision. From here it is maintained like `positions` (ledger/lots.py), so the
upgrade fills it with the FIFO replay of every (account, symbol) slice of the ledger already posted, streamed
in ledger order; the downgrade empties it again, as it was.
"""

from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op

from wealthgate.ledger.lots import COLUMNS, lot_values
from wealthgate.ledger.replay import Entry, replay

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
_SLICES = sa.text(
    "SELECT firm_id, client_id, account_id, symbol, id, trade_date, type, quantity, price, amount, fees,"
    " reverses_id FROM transactions WHERE symbol IS NOT NULL"
    " ORDER BY firm_id, account_id, symbol, trade_date, id"
)
_INSERT = sa.text(
    "INSERT INTO lots (firm_id, client_id, account_id, symbol, "
    + ", ".join(COLUMNS)
    + ") VALUES (:firm_id, :client_id, :account_id, :symbol, "
    + ", ".join(f":{c}" for c in COLUMNS)
    + ")"
)


def _lots(conn: sa.Connection) -> Iterator[dict[str, Any]]:
    # options on the statement: a Connection's own execution_options would change it for the later statements
    rows = conn.execute(_SLICES.execution_options(stream_results=True, yield_per=BATCH)).mappings()
    for (firm_id, account_id, symbol), group in groupby(
        rows, key=lambda r: (r["firm_id"], r["account_id"], r["symbol"])
    ):
        slice_ = list(group)
        holding = replay(Entry.from_row(r) for r in slice_).holdings.get((account_id, symbol))
        for values in lot_values(holding):
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
