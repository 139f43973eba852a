"""The daily quota of free text per API key: bytes written today (UTC), one row per key and day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, ForeignKeyConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wealthgate.db.base import Base


class TextQuotaUsage(Base):
    __tablename__ = "text_quota_usage"
    __table_args__ = (ForeignKeyConstraint(["firm_id", "api_key_id"], ["api_keys.firm_id", "api_keys.id"]),)

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the UTC day
    bytes: Mapped[int] = mapped_column(BigInteger)
