"""Securities and prices are reference tables: one copy for all firms (Citus would replicate them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Numeric, SmallInteger, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from wealthgate.db.base import Base, Price, in_list
from wealthgate.vocabulary import ASSET_CLASSES, SECURITY_LIQUIDITY, SYMBOL_PATTERN


class Security(Base):
    """The security master. `last_price`/`last_price_date` mirror the newest row in `prices`, kept by
    statement-level triggers on `prices` (migration 0002), so reads need no per-holding price lookup."""

    __tablename__ = "securities"
    __table_args__ = (
        CheckConstraint(f"symbol ~ '{SYMBOL_PATTERN}'", name="symbol_format"),
        CheckConstraint(in_list("asset_class", ASSET_CLASSES), name="asset_class"),
        CheckConstraint(in_list("liquidity", SECURITY_LIQUIDITY), name="liquidity"),
        CheckConstraint("risk_rating BETWEEN 1 AND 5", name="risk_rating"),
        CheckConstraint("leverage <> 0 AND leverage BETWEEN -3 AND 3", name="leverage"),
    )

    symbol: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    asset_class: Mapped[str] = mapped_column(Text)
    sector: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    risk_rating: Mapped[int] = mapped_column(SmallInteger)
    is_complex: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    liquidity: Mapped[str] = mapped_column(Text, server_default=text("'high'"))
    # the daily multiple a fund targets: 1 ordinary; 2, 3 leveraged; -1..-3 inverse (reset daily, decay)
    leverage: Mapped[Decimal] = mapped_column(Numeric(4, 2), server_default=text("1"))
    currency: Mapped[str] = mapped_column(Text, server_default=text("'USD'"))
    last_price: Mapped[Decimal | None] = mapped_column(Price)
    last_price_date: Mapped[date | None] = mapped_column(Date)


class DailyPrice(Base):
    __tablename__ = "prices"
    __table_args__ = (CheckConstraint("close > 0", name="close_positive"),)

    symbol: Mapped[str] = mapped_column(Text, ForeignKey("securities.symbol"), primary_key=True)
    price_date: Mapped[date] = mapped_column(Date, primary_key=True)
    close: Mapped[Decimal] = mapped_column(Price)
