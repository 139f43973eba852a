"""The FastAPI application: `create_app(settings)` wires routes, errors, middleware and the pool."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
from fastapi import FastAPI

from wealthgate import __version__, console
from wealthgate.api import docs, openapi, problems, throttled
from wealthgate.api.deps import MarksWrites
from wealthgate.api.middleware import BodyLimit, Observe, RequestId
from wealthgate.api.routes import (
    admin,
    audit,
    audit_trail,
    clients,
    health,
    ledger,
    portfolio,
    recommendations,
    securities,
    suitability,
    tools,
    transactions,
)
from wealthgate.audit import keyring, registry, witness
from wealthgate.audit.journal import journal_dir
from wealthgate.audit.reads import ReadRecorder
from wealthgate.audit.timer import checkpoint_timer
from wealthgate.auth.authenticate import KeyCache
from wealthgate.auth.revocations import REVOCATION_LISTENER, RevocationListener
from wealthgate.clients.context_cache import RenderedContexts
from wealthgate.db import replicas
from wealthgate.db.pool import connect, create_pool, session_pool, session_url, unit_of_work
from wealthgate.db.server import database_url
from wealthgate.db.write_marks import marks_file
from wealthgate.idempotency.store import purge
from wealthgate.mcp import http as mcp_http
from wealthgate.observability import logs, metrics, tracing
from wealthgate.recommendations.service import expire_due
from wealthgate.settings import Settings, get_settings
from wealthgate.throttling import gate

log = logging.getLogger("wealthgate")
DESCRIPTION = """Durable, audited, suitability-checked access to wealth-management data for AI agents.

Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`. Figures are decimal strings.
Errors are RFC 9457 problem+json. Another firm's object answers 404, exactly like a missing one."""


async def _close_tool_client(app: FastAPI) -> None:
    client = getattr(app.state, "tool_client", None)
    if client is not None:
        await client.aclose()


async def housekeeping(pool: asyncpg.Pool, idempotency_hours: int, every: float = 60) -> None:
    """Every minute, store `expired` on recommendations past their expiry (audited); every hour, forget
    Idempotency-Keys older than `idempotency_hours`. A failed round is logged and tried again next time."""
    rounds = 0
    while True:
        try:
            async with unit_of_work(pool) as conn:
                await expire_due(conn)
                if rounds % 60 == 0:
                    await purge(conn, idempotency_hours)
        except (OSError, asyncpg.PostgresError):
            log.exception("housekeeping round failed")
        rounds += 1
        await asyncio.sleep(every)


async def _open_replicas(app: FastAPI, settings: Settings, url: str, stack: AsyncExitStack) -> None:
    """With replicas (docs/scaling.md): the read router that sends agent reads to them, and key lookups that
    fall back to them while the primary is away."""
    app.state.key_source = app.state.pool  # where keys are looked up
    if not settings.read_replica_urls:
        return
    app.state.router = await replicas.open_router(
        app.state.pool,
        settings.read_replica_urls,
        marks_file(settings.home, url),
        pool_max=settings.db_pool_max,
        max_lag_seconds=settings.replica_max_lag_seconds,
        wait_seconds=settings.replica_wait_ms / 1000,
        check_seconds=settings.replica_check_seconds,
    )
    stack.push_async_callback(app.state.router.close)
    app.state.key_source = replicas.KeyLookups(app.state.router)


def _start_background(app: FastAPI, settings: Settings, stack: AsyncExitStack) -> None:
    """The worker's background jobs, each cancelled when the stack unwinds: housekeeping, the checkpoint
    timer (when on), and with several workers the metrics sampler."""
    jobs = [housekeeping(app.state.pool, settings.idempotency_hours)]
    if settings.audit_checkpoint_seconds > 0:
        jobs.append(checkpoint_timer(app.state.session_pool, settings))  # a session lock: not via a pooler
    if metrics.MULTIPROCESS:  # other workers answer scrapes too: keep this one's gauges fresh
        jobs.append(
            metrics.sampler(app.state.pool, app.state.reads, app.state.router, app.state.context_cache)
        )
    for job in jobs:
        stack.callback(asyncio.create_task(job).cancel)


# The order routes are matched in: the agents' context read first (each router tried before it costs every
# request matching time); no two routers' paths overlap, so the order changes nothing else.
ROUTERS = (
    clients,
    health,
    transactions,
    portfolio,
    securities,
    ledger,
    suitability,
    recommendations,
    tools,
    audit,
    audit_trail,
    admin,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    traces = tracing.install(settings.otel_exporter_otlp_endpoint)  # None unless an OTLP endpoint is set

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Here, in every worker, after uvicorn applied its own log config: it cannot undo this.
        logs.configure(settings.log_level, settings.log_format)
        ring = keyring.load(settings)  # no keyring, no service: every write is authenticated with it
        witness.check_outside(settings.witness_path, settings.pgdata)
        async with AsyncExitStack() as stack:
            url = stack.enter_context(database_url(settings))
            app.state.pool = await create_pool(
                url,
                min_size=settings.db_pool_min,
                max_size=settings.db_pool_max,
                pooled=settings.database_pooled,
            )
            stack.push_async_callback(app.state.pool.close)
            session = session_pool(app.state.pool, settings, url)  # the pool itself unless it is pooled
            app.state.session_pool = await stack.enter_async_context(session)
            await _open_replicas(app, settings, url, stack)
            app.state.key_cache = KeyCache(settings.auth_cache_seconds)
            app.state.throttle = stack.enter_context(gate.opened(settings))  # per-key limits (docs/limits.md)
            # revocations reach this worker's key cache as they commit (LISTEN: a session, never via a pooler)
            listen_url = session_url(settings, url)
            app.state.revocations = RevocationListener(
                lambda: connect(listen_url, application_name=REVOCATION_LISTENER), app.state.key_cache
            )
            await app.state.revocations.start()
            stack.push_async_callback(app.state.revocations.close)
            async with app.state.pool.acquire() as conn:
                await registry.ensure(conn, ring)
            keyring.install(ring)
            app.state.reads = ReadRecorder(
                app.state.pool,
                journal_dir(settings.home, settings.database_url),
                settings.read_audit_buffer_max,
            )
            app.state.reads.start()
            stack.push_async_callback(app.state.reads.stop)  # runs before the pool closes
            app.state.context_cache = RenderedContexts(
                settings.context_cache_entries, settings.context_cache_mb * 2**20
            )
            stack.push_async_callback(_close_tool_client, app)
            _start_background(app, settings, stack)
            if traces is not None:
                stack.callback(traces.shutdown)  # requests have drained by now: export what is batched
            await stack.enter_async_context(mcp_http.serving(app))  # /mcp; stops before the pool closes
            # Start-up objects live for the process: keep them out of every collection, and fewer objects to
            # traverse on each collection lowers tail latency under load.
            gc.collect()
            gc.freeze()
            yield

    app = FastAPI(
        title="wealthgate",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # docs.install serves /docs and /redoc with local assets
        redoc_url=None,
        # with replicas, each request of a key that may have written marks where its reads must catch up
        dependencies=[MarksWrites] if settings.read_replica_urls else None,
        # Requests are observed once, by `Observe` (metrics, access line, the server span): FastAPI's own
        # telemetry would add a second span and metrics as soon as a global OpenTelemetry provider exists.
        telemetry={"tracing": False, "metrics": False, "logs": False, "auto_configure": False},
    )
    app.state.settings = settings
    app.state.tracing = traces
    app.state.router = None  # the replicas' read router, opened by the lifespan when there are replicas
    problems.install(app)
    throttled.install(app)  # 429s of the per-key limits
    openapi.install(app)
    docs.install(app)
    for routes in ROUTERS:
        app.include_router(routes.router)
    mcp_http.mount(app)
    console.install(app)  # the people's console under /console/ (HTML pages, local assets)
    logs.register_routes(app.routes)  # the templates of plain routes and mounts, for metrics and logs
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Observe, tracing=traces)  # inside RequestId: every line knows the request's id
    app.add_middleware(RequestId)
    return app
