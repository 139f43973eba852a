"""audit events carry a hash format and a MAC; checkpoints a key id and a link to the one before; key registry

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:00:00

- `audit_events.hash_version`: the format an event's hash was computed in (1 for every event written before
  this revision, 2 from here; audit/chain.py). `client_request_id`: the caller's own request id, beside the
  server's. `mac_key_id`, `mac`: HMAC-SHA256 of the event's hash with a keyring secret the database never
  sees (null on events written before this revision: signed checkpoints vouch for those).
- `audit_checkpoints.public_key_fingerprint` becomes `key_id` (it always was the signing key's fingerprint);
  `format` (1 before, 2 from here) and `previous_digest`, the SHA-256 of the firm's previous checkpoint's signed
  document, which format 2 signs, so a checkpoint deleted from the middle breaks the links.
- `audit_chain_marks`: the position of each chain the last checkpoint recorded (checkpoints record only the
  chains that moved since; losing this table only makes the next checkpoint larger).
- `audit_keys`: the deployment's registered keys by id (public halves only; MAC keys by id alone), so a process
  started with another keyring is refused instead of signing with a key nobody expects.

Adding columns with constant defaults rewrites no rows, so the append-only triggers never fire.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "audit_events", sa.Column("hash_version", sa.SmallInteger(), server_default="1", nullable=False)
    )
    op.add_column("audit_events", sa.Column("client_request_id", sa.Text(), nullable=True))
    op.add_column("audit_events", sa.Column("mac_key_id", sa.Text(), nullable=True))
    op.add_column("audit_events", sa.Column("mac", sa.LargeBinary(), nullable=True))
    op.alter_column("audit_checkpoints", "public_key_fingerprint", new_column_name="key_id")
    op.add_column(
        "audit_checkpoints", sa.Column("format", sa.SmallInteger(), server_default="1", nullable=False)
    )
    op.add_column("audit_checkpoints", sa.Column("previous_digest", sa.LargeBinary(), nullable=True))
    # the newest checkpoint's age is read on every health check
    op.create_index(op.f("ix_audit_checkpoints_created_at"), "audit_checkpoints", ["created_at"])
    op.create_table(
        "audit_chain_marks",
        sa.Column("firm_id", sa.BigInteger(), nullable=False),
        sa.Column("chain_key", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["firm_id"], ["firms.id"], name=op.f("fk_audit_chain_marks_firm_id_firms")),
        sa.PrimaryKeyConstraint("firm_id", "chain_key", name=op.f("pk_audit_chain_marks")),
    )
    op.create_table(
        "audit_keys",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "registered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('signing', 'mac')", name=op.f("ck_audit_keys_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_keys")),
    )
    # at most one current key of each kind
    op.create_index(
        "uq_audit_keys_current",
        "audit_keys",
        ["kind"],
        unique=True,
        postgresql_where=sa.text("retired_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_audit_keys_current", table_name="audit_keys")
    op.drop_table("audit_keys")
    op.drop_table("audit_chain_marks")
    op.drop_index(op.f("ix_audit_checkpoints_created_at"), table_name="audit_checkpoints")
    op.drop_column("audit_checkpoints", "previous_digest")
    op.drop_column("audit_checkpoints", "format")
    op.alter_column("audit_checkpoints", "key_id", new_column_name="public_key_fingerprint")
    for column in ("mac", "mac_key_id", "client_request_id", "hash_version"):
        op.drop_column("audit_events", column)
