"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from wealthgate import __version__
from wealthgate.api.routing import StrictJSONRoute

router = APIRouter(route_class=StrictJSONRoute, tags=["health"])


@router.get("/healthz", summary="Service and database health (no key needed)")
async def healthz(request: Request) -> JSONResponse:
    """`ok` when the service can reach PostgreSQL; 503 otherwise."""
    try:
        await request.app.state.pool.fetchval("SELECT 1")
    except Exception:  # any failure to reach the database is "not ready"
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})
