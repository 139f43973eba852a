"""The guide's audit write: a free-form note about a client, attributed to the calling key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from wealthgate.api import idempotent
from wealthgate.api.deps import request_id_of, require
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit import notes
from wealthgate.audit.schemas import AuditNoteIn, AuditNoteOut
from wealthgate.auth.principal import Principal

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
) -> Response:
    """Appends an `agent.note` audit event with the note's `event_type` and `payload`, which key wrote it,
    and the request id. A free-form note; structured recommendations (`POST /recommendations`) are checked
    for suitability. With an `Idempotency-Key`, a retry returns the first answer and writes nothing."""

    async def work(conn: Any) -> tuple[int, dict[str, Any]]:
        event_id = await notes.record_note(
            conn,
            principal,
            client_id=body.client_id,
            event_type=body.event_type,
            payload=body.payload,
            request_id=request_id_of(request),
        )
        return 200, {"status": "stored", "audit_event_id": event_id}

    return await idempotent.run(request, principal, work)
