"""Liveness and readiness."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from wealthgate import __version__
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit import checkpoints

router = APIRouter(route_class=StrictJSONRoute, tags=["health"])


@router.get("/healthz", summary="Service and database health (no key needed)")
async def healthz(request: Request) -> JSONResponse:
    """`ok` when the service can reach PostgreSQL; 503 otherwise. `audit_checkpoint_age_seconds`: how long ago
    the newest signed audit checkpoint was made (null before the first), for alerting on a stalled timer."""
    try:
        newest = await checkpoints.newest_at(request.app.state.pool)
    except Exception:  # any failure to reach the database is "not ready"
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    age = None if newest is None else round((datetime.now(UTC) - newest).total_seconds(), 3)
    return JSONResponse(
        {"status": "ok", "database": "ok", "version": __version__, "audit_checkpoint_age_seconds": age}
    )
