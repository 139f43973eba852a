"""Liveness, readiness and metrics: for orchestrators and monitoring, no key needed.

`/healthz` answers while the process runs (no database: a worker whose database is away is alive, and
restarting it would not help); `/readyz` says whether it should get traffic, check by check
(observability/readiness.py); `/metrics` is the Prometheus exposition (observability/metrics.py). Keep
`/metrics` off the public network (docs/observability.md): it names routes and volumes, not data or keys.
"""

from __future__ import annotations

import asyncio
import math
from typing import cast

import asyncpg
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from wealthgate import __version__
from wealthgate.api.deps import AppSettings, ContextCache, DbPool, Reads, Router
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit.queries import checkpoint_age
from wealthgate.observability import metrics, readiness
from wealthgate.observability.readiness import Liveness, Readiness

router = APIRouter(route_class=StrictJSONRoute, tags=["health"])
SCRAPE_DB_TIMEOUT = 1.0  # seconds the scrape waits for the checkpoint age before reporting NaN


@router.get("/healthz", summary="Liveness: the process is up (no key needed)", response_model=Liveness)
async def healthz() -> Liveness:
    """`ok` whenever the process can answer; touches nothing else (the database is `/readyz`'s business)."""
    return Liveness(status="ok", version=__version__)


@router.get(
    "/readyz",
    summary="Readiness, check by check (no key needed)",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "At least one check is failing (same body)"}},
)
async def readyz(
    pool: DbPool, reads: Reads, settings: AppSettings, router: Router
) -> Readiness | JSONResponse:
    """`ready` (200) when the database answers, its migrations are this release's, the read-audit backlog and
    the newest audit checkpoint's age are within bounds; `degraded` (200) when only the primary is away and
    a replica serves reads; otherwise `not_ready` (503) with the same body, naming each check's status and
    reason (and each replica's state)."""
    found = await readiness.assess(pool, reads, settings, router)
    if found.status != "not_ready":
        return found
    return JSONResponse(found.model_dump(), status_code=503)


async def _checkpoint_age(pool: asyncpg.Pool) -> float | None:
    try:
        async with pool.acquire(timeout=SCRAPE_DB_TIMEOUT) as proxy:
            return await checkpoint_age(cast(asyncpg.Connection, proxy))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return math.nan  # unknown: a scrape must not fail with the database


@router.get(
    "/metrics",
    summary="Prometheus metrics (no key needed; keep it off the public network)",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics_exposition(pool: DbPool, reads: Reads, router: Router, cache: ContextCache) -> Response:
    """Request counts and latencies by route template and status, pool connections in use and waiting, the
    read-audit queue and its lag, the newest checkpoint's age, rate-limit refusals and auth failures; every
    worker's values when several serve (multiprocess mode)."""
    metrics.sample(pool, reads, router, cache)
    metrics.set_checkpoint_age(await _checkpoint_age(pool))
    body = metrics.render() if not metrics.MULTIPROCESS else await asyncio.to_thread(metrics.render)
    return Response(body, media_type=metrics.CONTENT_TYPE)
