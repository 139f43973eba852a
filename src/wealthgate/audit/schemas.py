"""Input and output of the guide's audit note endpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wealthgate.validation import StoredText

MAX_ID = 2**63 - 1


class AuditNoteIn(BaseModel):
    """A free-form note an agent records about a client (the guide's `store_recommendation`)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    client_id: int = Field(ge=1, le=MAX_ID)
    event_type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")
    payload: StoredText = Field(
        max_length=32_768, description="Free text; the guide sends a JSON string here."
    )


class AuditNoteOut(BaseModel):
    status: Literal["stored"]
    audit_event_id: int
