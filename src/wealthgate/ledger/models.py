"""The ledger: accounts hold cash and positions; transactions are the source of truth for both.

`amount` is the signed net cash effect on the account (a buy is negative, a sale or deposit positive), so an
account's cash is the sum of its transactions' amounts and a position's quantity the signed sum of its trades.
"""

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
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from wealthgate.db.base import Base, Money, Price, Quantity, in_list
from wealthgate.vocabulary import ACCOUNT_TYPES, TRANSACTION_TYPES, TYPES_WITH_SYMBOL


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        ForeignKeyConstraint(["firm_id", "client_id"], ["clients.firm_id", "clients.id"]),
        UniqueConstraint("firm_id", "client_id", "id"),
        UniqueConstraint("firm_id", "external_id"),
        CheckConstraint(in_list("account_type", ACCOUNT_TYPES), name="account_type"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(BigInteger)
    external_id: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    account_type: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text, server_default=text("'USD'"))
    allows_shorting: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    allows_margin: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))  # cash may go below 0
    cash_balance: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    opened_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["firm_id", "client_id", "account_id"], ["accounts.firm_id", "accounts.client_id", "accounts.id"]
        ),
        ForeignKeyConstraint(["firm_id", "reverses_id"], ["transactions.firm_id", "transactions.id"]),
        ForeignKeyConstraint(
            ["firm_id", "recommendation_id"], ["recommendations.firm_id", "recommendations.id"]
        ),
        UniqueConstraint("firm_id", "external_id"),
        Index(None, "firm_id", "account_id", "trade_date", "id"),
        Index(None, "firm_id", "client_id", "trade_date"),
        Index(None, "search", postgresql_using="gin"),
        CheckConstraint(in_list("type", TRANSACTION_TYPES), name="type"),
        CheckConstraint(
            f"{in_list('type', TYPES_WITH_SYMBOL, negated=True)} OR symbol IS NOT NULL",
            name="symbol_required",
        ),
        CheckConstraint(
            "type NOT IN ('buy', 'sell') OR (quantity > 0 AND price >= 0)", name="trade_quantity_price"
        ),
        CheckConstraint("fees >= 0", name="fees_non_negative"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(BigInteger)
    trade_date: Mapped[date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str | None] = mapped_column(Text, ForeignKey("securities.symbol"))
    quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    price: Mapped[Decimal | None] = mapped_column(Price)
    amount: Mapped[Decimal] = mapped_column(Money)
    fees: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    description: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    reverses_id: Mapped[int | None] = mapped_column(BigInteger)
    recommendation_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Symbol, security name and description, weighted in that order; kept by a trigger (migration 0005).
    search: Mapped[str | None] = mapped_column(TSVECTOR)


class Position(Base):
    """The maintained view of the ledger: one row per account and symbol held."""

    __tablename__ = "positions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["firm_id", "client_id", "account_id"], ["accounts.firm_id", "accounts.client_id", "accounts.id"]
        ),
        UniqueConstraint("firm_id", "account_id", "symbol"),
        Index(None, "firm_id", "client_id"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(BigInteger)
    symbol: Mapped[str] = mapped_column(Text, ForeignKey("securities.symbol"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    cost_basis: Mapped[Decimal] = mapped_column(Money)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Lot(Base):
    """An open tax lot: opened by a purchase or transfer in, consumed first-in first-out by sales and
    transfers out. Maintained like `positions` (ledger/lots.py): the ledger's FIFO replay, open lots only."""

    __tablename__ = "lots"
    __table_args__ = (
        ForeignKeyConstraint(
            ["firm_id", "client_id", "account_id"], ["accounts.firm_id", "accounts.client_id", "accounts.id"]
        ),
        ForeignKeyConstraint(["firm_id", "opened_by_id"], ["transactions.firm_id", "transactions.id"]),
        Index(None, "firm_id", "account_id", "symbol", "acquired_on"),
        CheckConstraint("open_quantity >= 0 AND open_quantity <= quantity", name="open_quantity"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    client_id: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(BigInteger)
    symbol: Mapped[str] = mapped_column(Text, ForeignKey("securities.symbol"))
    opened_by_id: Mapped[int] = mapped_column(BigInteger)
    acquired_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    open_quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_cost: Mapped[Decimal] = mapped_column(Price)  # cost / quantity as acquired, fees included
    # cost of the open quantity; a position's lots add up to its FIFO cost basis
    cost_basis: Mapped[Decimal] = mapped_column(Money)
