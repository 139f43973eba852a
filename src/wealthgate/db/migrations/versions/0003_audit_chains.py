"""audit events in per-client hash chains; append-only triggers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 16:30:00
"""

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("audit_events", "audit_checkpoints")

# The hash format as it was on this revision's day (format 1), frozen here: a later change to the application's
# hashing must not change what this upgrade writes. Canonical JSON: sorted keys, no whitespace, UTF-8.
GENESIS = bytes(32)


def _content(r: sa.RowMapping, chain_key: int, chain_seq: int, prev_hash: bytes) -> dict[str, Any]:
    occurred_at: datetime = r["occurred_at"]
    return {
        "id": r["id"],
        "firm_id": r["firm_id"],
        "chain_key": chain_key,
        "chain_seq": chain_seq,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_key_id": r["actor_key_id"],
        "actor": dict(r["actor"]),
        "action": r["action"],
        "target_type": r["target_type"],
        "target_id": r["target_id"],
        "client_id": r["client_id"],
        "details": dict(r["details"]),
        "request_id": r["request_id"],
        "prev_hash": prev_hash.hex(),
    }


def _digest(content: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).digest()


def _backfill() -> None:
    """Chain the events written before chains existed, in id order."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT * FROM audit_events ORDER BY firm_id, id")).mappings().all()
    heads: dict[tuple[int, int], tuple[int, bytes]] = {}
    for r in rows:
        key = (r["firm_id"], 0 if r["client_id"] is None else r["client_id"])
        seq, prev = heads.get(key, (0, GENESIS))
        seq += 1
        digest = _digest(_content(r, key[1], seq, prev))
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
