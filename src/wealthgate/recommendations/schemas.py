"""Input and output of the recommendation routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from wealthgate.audit.schemas import MAX_ID
from wealthgate.suitability.schemas import Trades
from wealthgate.validation import StoredText


class AgentIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    name: Annotated[StoredText, Field(min_length=1, max_length=200)]
    model: Annotated[StoredText, Field(min_length=1, max_length=200)] | None = None


class RecommendationIn(BaseModel):
    """Trades for one client with the agent's rationale. The suitability check always runs."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "client_id": 1,
                    "trades": [{"side": "buy", "symbol": "WGAGG", "amount": "2000.00"}],
                    "rationale": "Bonds are below the model's band; WGAGG brings the client back into it.",
                    "agent": {"name": "portfolio-review-agent", "model": "gpt-4o"},
                }
            ]
        },
    )

    client_id: int = Field(ge=1, le=MAX_ID)
    trades: Trades
    rationale: Annotated[StoredText, Field(min_length=1, max_length=10_000)]
    agent: AgentIn


class ReviewIn(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"comment": "Checked against the client's IPS; within policy."}]},
    )

    comment: Annotated[StoredText, Field(min_length=1, max_length=5_000)]


class ExecutionIn(BaseModel):
    """The ledger transactions (buys and sells of the client) that carried the recommendation out."""

    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={"examples": [{"transaction_ids": [101, 102]}]}
    )

    transaction_ids: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(min_length=1, max_length=200)
    ]


class VerdictOut(BaseModel):
    verdict: str
    rules: list[dict[str, Any]] = Field(description="Every rule's outcome, as stored with the decision")
    policy_version: str = Field(description="Content hash of the policy applied")
    policy_version_number: int | None
    as_of: str = Field(description="Date of the prices and holdings judged")


class AgentOut(BaseModel):
    name: str
    model: str | None


class ProposerOut(BaseModel):
    """The API key that proposed the recommendation."""

    key_id: int
    key_name: str


class ReviewOut(BaseModel):
    reviewer: str = Field(
        description="The reviewing person's email (a console user, or the user an API key acts for)"
    )
    comment: str
    reviewed_at: str


class RecommendationOut(BaseModel):
    """A recommendation as every route answers it; `audit_event_id` is the event a write recorded (null on
    reads). Times are ISO 8601 with their offset."""

    id: int
    client_id: int
    status: str
    trades: list[dict[str, Any]] = Field(description="The proposed trades, as stored")
    rationale: str
    agent: AgentOut
    proposed_by: ProposerOut
    verdict: VerdictOut
    context_digest: str
    review: ReviewOut | None
    transaction_ids: list[int]
    created_at: str
    expires_at: str | None
    executed_at: str | None
    audit_event_id: int | None = None


class ReviewQueue(BaseModel):
    items: list[RecommendationOut]
    next_cursor: str | None


class StoredVerdict(BaseModel):
    """A verdict as replay compares it: the outcome, every rule's result, and the data date."""

    verdict: str
    rules: list[dict[str, Any]]
    as_of: str


class EngineVersions(BaseModel):
    at_decision: str | None = Field(description="The rule set that judged (null: the oldest one)")
    now: str


class ReplayOut(BaseModel):
    """A past decision with the facts, data date and policy it was made on, and its verdict recomputed from
    exactly those (`matches`)."""

    recommendation_id: int
    client_id: int
    data_as_of: str
    policy_version: str = Field(description="Content hash of the policy applied")
    policy_version_number: int
    policy: dict[str, Any] = Field(description="The policy document, as stored")
    policy_hash_matches: bool
    context: dict[str, Any] = Field(description="The facts judged (holdings, prices, profile), as stored")
    context_digest: str
    context_digest_matches: bool
    engine_version: EngineVersions
    trades: list[dict[str, Any]]
    stored: StoredVerdict
    recomputed: StoredVerdict
    matches: bool
