"""read audit journals: which on-disk journals of read audit events are stored

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:10:00

A worker whose read audit flush fails (the primary is away) writes the waiting events to a journal file on
its host (audit/journal.py) before anything else can lose them. When they are stored, in the same
transaction, the journal's id is recorded here, so a journal a crash left on disk after that commit is
removed, never stored twice. Rows are only inserted: the app role gets SELECT and INSERT.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "wealthgate_app"


def upgrade() -> None:
    op.create_table(
        "audit_read_journals",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_read_journals")),
    )
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                EXECUTE 'REVOKE ALL ON audit_read_journals FROM {ROLE}';
                EXECUTE 'GRANT SELECT, INSERT ON audit_read_journals TO {ROLE}';
            END IF;
        END $$
        """  # noqa: S608  (ROLE is this revision's constant)
    )


def downgrade() -> None:
    op.drop_table("audit_read_journals")
