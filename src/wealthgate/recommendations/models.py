"""A recommendation stores what the agent proposed, the verdict it got, and what it was judged on."""

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
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from wealthgate.db.base import Base, in_list
from wealthgate.vocabulary import RECOMMENDATION_STATUSES, VERDICTS


class Recommendation(Base):
    __tablename__ = "recommendations"
    __table_args__ = (
        ForeignKeyConstraint(["firm_id", "client_id"], ["clients.firm_id", "clients.id"]),
        ForeignKeyConstraint(
            ["firm_id", "policy_version_id"], ["policy_versions.firm_id", "policy_versions.id"]
        ),
        ForeignKeyConstraint(["firm_id", "proposed_by_key_id"], ["api_keys.firm_id", "api_keys.id"]),
        ForeignKeyConstraint(["firm_id", "reviewed_by_key_id"], ["api_keys.firm_id", "api_keys.id"]),
        ForeignKeyConstraint(["firm_id", "reviewed_by_user_id"], ["users.firm_id", "users.id"]),
        Index(None, "firm_id", "client_id", "created_at"),
        Index(None, "firm_id", "status", "created_at"),
        CheckConstraint(in_list("status", RECOMMENDATION_STATUSES), name="status"),
        CheckConstraint(in_list("verdict", VERDICTS), name="verdict"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(Text)
    trades: Mapped[list[Any]] = mapped_column(JSONB)
    rationale: Mapped[str] = mapped_column(Text)
    agent_name: Mapped[str] = mapped_column(Text)
    agent_model: Mapped[str | None] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(Text)
    rules: Mapped[list[Any]] = mapped_column(JSONB)
    policy_version_id: Mapped[int | None] = mapped_column(BigInteger)
    policy_hash: Mapped[str] = mapped_column(Text)
    context_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    context_digest: Mapped[str] = mapped_column(Text)
    data_as_of: Mapped[date] = mapped_column(Date)
    proposed_by_key_id: Mapped[int] = mapped_column(BigInteger)
    reviewed_by_key_id: Mapped[int | None] = mapped_column(BigInteger)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(BigInteger)  # the person who approved or rejected
    reviewer: Mapped[str | None] = mapped_column(Text)
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    executed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
