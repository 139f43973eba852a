"""The guide's audit write: a free-form note about a client, attributed to the calling key."""

from __future__ import annotations

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import Response

from wealthgate.api import idempotent
from wealthgate.api.deps import DbPool, TextQuotaOf, Writer, request_id_of
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit import notes
from wealthgate.audit.schemas import AuditNoteIn, AuditNoteOut
from wealthgate.clients import visibility

router = APIRouter(route_class=StrictJSONRoute, tags=["audit"])


@router.post(
    "/audit/recommendation",
    summary="Record an agent's note about a client (the guide's store_recommendation)",
    response_model=AuditNoteOut,
    responses={404: {"description": "No such client visible to this key"}},
)
async def record_note(
    body: AuditNoteIn, principal: Writer, pool: DbPool, quota: TextQuotaOf, request: Request
) -> Response:
    """Appends an `agent.note` audit event with the note's `event_type` and `payload`, which key wrote it,
    and the request id. A free-form note; structured recommendations (`POST /recommendations`) are checked
    for suitability. With an `Idempotency-Key`, a retry returns the first answer and writes nothing."""

    async def work(conn: asyncpg.Connection) -> tuple[int, AuditNoteOut]:
        client = await visibility.find(conn, principal, body.client_id)
        event_id = await notes.record_note(
            conn,
            client,
            actor=principal.actor(),
            event_type=body.event_type,
            payload=body.payload,
            request_id=request_id_of(request),
            quota=quota,
        )
        return 200, AuditNoteOut(status="stored", audit_event_id=event_id)

    return await idempotent.run(request, principal, pool, work)
