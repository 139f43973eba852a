"""full-text search over transactions: symbol, security name, description

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT = """
    setweight(to_tsvector('simple', coalesce({t}.symbol, '')), 'A')
    || setweight(to_tsvector('english', coalesce({name}, '')), 'B')
    || setweight(to_tsvector('english', coalesce({t}.description, '')), 'C')
"""


def upgrade() -> None:
    op.add_column("transactions", sa.Column("search", postgresql.TSVECTOR(), nullable=True))
    op.execute(
        f"""
        CREATE FUNCTION transactions_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.search := {DOCUMENT.format(t="NEW", name="(SELECT s.name FROM securities s WHERE s.symbol = NEW.symbol)")};
            RETURN NEW;
        END $$
        """  # noqa: S608  (DOCUMENT is this revision's constant expression)
    )
    op.execute(
        "CREATE TRIGGER transactions_search BEFORE INSERT OR UPDATE OF symbol, description ON transactions"
        " FOR EACH ROW EXECUTE FUNCTION transactions_search_document()"
    )
    op.execute(
        f"UPDATE transactions t SET search = {DOCUMENT.format(t='t', name='s.name')}"  # noqa: S608  (DOCUMENT: this revision's constant)
        " FROM transactions t2 LEFT JOIN securities s ON s.symbol = t2.symbol"
        " WHERE t2.firm_id = t.firm_id AND t2.id = t.id"
    )
    op.create_index(op.f("ix_transactions_search"), "transactions", ["search"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index(op.f("ix_transactions_search"), table_name="transactions", postgresql_using="gin")
    op.execute("DROP TRIGGER transactions_search ON transactions")
    op.execute("DROP FUNCTION transactions_search_document()")
    op.drop_column("transactions", "search")
