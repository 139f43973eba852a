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

    model_config = ConfigDict(strict=True, extra="forbid")

    client_id: int = Field(ge=1, le=MAX_ID)
    trades: Trades
    rationale: Annotated[StoredText, Field(min_length=1, max_length=10_000)]
    agent: AgentIn


class ReviewIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    comment: Annotated[StoredText, Field(min_length=1, max_length=5_000)]


class ExecutionIn(BaseModel):
    """The ledger transactions (buys and sells of the client) that carried the recommendation out."""

    model_config = ConfigDict(strict=True, extra="forbid")

    transaction_ids: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(min_length=1, max_length=200)
    ]


class VerdictOut(BaseModel):
    verdict: str
    rules: list[dict[str, Any]]
    policy_version: str
    policy_version_number: int | None
    as_of: str


class RecommendationOut(BaseModel):
    id: int
    client_id: int
    status: str
    trades: list[dict[str, Any]]
    rationale: str
    agent: dict[str, Any]
    proposed_by: dict[str, Any]
    verdict: VerdictOut
    context_digest: str
    review: dict[str, Any] | None
    transaction_ids: list[int]
    created_at: str
    expires_at: str | None
    executed_at: str | None
    audit_event_id: int | None = None


class ReviewQueue(BaseModel):
    items: list[RecommendationOut]
    next_cursor: str | None
