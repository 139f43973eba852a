"""The guide's audit write: a free-form note about a client, attributed to the calling key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from wealthgate.api.deps import request_id_of, require
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit import notes
from wealthgate.audit.schemas import AuditNoteIn, AuditNoteOut
from wealthgate.auth.principal import Principal
from wealthgate.db.pool import unit_of_work

router = APIRouter(route_class=StrictJSONRoute, tags=["audit"])


@router.post(
    "/audit/recommendation",
    summary="Record an agent's note about a client (the guide's store_recommendation)",
    response_model=AuditNoteOut,
    responses={404: {"description": "No such client visible to this key"}},
)
async def record_note(
    body: AuditNoteIn,
    principal: Annotated[Principal, Depends(require("recommendations:write"))],
    request: Request,
) -> AuditNoteOut:
    """Appends an `agent.note` audit event with the note's `event_type` and `payload`, which key wrote it,
    and the request id. A free-form note; structured recommendations are checked for suitability."""
    async with unit_of_work(request.app.state.pool) as conn:
        event_id = await notes.record_note(
            conn,
            principal,
            client_id=body.client_id,
            event_type=body.event_type,
            payload=body.payload,
            request_id=request_id_of(request),
        )
    return AuditNoteOut(status="stored", audit_event_id=event_id)
