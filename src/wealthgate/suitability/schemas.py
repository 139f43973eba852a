"""Input and output of the suitability routes (the trade shape is shared with recommendations)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wealthgate.ledger.schemas import Money, Quantity
from wealthgate.suitability.engine import Trade
from wealthgate.validation import StoredText

MAX_TRADES = 50


class TradeIn(BaseModel):
    """One proposed trade: a quantity of shares, or an amount of money to buy or sell (not both)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    side: Literal["buy", "sell"]
    symbol: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,14}$")]
    quantity: Annotated[Quantity, Field(gt=0)] | None = None
    amount: Annotated[Money, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _one_measure(self) -> TradeIn:
        if (self.quantity is None) == (self.amount is None):
            raise ValueError("give exactly one of quantity or amount")
        return self

    def trade(self) -> Trade:
        return Trade(self.side, self.symbol.upper(), quantity=self.quantity, amount=self.amount)


Trades = Annotated[list[TradeIn], Field(min_length=1, max_length=MAX_TRADES)]


class CheckIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    trades: Trades


class RuleOut(BaseModel):
    rule: str
    outcome: Literal["pass", "fail", "needs_review"]
    threshold: Any = Field(description="The policy's limit (decimal strings for shares and money)")
    value: Any = Field(description="The computed figure, e.g. the post-trade weight")
    explanation: str


class CheckOut(BaseModel):
    check_id: int
    client_id: int
    verdict: Literal["pass", "fail", "needs_review"]
    rules: list[RuleOut]
    policy_version: str = Field(description="Content hash of the policy applied")
    policy_version_number: int
    engine_version: str = Field(description="The rule set that judged (replay runs the same one)")
    as_of: str = Field(description="Date of the prices and holdings used")


class PolicyIn(BaseModel):
    """A complete policy document (see docs/suitability.md); stored as a new version if it changed."""

    model_config = ConfigDict(extra="forbid")

    content: dict[str, Any]
    note: Annotated[StoredText, Field(max_length=500)] | None = None


class PolicyOut(BaseModel):
    version: int
    content_hash: str
    content: dict[str, Any]
    created_by: str
    created_at: str
    created: bool = Field(False, description="True when this request stored a new version")
