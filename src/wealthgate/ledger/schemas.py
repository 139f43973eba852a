"""Input and output of the ledger routes: posting, reversal and the transaction history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from wealthgate.validation import Day, DecimalRule, StoredText
from wealthgate.vocabulary import SYMBOL_PATTERN, TransactionType

# As the ledger's columns hold them: NUMERIC(24, 8) quantities, (20, 6) prices, (20, 4) money.
Quantity = Annotated[Decimal, DecimalRule(24, 8)]
Price = Annotated[Decimal, DecimalRule(20, 6)]
Money = Annotated[Decimal, DecimalRule(20, 4)]
PositiveQuantity = Annotated[Decimal, DecimalRule(24, 8, "positive")]
PositiveMoney = Annotated[Decimal, DecimalRule(20, 4, "positive")]


class TransactionIn(BaseModel):
    """A transaction to post. Figures are decimal strings; `amount` is the signed cash effect and may be
    left out on buys and sells (it is computed from quantity, price and fees)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "trade_date": "2024-03-15",
                    "type": "buy",
                    "symbol": "SPY",
                    "quantity": "10",
                    "price": "450.00",
                    "fees": "1.00",
                    "description": "Monthly contribution invested",
                    "external_id": "broker-2024-03-15-0001",
                },
                {"trade_date": "2024-03-01", "type": "deposit", "amount": "5000.00"},
            ]
        },
    )

    trade_date: Annotated[Day, Field(strict=False)]
    type: TransactionType
    symbol: Annotated[str, Field(pattern=SYMBOL_PATTERN)] | None = None
    quantity: Quantity | None = None
    price: Price | None = None
    amount: Money | None = None
    fees: Money = Decimal(0)
    description: Annotated[StoredText, Field(max_length=500)] | None = None
    external_id: Annotated[StoredText, Field(min_length=1, max_length=200)] | None = None


class ReversalIn(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"description": "Posted to the wrong account"}]},
    )

    description: Annotated[StoredText, Field(max_length=500)] | None = None


class PostedTransaction(BaseModel):
    """A transaction as stored (and as its audit event records it); figures are exact decimal strings."""

    id: int
    account_id: int
    client_id: int
    trade_date: date
    type: TransactionType
    symbol: str | None
    quantity: str | None
    price: str | None
    amount: str = Field(description="The signed cash effect: buys, withdrawals and fees are negative.")
    fees: str
    description: str | None
    external_id: str | None
    reverses_id: int | None = Field(description="The transaction this entry reverses, if it is a reversal.")


class PositionAfter(BaseModel):
    """The (account, symbol) position after the posting; `cost_basis` includes fees."""

    symbol: str
    quantity: str
    cost_basis: str


class PostingOut(BaseModel):
    """What a posting or reversal answers: the transaction, the position it touched and the account's cash."""

    transaction: PostedTransaction
    position: PositionAfter | None = Field(
        description="Null when the transaction names no security, the position closed, or it was a replay."
    )
    cash: str = Field(description="The account's cash after the posting.")
    created: bool = Field(description="False when `external_id` had been posted before: nothing was written.")


class TransactionItem(BaseModel):
    """One transaction of a client's history, with what an agent needs to cite it."""

    id: int
    account_id: int
    trade_date: date
    type: TransactionType
    symbol: str | None
    security_name: str | None
    quantity: str | None
    price: str | None
    amount: str = Field(description="The signed cash effect: buys, withdrawals and fees are negative.")
    fees: str
    description: str | None
    reverses_id: int | None
    rank: str | None = Field(
        default=None, description="Relevance to `q` (higher first); present only when `q` is given."
    )


class TransactionPage(BaseModel):
    """One keyset page: pass `next_cursor` back as `cursor` until it is null."""

    items: list[TransactionItem]
    next_cursor: str | None
