"""A firm's model portfolio per risk level: target weight and tolerance band per asset class."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from wealthgate.db.base import Base, Weight, in_list
from wealthgate.vocabulary import ASSET_CLASSES, RISK_LEVELS


class ModelPortfolio(Base):
    __tablename__ = "model_portfolios"
    __table_args__ = (
        UniqueConstraint("firm_id", "risk_level"),
        CheckConstraint(in_list("risk_level", RISK_LEVELS), name="risk_level"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    risk_level: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ModelPortfolioWeight(Base):
    __tablename__ = "model_portfolio_weights"
    __table_args__ = (
        ForeignKeyConstraint(
            ["firm_id", "model_portfolio_id"], ["model_portfolios.firm_id", "model_portfolios.id"]
        ),
        CheckConstraint(in_list("asset_class", ASSET_CLASSES), name="asset_class"),
        CheckConstraint("target_weight >= 0 AND target_weight <= 1", name="target_weight"),
        CheckConstraint("band >= 0 AND band <= 1", name="band"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    model_portfolio_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_class: Mapped[str] = mapped_column(Text, primary_key=True)
    target_weight: Mapped[Decimal] = mapped_column(Weight)
    band: Mapped[Decimal] = mapped_column(Weight)
