"""audit events in per-client hash chains; append-only triggers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wealthgate.audit import chain

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("audit_events", "audit_checkpoints")


def _backfill() -> None:
    """Chain the events written before chains existed, in id order."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT * FROM audit_events ORDER BY firm_id, id")).mappings().all()
    heads: dict[tuple[int, int], tuple[int, bytes]] = {}
    for r in rows:
        key = (r["firm_id"], chain.chain_key(r["client_id"]))
        seq, prev = heads.get(key, (0, chain.GENESIS))
        seq += 1
        body = chain.content(
            id=r["id"],
            firm_id=r["firm_id"],
            chain_key=key[1],
            chain_seq=seq,
            occurred_at=r["occurred_at"],
            actor_key_id=r["actor_key_id"],
            actor=r["actor"],
            action=r["action"],
            target_type=r["target_type"],
            target_id=r["target_id"],
            client_id=r["client_id"],
            details=r["details"],
            request_id=r["request_id"],
            prev_hash=prev,
        )
        digest = chain.digest(body)
        bind.execute(
            sa.text(
                "UPDATE audit_events SET chain_key = :k, chain_seq = :s, prev_hash = :p, event_hash = :h"
                " WHERE firm_id = :f AND id = :i"
            ),
            {"k": key[1], "s": seq, "p": prev, "h": digest, "f": r["firm_id"], "i": r["id"]},
        )
        heads[key] = (seq, digest)
    for (firm_id, head_key), (last_seq, last_hash) in heads.items():
        bind.execute(
            sa.text(
                "INSERT INTO audit_chain_heads (firm_id, chain_key, seq, head_hash) VALUES (:f, :k, :s, :h)"
            ),
            {"f": firm_id, "k": head_key, "s": last_seq, "h": last_hash},
        )


def upgrade() -> None:
    op.create_table(
        "audit_chain_heads",
        sa.Column("firm_id", sa.BigInteger(), nullable=False),
        sa.Column("chain_key", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["firm_id"], ["firms.id"], name=op.f("fk_audit_chain_heads_firm_id_firms")),
        sa.PrimaryKeyConstraint("firm_id", "chain_key", name=op.f("pk_audit_chain_heads")),
    )
    op.add_column("audit_events", sa.Column("chain_key", sa.BigInteger(), nullable=True))
    _backfill()
    for column in ("chain_key", "chain_seq", "prev_hash", "event_hash"):
        op.alter_column("audit_events", column, nullable=False)
    op.create_unique_constraint(
        op.f("uq_audit_events_firm_id_chain_key_chain_seq"),
        "audit_events",
        ["firm_id", "chain_key", "chain_seq"],
    )
    op.create_check_constraint(
        op.f("ck_audit_events_chain_key"), "audit_events", "chain_key = coalesce(client_id, 0)"
    )
    op.create_check_constraint(op.f("ck_audit_events_chain_seq"), "audit_events", "chain_seq >= 1")
    op.execute(
        """
        CREATE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit records are append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION audit_reject_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()"
        )


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION audit_reject_change()")
    op.drop_constraint(op.f("ck_audit_events_chain_seq"), "audit_events", type_="check")
    op.drop_constraint(op.f("ck_audit_events_chain_key"), "audit_events", type_="check")
    op.drop_constraint(op.f("uq_audit_events_firm_id_chain_key_chain_seq"), "audit_events", type_="unique")
    for column in ("chain_seq", "prev_hash", "event_hash"):
        op.alter_column("audit_events", column, nullable=True)
    op.drop_column("audit_events", "chain_key")
    op.drop_table("audit_chain_heads")
