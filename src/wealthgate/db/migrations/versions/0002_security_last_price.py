"""securities.last_price kept by triggers on prices

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = {"insert": "NEW", "update": "NEW", "delete": "OLD"}


def upgrade() -> None:
    op.add_column("securities", sa.Column("last_price", sa.Numeric(precision=20, scale=6), nullable=True))
    op.add_column("securities", sa.Column("last_price_date", sa.Date(), nullable=True))
    op.execute(
        """
        CREATE FUNCTION securities_sync_last_price() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE securities s
            SET (last_price, last_price_date) = (
                SELECT p.close, p.price_date FROM prices p
                WHERE p.symbol = s.symbol ORDER BY p.price_date DESC LIMIT 1)
            WHERE s.symbol IN (SELECT DISTINCT symbol FROM changed);
            RETURN NULL;
        END $$
        """
    )
    for event, row in EVENTS.items():
        op.execute(
            f"CREATE TRIGGER prices_{event}_sync_last_price AFTER {event.upper()} ON prices"
            f" REFERENCING {row} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION securities_sync_last_price()"
        )
    op.execute(
        """
        UPDATE securities s SET (last_price, last_price_date) = (
            SELECT p.close, p.price_date FROM prices p
            WHERE p.symbol = s.symbol ORDER BY p.price_date DESC LIMIT 1)
        """
    )


def downgrade() -> None:
    for event in EVENTS:
        op.execute(f"DROP TRIGGER prices_{event}_sync_last_price ON prices")
    op.execute("DROP FUNCTION securities_sync_last_price()")
    op.drop_column("securities", "last_price_date")
    op.drop_column("securities", "last_price")
