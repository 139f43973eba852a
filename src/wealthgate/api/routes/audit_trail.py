"""Compliance routes over the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from wealthgate.api.deps import require
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit.verify import verify
from wealthgate.auth.principal import Principal

router = APIRouter(route_class=StrictJSONRoute, tags=["audit"])


@router.get("/audit/verify", summary="Recompute the caller's firm's audit hash chains")
async def verify_trail(
    principal: Annotated[Principal, Depends(require("compliance:review"))],
    request: Request,
    since: Annotated[datetime | None, Query(description="Only events at or after this time.")] = None,
) -> dict[str, Any]:
    """`ok: true` when every chain of the firm is intact; otherwise `first_break` names the first broken
    event and why (edited, missing, inserted, reordered)."""
    async with request.app.state.pool.acquire() as conn:
        result = await verify(
            conn, firm_id=principal.firm_id, since=since, public_key=request.app.state.audit_public_key
        )
    return result.as_dict()
