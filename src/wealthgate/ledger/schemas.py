"""Input and output of the ledger routes: posting, reversal and the transaction history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from wealthgate.validation import DecimalText, StoredText
from wealthgate.vocabulary import SYMBOL_PATTERN, TransactionType

Quantity = Annotated[DecimalText, Field(max_digits=24, decimal_places=8)]
Price = Annotated[DecimalText, Field(max_digits=20, decimal_places=6)]
Money = Annotated[DecimalText, Field(max_digits=20, decimal_places=4)]


class TransactionIn(BaseModel):
    """A transaction to post. Figures are decimal strings; `amount` is the signed cash effect and may be
    left out on buys and sells (it is computed from quantity, price and fees)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    trade_date: Annotated[date, Field(strict=False)]
    type: TransactionType
    symbol: Annotated[str, Field(pattern=SYMBOL_PATTERN)] | None = None
    quantity: Quantity | None = None
    price: Price | None = None
    amount: Money | None = None
    fees: Money = Decimal(0)
    description: Annotated[StoredText, Field(max_length=500)] | None = None
    external_id: Annotated[StoredText, Field(min_length=1, max_length=200)] | None = None


class ReversalIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

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
