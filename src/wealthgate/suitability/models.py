"""Policy versions (content-hashed, never overwritten) and recorded suitability checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from wealthgate.db.base import Base, in_list
from wealthgate.vocabulary import VERDICTS


class PolicyVersion(Base):
    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("firm_id", "version"),)

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SuitabilityCheck(Base):
    __tablename__ = "suitability_checks"
    __table_args__ = (
        ForeignKeyConstraint(["firm_id", "client_id"], ["clients.firm_id", "clients.id"]),
        ForeignKeyConstraint(
            ["firm_id", "policy_version_id"], ["policy_versions.firm_id", "policy_versions.id"]
        ),
        ForeignKeyConstraint(["firm_id", "api_key_id"], ["api_keys.firm_id", "api_keys.id"]),
        Index(None, "firm_id", "client_id", "created_at"),
        CheckConstraint(in_list("verdict", VERDICTS), name="verdict"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(BigInteger)
    api_key_id: Mapped[int | None] = mapped_column(BigInteger)
    policy_version_id: Mapped[int | None] = mapped_column(BigInteger)
    policy_hash: Mapped[str] = mapped_column(Text)
    trades: Mapped[list[Any]] = mapped_column(JSONB)
    verdict: Mapped[str] = mapped_column(Text)
    rules: Mapped[list[Any]] = mapped_column(JSONB)
    data_as_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
