"""A client and the investment profile a suitability check needs (FINRA Rule 2111's list)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from wealthgate.db.base import Base, Money, in_list
from wealthgate.vocabulary import (
    EXPERIENCE_LEVELS,
    INVESTMENT_OBJECTIVES,
    LIQUIDITY_NEEDS,
    RISK_LEVELS,
    TAX_STATUSES,
    TIME_HORIZONS,
)


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = (
        ForeignKeyConstraint(["firm_id", "advisor_id"], ["advisors.firm_id", "advisors.id"]),
        UniqueConstraint("firm_id", "external_id"),
        Index(None, "firm_id", "advisor_id", "id"),
        CheckConstraint(in_list("risk_tolerance", RISK_LEVELS), name="risk_tolerance"),
        CheckConstraint(in_list("investment_objective", INVESTMENT_OBJECTIVES), name="investment_objective"),
        CheckConstraint(in_list("time_horizon", TIME_HORIZONS), name="time_horizon"),
        CheckConstraint(in_list("liquidity_needs", LIQUIDITY_NEEDS), name="liquidity_needs"),
        CheckConstraint(in_list("tax_status", TAX_STATUSES), name="tax_status"),
        CheckConstraint(in_list("investment_experience", EXPERIENCE_LEVELS), name="investment_experience"),
        CheckConstraint(
            "annual_income >= 0 AND net_worth >= liquid_net_worth AND liquid_net_worth >= 0", name="finances"
        ),
        CheckConstraint(
            "marginal_tax_rate IS NULL OR (marginal_tax_rate >= 0 AND marginal_tax_rate <= 1)",
            name="marginal_tax_rate",
        ),
        CheckConstraint("held_away_assets >= 0", name="held_away_assets"),
        CheckConstraint("options_level BETWEEN 0 AND 4", name="options_level"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    advisor_id: Mapped[int] = mapped_column(BigInteger)
    external_id: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    date_of_birth: Mapped[date] = mapped_column(Date)
    risk_tolerance: Mapped[str] = mapped_column(Text)
    investment_objective: Mapped[str] = mapped_column(Text)
    time_horizon: Mapped[str] = mapped_column(Text)
    liquidity_needs: Mapped[str] = mapped_column(Text)
    annual_income: Mapped[Decimal] = mapped_column(Money)
    net_worth: Mapped[Decimal] = mapped_column(Money)
    liquid_net_worth: Mapped[Decimal] = mapped_column(Money)
    tax_status: Mapped[str] = mapped_column(Text)
    marginal_tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    investment_experience: Mapped[str] = mapped_column(Text)
    held_away_assets: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    options_level: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))  # 0: none; 1-4
    margin_approved: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    excluded_symbols: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    excluded_sectors: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
