"""Compliance routes over the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from wealthgate.api.deps import require
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit import keyring, queries
from wealthgate.audit.export import export
from wealthgate.audit.verify import verify
from wealthgate.auth.principal import Principal

router = APIRouter(route_class=StrictJSONRoute, tags=["audit"])


@router.get("/audit/verify", summary="Recompute the caller's firm's audit hash chains")
async def verify_trail(
    principal: Annotated[Principal, Depends(require("compliance:review"))],
    request: Request,
    since: Annotated[
        datetime | None, Query(alias="from", description="Only events at or after this time.")
    ] = None,
) -> dict[str, Any]:
    """`ok: true` when every chain of the firm is intact (links, hashes, every event's MAC, the signed
    checkpoints); otherwise `first_break` names the first broken event (or checkpoint) and why (edited,
    missing, inserted, reordered, forged, checkpoint mismatch, checkpoint missing). A key bound to an advisor
    verifies that advisor's clients' chains only. `newest_checkpoint_age_seconds`: how long ago the trail was
    last vouched for by a signed checkpoint."""
    ring = keyring.installed()
    async with request.app.state.pool.acquire() as conn:
        result = await verify(
            conn,
            firm_id=principal.firm_id,
            since=since,
            public_keys=ring.public_keys(),
            mac_keys=ring.mac_secrets(),
            chain_keys=await queries.advisor_chains(conn, principal),
        )
    return result.as_dict()


@router.get("/audit/events", summary="The firm's audit trail, filtered and paginated")
async def list_events(
    principal: Annotated[Principal, Depends(require("compliance:review"))],
    request: Request,
    client_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    actor_key_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="The API key that acted.")
    ] = None,
    action: Annotated[str | None, Query(max_length=100, description="Exact, or a prefix: `api_key`.")] = None,
    target_type: Annotated[str | None, Query(max_length=100)] = None,
    target_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[datetime | None, Query(description="At or after this time.", alias="from")] = None,
    until: Annotated[datetime | None, Query(description="Before this time.", alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Every event with who acted, on what, when, the request id (and the caller's own, if it sent one), and
    its chain position, hash and MAC. Only the caller's firm's events exist here; a key bound to an advisor
    sees only that advisor's clients' events (no firm-level ones). Oldest first; pass `next_cursor` back as
    `cursor`."""
    where = queries.EventFilter(client_id, actor_key_id, action, target_type, target_id, since, until)
    async with request.app.state.pool.acquire() as conn:
        items, next_cursor = await queries.page(
            conn,
            principal.firm_id,
            where,
            limit=limit,
            cursor=cursor,
            chain_keys=await queries.advisor_chains(conn, principal),
        )
    return {"items": items, "next_cursor": next_cursor}


@router.get("/audit/export", summary="Export the firm's audit trail with its checkpoints")
async def export_trail(
    principal: Annotated[Principal, Depends(require("compliance:review"))],
    request: Request,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    fmt: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
) -> StreamingResponse:
    """Every event of the caller's firm with its hash, chain position and MAC, then the signed checkpoints
    and a signed seal; verifiable offline with wealthgate/audit/offline.py and the firm's public keys. A key
    bound to an advisor exports that advisor's clients' chains only, without checkpoints."""
    ring = keyring.installed()

    async def lines() -> AsyncIterator[str]:
        async with request.app.state.pool.acquire() as conn:
            chains = await queries.advisor_chains(conn, principal)
            scope = "firm" if chains is None else f"advisor:{principal.advisor_id}"
            async for line in export(
                conn,
                firm_id=principal.firm_id,
                since=since,
                until=until,
                fmt=fmt,
                ring=ring,
                chain_keys=chains,
                scope=scope,
            ):
                yield line

    media = "text/csv" if fmt == "csv" else "application/x-ndjson"
    filename = f"audit-firm-{principal.firm_id}.{fmt}"
    return StreamingResponse(
        lines(), media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
