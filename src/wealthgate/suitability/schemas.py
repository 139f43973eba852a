"""Input and output of the suitability routes (the trade shape is shared with recommendations)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wealthgate.ledger.schemas import PositiveMoney, PositiveQuantity
from wealthgate.suitability.engine import ENGINE_VERSION, Trade, Verdict
from wealthgate.suitability.policies import PolicyVersion
from wealthgate.suitability.policy import DEFAULT
from wealthgate.validation import StoredText
from wealthgate.vocabulary import SYMBOL_INPUT_PATTERN, TradeSide

MAX_TRADES = 50
Outcome = Literal["pass", "fail", "needs_review"]


# "Exactly one of quantity or amount", as JSON Schema says it (a missing one and a null one are alike).
ONE_MEASURE: dict[str, Any] = {
    "oneOf": [
        {
            "required": ["quantity"],
            "properties": {"quantity": {"not": {"type": "null"}}, "amount": {"type": "null"}},
        },
        {
            "required": ["amount"],
            "properties": {"amount": {"not": {"type": "null"}}, "quantity": {"type": "null"}},
        },
    ]
}
TRADE_EXAMPLE: dict[str, Any] = {"side": "buy", "symbol": "SPY", "quantity": "10"}


class TradeIn(BaseModel):
    """One proposed trade: a quantity of shares, or an amount of money to buy or sell (not both)."""

    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={**ONE_MEASURE, "examples": [TRADE_EXAMPLE]}
    )

    side: TradeSide
    symbol: Annotated[str, Field(pattern=SYMBOL_INPUT_PATTERN)]
    quantity: PositiveQuantity | None = None
    amount: PositiveMoney | None = None

    @model_validator(mode="after")
    def _one_measure(self) -> TradeIn:
        if (self.quantity is None) == (self.amount is None):
            raise ValueError("give exactly one of quantity or amount")
        return self

    def trade(self) -> Trade:
        return Trade(self.side, self.symbol.upper(), quantity=self.quantity, amount=self.amount)


Trades = Annotated[list[TradeIn], Field(min_length=1, max_length=MAX_TRADES)]


class CheckIn(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"trades": [TRADE_EXAMPLE, {"side": "sell", "symbol": "AAPL", "amount": "2500.00"}]}]
        },
    )

    trades: Trades


class RuleOut(BaseModel):
    rule: str
    outcome: Outcome
    threshold: Any = Field(description="The policy's limit (decimal strings for shares and money)")
    value: Any = Field(description="The computed figure, e.g. the post-trade weight")
    explanation: str


class CheckOut(BaseModel):
    check_id: int
    client_id: int
    verdict: Outcome
    rules: list[RuleOut]
    as_of: str = Field(description="Date of the prices and holdings used")
    policy_version: str = Field(description="Content hash of the policy applied")
    policy_version_number: int
    engine_version: str = Field(description="The rule set that judged (replay runs the same one)")

    @classmethod
    def of(cls, check_id: int, client_id: int, version: PolicyVersion, verdict: Verdict) -> CheckOut:
        """The answer to a check: its id, the verdict with every rule, and what judged it."""
        return cls(
            check_id=check_id,
            client_id=client_id,
            verdict=cast(Outcome, verdict.verdict),
            rules=[RuleOut.model_validate(r) for r in verdict.to_json()["rules"]],
            as_of=verdict.as_of.isoformat(),
            policy_version=version.content_hash,
            policy_version_number=version.version,
            engine_version=ENGINE_VERSION,
        )


class PolicyIn(BaseModel):
    """A complete policy document (see docs/suitability.md); stored as a new version if it changed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"content": DEFAULT, "note": "The firm's default policy"}]},
    )

    content: dict[str, Any] = Field(
        description="The whole document (docs/suitability.md); the service validates every setting (a 422 "
        "names it): what is not described here."
    )
    note: Annotated[StoredText, Field(max_length=500)] | None = None


class PolicyOut(BaseModel):
    version: int
    content_hash: str
    content: dict[str, Any]
    created_by: str
    created_at: str
    created: bool = Field(False, description="True when this request stored a new version")

    @classmethod
    def of(cls, v: PolicyVersion, *, created: bool = False) -> PolicyOut:
        return cls(
            version=v.version,
            content_hash=v.content_hash,
            content=v.content,
            created_by=v.created_by,
            created_at=v.created_at.isoformat(),
            created=created,
        )


class PolicyVersions(BaseModel):
    items: list[PolicyOut] = Field(description="Newest first.")
