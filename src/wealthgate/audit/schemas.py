"""Input and output of the audit routes: the guide's note, and compliance's reads of the trail."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wealthgate.validation import StoredText

MAX_ID = 2**63 - 1


class AuditNoteIn(BaseModel):
    """A free-form note an agent records about a client (the guide's `store_recommendation`)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "client_id": 1,
                    "event_type": "portfolio_review",
                    "payload": '{"summary": "Reviewed allocation; within bands, no trade proposed."}',
                }
            ]
        },
    )

    client_id: int = Field(ge=1, le=MAX_ID)
    event_type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")
    payload: StoredText = Field(
        max_length=32_768, description="Free text; the guide sends a JSON string here."
    )


class AuditNoteOut(BaseModel):
    status: Literal["stored"]
    audit_event_id: int


class AuditEvent(BaseModel):
    """An event as compliance reads and exports it: hashes and MAC in hex, times in ISO 8601 UTC."""

    id: int
    firm_id: int
    occurred_at: str
    actor_key_id: int | None = Field(description="The API key that acted (null: an operator or the system)")
    actor: dict[str, Any] = Field(description="Who acted, as recorded (a JSON document)")
    action: str
    target_type: str | None
    target_id: str | None
    client_id: int | None
    details: dict[str, Any] = Field(description="What the action recorded (a JSON document)")
    request_id: str | None = Field(description="The server's id of the request that acted")
    chain_key: int = Field(description="The chain: the client's id, 0 for firm-level events")
    chain_seq: int
    prev_hash: str
    event_hash: str
    hash_version: int
    client_request_id: str | None = Field(description="The caller's own X-Request-ID, if it sent one")
    mac_key_id: str | None
    mac: str | None


class AuditEventPage(BaseModel):
    items: list[AuditEvent]
    next_cursor: str | None


class ChainBreak(BaseModel):
    """The first point where a chain (or a checkpoint) fails verification."""

    firm_id: int
    chain_key: int
    event_id: int | None
    chain_seq: int
    checkpoint_id: int | None
    reason: str = Field(
        description="edited, missing, inserted, reordered, forged, checkpoint mismatch or checkpoint missing"
    )
    detail: str


class VerificationOut(BaseModel):
    """The result of recomputing the caller's chains: `ok` when all are intact, else the first break."""

    ok: bool
    chains: int
    events: int
    checkpoints: int
    signatures_checked: bool
    macs_checked: bool
    witnessed_checkpoints: int | None
    newest_checkpoint_at: str | None
    newest_checkpoint_age_seconds: float | None
    first_break: ChainBreak | None
