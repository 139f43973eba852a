"""text quota: free text (notes, rationales) written per API key per UTC day

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 08:00:00

- `text_quota_usage`: the bytes of free text each key has added to the permanent record today (UTC), counted
  in the transaction of the write itself, so the daily quota holds across workers, hosts and restarts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "text_quota_usage",
        sa.Column("firm_id", sa.BigInteger(), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id", "api_key_id"],
            ["api_keys.firm_id", "api_keys.id"],
            name=op.f("fk_text_quota_usage_firm_id_api_key_id_api_keys"),
        ),
        sa.ForeignKeyConstraint(["firm_id"], ["firms.id"], name=op.f("fk_text_quota_usage_firm_id_firms")),
        sa.PrimaryKeyConstraint("firm_id", "api_key_id", "day", name=op.f("pk_text_quota_usage")),
    )


def downgrade() -> None:
    op.drop_table("text_quota_usage")
