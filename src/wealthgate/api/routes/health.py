"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal, cast

import asyncpg
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from wealthgate import __version__
from wealthgate.api.deps import DbPool
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit.queries import checkpoint_age

router = APIRouter(route_class=StrictJSONRoute, tags=["health"])


# The service's own health belongs to no domain package, so its two bodies are declared beside the route.
class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    version: str
    audit_checkpoint_age_seconds: float | None = Field(
        description="Seconds since the newest signed audit checkpoint (null before the first)"
    )


class Unavailable(BaseModel):
    status: Literal["unavailable"]
    database: Literal["unreachable"]


@router.get(
    "/healthz",
    summary="Service and database health (no key needed)",
    response_model=Health,
    responses={503: {"model": Unavailable, "description": "PostgreSQL cannot be reached"}},
)
async def healthz(pool: DbPool) -> Health | JSONResponse:
    """`ok` when the service can reach PostgreSQL; 503 otherwise. `audit_checkpoint_age_seconds`: how long ago
    the newest signed audit checkpoint was made (null before the first), for alerting on a stalled timer."""
    # The pool, not ReadConn: failing to get a connection is the answer here (503), not an error.
    try:
        async with pool.acquire() as conn:
            age = await checkpoint_age(cast(asyncpg.Connection, conn))
    except Exception:  # any failure to reach the database is "not ready"
        return JSONResponse(
            Unavailable(status="unavailable", database="unreachable").model_dump(), status_code=503
        )
    return Health(status="ok", database="ok", version=__version__, audit_checkpoint_age_seconds=age)
