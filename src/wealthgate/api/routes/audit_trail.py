"""Compliance routes over the audit trail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from wealthgate.api.deps import DbPool, ReadConn, Reviewer
from wealthgate.api.exports import audit_export
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit import queries
from wealthgate.audit.schemas import MAX_ID, AuditEventPage, VerificationOut
from wealthgate.validation import Moment, StoredText

router = APIRouter(route_class=StrictJSONRoute, tags=["audit"])


@router.get(
    "/audit/verify",
    summary="Recompute the caller's firm's audit hash chains",
    response_model=VerificationOut,
)
async def verify_trail(
    principal: Reviewer,
    conn: ReadConn,
    since: Annotated[
        Moment | None, Query(alias="from", description="Only events at or after this time.")
    ] = None,
) -> VerificationOut:
    """`ok: true` when every chain of the firm is intact (links, hashes, every event's MAC, the signed
    checkpoints); otherwise `first_break` names the first broken event (or checkpoint) and why (edited,
    missing, inserted, reordered, forged, checkpoint mismatch, checkpoint missing). A key bound to an advisor
    verifies that advisor's clients' chains only. `newest_checkpoint_age_seconds`: how long ago the trail was
    last vouched for by a signed checkpoint."""
    return await queries.verification(conn, principal, since)


@router.get(
    "/audit/events",
    summary="The firm's audit trail, filtered and paginated",
    response_model=AuditEventPage,
)
async def list_events(
    principal: Reviewer,
    conn: ReadConn,
    client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    actor_key_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="The API key that acted.")] = None,
    action: Annotated[
        StoredText | None, Query(max_length=100, description="Exact, or a prefix: `api_key`.")
    ] = None,
    target_type: Annotated[StoredText | None, Query(max_length=100)] = None,
    target_id: Annotated[StoredText | None, Query(max_length=100)] = None,
    since: Annotated[Moment | None, Query(description="At or after this time.", alias="from")] = None,
    until: Annotated[Moment | None, Query(description="Before this time.", alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditEventPage:
    """Every event with who acted, on what, when, the request id (and the caller's own, if it sent one), and
    its chain position, hash and MAC. Only the caller's firm's events exist here; a key bound to an advisor
    sees only that advisor's clients' events (no firm-level ones). Oldest first; pass `next_cursor` back as
    `cursor`."""
    where = queries.EventFilter(client_id, actor_key_id, action, target_type, target_id, since, until)
    return await queries.page(conn, principal, where, limit=limit, cursor=cursor)


@router.get(
    "/audit/export",
    summary="Export the firm's audit trail with its checkpoints",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "JSON lines (`format=jsonl`) or CSV: a header, events, checkpoints, a seal",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def export_trail(
    principal: Reviewer,
    pool: DbPool,
    since: Annotated[Moment | None, Query(alias="from")] = None,
    until: Annotated[Moment | None, Query(alias="to")] = None,
    fmt: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
) -> StreamingResponse:
    """Every event of the caller's firm with its hash, chain position and MAC, then the signed checkpoints
    and a signed seal; verifiable offline with wealthgate/audit/offline.py and the firm's public keys. A key
    bound to an advisor exports that advisor's clients' chains only, without checkpoints."""
    return audit_export(pool, principal, since, until, fmt)
