"""what Reg BI's care obligation and the ledger's invariants need: margin, options approval, held-away assets,
leveraged and inverse products

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:20:00

- `accounts.allows_margin`: only such an account may go below zero cash (ledger/posting.py refuses otherwise).
- `clients.held_away_assets`: assets held elsewhere (they count toward concentration and net-worth tests);
  `clients.options_level` (0: no options, 1-4: the firm's approval levels) and `clients.margin_approved`.
- `securities.leverage`: the daily multiple a fund targets: 1 for an ordinary security, 2 or 3 for a leveraged
  fund, -1, -2 or -3 for an inverse one (they reset daily and decay over longer holding periods).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(20, 4, asdecimal=True)


def upgrade() -> None:
    op.add_column(
        "accounts", sa.Column("allows_margin", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column(
        "clients", sa.Column("held_away_assets", MONEY, server_default=sa.text("0"), nullable=False)
    )
    op.add_column(
        "clients", sa.Column("options_level", sa.SmallInteger(), server_default="0", nullable=False)
    )
    op.add_column(
        "clients", sa.Column("margin_approved", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.create_check_constraint(op.f("ck_clients_held_away_assets"), "clients", "held_away_assets >= 0")
    op.create_check_constraint(op.f("ck_clients_options_level"), "clients", "options_level BETWEEN 0 AND 4")
    op.add_column(
        "securities", sa.Column("leverage", sa.Numeric(4, 2), server_default=sa.text("1"), nullable=False)
    )
    op.create_check_constraint(
        op.f("ck_securities_leverage"), "securities", "leverage <> 0 AND leverage BETWEEN -3 AND 3"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_securities_leverage"), "securities", type_="check")
    op.drop_column("securities", "leverage")
    op.drop_constraint(op.f("ck_clients_options_level"), "clients", type_="check")
    op.drop_constraint(op.f("ck_clients_held_away_assets"), "clients", type_="check")
    for column in ("margin_approved", "options_level", "held_away_assets"):
        op.drop_column("clients", column)
    op.drop_column("accounts", "allows_margin")
