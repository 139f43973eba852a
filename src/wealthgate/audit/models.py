"""Audit events and signed checkpoints. Events are only ever inserted.

Each event sits in a hash chain (`chain_key`, `chain_seq`, `prev_hash`, `event_hash`; see audit/chain.py).
Triggers (migration 0003) reject UPDATE, DELETE and TRUNCATE on events and checkpoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    LargeBinary,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from wealthgate.db.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        ForeignKeyConstraint(["firm_id", "client_id"], ["clients.firm_id", "clients.id"]),
        ForeignKeyConstraint(["firm_id", "actor_key_id"], ["api_keys.firm_id", "api_keys.id"]),
        Index(None, "firm_id", "client_id", "id"),
        Index(None, "firm_id", "occurred_at"),
        Index(None, "firm_id", "action", "id"),
        UniqueConstraint("firm_id", "chain_key", "chain_seq"),
        CheckConstraint("chain_key = coalesce(client_id, 0)", name="chain_key"),
        CheckConstraint("chain_seq >= 1", name="chain_seq"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_key_id: Mapped[int | None] = mapped_column(BigInteger)
    actor: Mapped[dict[str, Any]] = mapped_column(JSONB)
    action: Mapped[str] = mapped_column(Text)
    target_type: Mapped[str | None] = mapped_column(Text)
    target_id: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    request_id: Mapped[str | None] = mapped_column(Text)
    chain_key: Mapped[int] = mapped_column(BigInteger)
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    event_hash: Mapped[bytes] = mapped_column(LargeBinary)
    hash_version: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    client_request_id: Mapped[str | None] = mapped_column(Text)
    mac_key_id: Mapped[str | None] = mapped_column(Text)
    mac: Mapped[bytes | None] = mapped_column(LargeBinary)


class AuditChainHead(Base):
    """The newest position and hash of each chain; its row lock serialises appends to one chain only."""

    __tablename__ = "audit_chain_heads"

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    chain_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[bytes | None] = mapped_column(LargeBinary)


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index(None, "created_at"),)

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    heads: Mapped[dict[str, Any]] = mapped_column(JSONB)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(Text)  # the signing key's fingerprint (audit/keyring.py)
    format: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    previous_digest: Mapped[bytes | None] = mapped_column(LargeBinary)


class AuditChainMark(Base):
    """The position of each chain the last checkpoint recorded: the next one records only those that moved."""

    __tablename__ = "audit_chain_marks"

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    chain_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class AuditKey(Base):
    """The deployment's registered audit keys (public halves; MAC keys by id only), current and retired."""

    __tablename__ = "audit_keys"
    __table_args__ = (
        CheckConstraint("kind IN ('signing', 'mac')", name="kind"),
        Index("uq_audit_keys_current", "kind", unique=True, postgresql_where=text("retired_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditReadJournal(Base):
    """A read-audit journal whose events are in the trail (audit/journal.py): recorded in the transaction that
    stored them, so a journal left on disk by a crash after that commit is never stored twice."""

    __tablename__ = "audit_read_journals"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
