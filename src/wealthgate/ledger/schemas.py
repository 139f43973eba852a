"""Input of the ledger routes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from wealthgate.validation import DecimalText, StoredText
from wealthgate.vocabulary import SYMBOL_PATTERN

TransactionType = Literal["buy", "sell", "dividend", "interest", "deposit", "withdrawal", "fee", "transfer"]
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
