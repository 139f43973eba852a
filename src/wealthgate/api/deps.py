"""Request dependencies, typed once and used by name in every route (as the template's `SessionDep`):

- principals: `Reader` (clients:read), `Writer` (recommendations:write), `Reviewer` (compliance:review),
  `Admin`, and the few unions routes accept (`Viewer`, `PolicyReader`, `PolicyViewer`);
- connections: `ReadConn` (one read-only REPEATABLE READ transaction, so every figure in a response comes
  from one snapshot), `WriteConn` (the unit of work: commits when the route returns, rolls back when it
  raises, both before the response is sent), `DbPool` (only for work that needs transactions of its own:
  idempotency);
- `AppSettings`, `Reads` (the read-audit recorder) and `TextQuotaOf` (the daily quota of free text per key).

`require` also applies the per-key limits (docs/limits.md): the authentication back-off before the key is
checked, then the key's read or write rate; both are counters shared by the workers (`throttling/`), with
no database round trip.

Routes never touch `request.app.state`; these dependencies are the one place that does (the layering test).

Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a thread pool, a cost on
every request. Authentication reads the two headers itself (one dependency, not three nested security
classes); the security schemes are declared in the OpenAPI document instead (see `openapi.py`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, cast

import asyncpg
from asyncpg.transaction import Transaction
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError

from wealthgate.api.middleware import (
    INNER_REQUEST,
    SCOPE_CLIENT_REQUEST_ID,
    SCOPE_REQUEST_ID,
    add_response_headers,
)
from wealthgate.api.throttled import tool_kind
from wealthgate.audit.reads import ReadRecorder
from wealthgate.auth.backoff import authenticate_guarded
from wealthgate.auth.principal import Principal
from wealthgate.clients.context_cache import RenderedContexts
from wealthgate.db.replicas import ReadRouter
from wealthgate.errors import Forbidden, Unauthorized
from wealthgate.observability import metrics
from wealthgate.observability.logs import identify
from wealthgate.settings import Settings
from wealthgate.throttling.gate import Throttle
from wealthgate.throttling.quota import TextQuota
from wealthgate.throttling.rates import READ_METHODS, Kind

TOOL_CALL_PATH = "/tools/{name:path}"  # the REST tool face (routes/tools.py): a call is its tool's kind
SCOPE_PRINCIPAL = "wealthgate.principal"  # the authenticated caller, for the dependencies solved after it
SCOPE_WRITES = "wealthgate.writes"  # set when the caller's request may write (read-your-writes, below)
SCOPE_CHARGED = "wealthgate.charged"  # the request has been counted against its key's rate limit
SCOPE_ON_PRIMARY = "wealthgate.on-primary"  # a read run again on the primary after its replica failed


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
        return None
    return request.headers.get("x-api-key") or None


def client_address(request: Request) -> str | None:
    """The peer's address (behind a proxy, what the server was told to trust: see docs/limits.md)."""
    return request.client.host if request.client else None


def request_kind(request: Request) -> Kind:
    """Read or write, for the rate limits: by method, except a tool call (`POST /tools/{name}`), which is
    what its tool is (`tools/catalog.py`: a read-only tool is a read); an unknown tool counts as a read."""
    if request.method in READ_METHODS:
        return "read"
    route = request.scope.get("route")
    if getattr(route, "path", None) == TOOL_CALL_PATH:
        return tool_kind(str(request.path_params.get("name", "")))
    return "write"


async def charge(request: Request, principal: Principal, kind: Kind) -> None:
    """Count a request against the key's rate limit of `kind`: `RateLimited` (429) when over it; else the
    answer carries the verdict's RateLimit headers. A tool's twin, called in-process
    by a tool face (`INNER_REQUEST`), is not counted again: the face counted the call."""
    if kind == "write":
        request.scope[SCOPE_WRITES] = True
    if principal.key_id is None or INNER_REQUEST.get() is not None or request.scope.get(SCOPE_CHARGED):
        return  # (charged already: a read run again on the primary, api/routing.py, is one request)
    throttle: Throttle = request.app.state.throttle
    verdict = await throttle.rates.charge(kind, principal.firm_id, principal.key_id)
    request.scope[SCOPE_CHARGED] = True
    if not verdict.allowed:
        raise verdict.refusal()
    add_response_headers(request.scope, verdict.headers())


def require(scope: str, *alternatives: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that authenticates the caller (401; 429 while its key id or address is backed off after
    failures), counts the request against the key's rate limit (429), and checks it holds `scope` or one of
    `alternatives` (403)."""
    accepted = (scope, *alternatives)

    async def principal(request: Request) -> Principal:
        presented = presented_key(request)
        if not presented:
            raise Unauthorized("an API key is required: send Authorization: Bearer <key> or X-API-Key")
        state = request.app.state
        throttle: Throttle = state.throttle
        found = await authenticate_guarded(
            state.pool,
            state.key_cache,
            throttle.backoff,
            presented,
            client_address(request),
            lookups=state.key_source,
        )
        identify(found.firm_id, found.key_id)  # the request's log lines and access line name the caller
        request.scope[SCOPE_PRINCIPAL] = found
        await charge(request, found, request_kind(request))
        if not any(found.has(s) for s in accepted):
            raise Forbidden(f"this API key lacks the scope {' or '.join(accepted)}")
        return found

    return principal


def request_id_of(request: Request) -> str | None:
    """The server's own id of this request (`middleware.RequestId`), what audit events record."""
    rid: str | None = request.scope.get(SCOPE_REQUEST_ID)
    return rid


def client_request_id_of(request: Request) -> str | None:
    """The caller's own `X-Request-ID`, if it sent a sane one: kept beside the server's id, never for it."""
    rid: str | None = request.scope.get(SCOPE_CLIENT_REQUEST_ID)
    return rid


# ---- principals -----------------------------------------------------------------------------------------
# One dependency object per role, so FastAPI solves it once per request however often it is named.
read_clients = require("clients:read")  # `Reader`'s dependency, also called directly by the context route
Reader = Annotated[Principal, Depends(read_clients)]
Writer = Annotated[Principal, Depends(require("recommendations:write"))]
Reviewer = Annotated[Principal, Depends(require("compliance:review"))]
Admin = Annotated[Principal, Depends(require("admin"))]
Viewer = Annotated[Principal, Depends(require("clients:read", "compliance:review"))]  # recommendations
PolicyReader = Annotated[Principal, Depends(require("compliance:review", "admin"))]  # policy history
PolicyViewer = Annotated[Principal, Depends(require("clients:read", "compliance:review", "admin"))]


# ---- the application's objects ------------------------------------------------------------------------


async def _settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


async def _pool(request: Request) -> asyncpg.Pool:
    return cast(asyncpg.Pool, request.app.state.pool)


async def reads_of(request: Request) -> ReadRecorder:
    return cast(ReadRecorder, request.app.state.reads)


async def _router(request: Request) -> ReadRouter | None:
    return cast(ReadRouter | None, request.app.state.router)


async def _text_quota(request: Request) -> TextQuota:
    return cast(Throttle, request.app.state.throttle).text_quota


AppSettings = Annotated[Settings, Depends(_settings)]
DbPool = Annotated[asyncpg.Pool, Depends(_pool)]
Reads = Annotated[ReadRecorder, Depends(reads_of)]
Router = Annotated[ReadRouter | None, Depends(_router)]  # the replicas' read router (None: no replicas)
TextQuotaOf = Annotated[TextQuota, Depends(_text_quota)]  # the daily quota of free text per key


# ---- connections ---------------------------------------------------------------------------------------


# A request waits this long for a pooled connection, then answers 503 with Retry-After (TimeoutError is an
# OSError, which the problem handler reads as the database being away) rather than hanging on a database that
# stopped answering. Ten seconds is far beyond any wait a healthy pool under load imposes. `asyncio.timeout`
# around the acquire, not asyncpg's `acquire(timeout=)`, which runs every acquire in a task of its own
# (`wait_for`): measurably slower on the context read, for a bound that almost never fires.
ACQUIRE_SECONDS = 10.0


@asynccontextmanager
async def _pooled(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection of `pool`, waited for at most ACQUIRE_SECONDS, released after."""
    async with asyncio.timeout(ACQUIRE_SECONDS):
        proxy = await pool.acquire()
    try:
        yield cast(asyncpg.Connection, proxy)
    finally:
        await pool.release(proxy)


def _snapshot(conn: asyncpg.Connection) -> Transaction:
    """One read-only REPEATABLE READ snapshot: every statement of the request sees the same database."""
    return conn.transaction(isolation="repeatable_read", readonly=True)


async def _read_conn(pool: DbPool) -> AsyncIterator[asyncpg.Connection]:
    async with _pooled(pool) as conn, _snapshot(conn):
        yield conn


async def _write_conn(pool: DbPool) -> AsyncIterator[asyncpg.Connection]:
    async with _pooled(pool) as conn, conn.transaction():
        yield conn


READ_AFTER = "WealthGate-Read-After"
READ_AFTER_PATTERN = r"^[0-9]{1,19}$"  # a WAL position: 19 digits hold every one (a larger is never reached)
# What an answer to a write carries with replicas (the primary's WAL position after it), and what a read may
# send back: a replica serves the read only once it has replayed that far (docs/scaling.md). Declared in
# the OpenAPI document by api/openapi.py on every operation that reads through `agent_conn`.


def read_after_of(request: Request) -> int:
    """The `WealthGate-Read-After` the caller sent (0 when none); a malformed one is a 422 naming it."""
    sent = request.headers.get(READ_AFTER)
    if sent is None:
        return 0
    if re.fullmatch(READ_AFTER_PATTERN, sent):  # the form the OpenAPI document declares
        return int(sent)
    message = "must be 1 to 19 digits: the header of an earlier write's answer, as it came"
    raise RequestValidationError(
        [{"type": "value_error", "loc": ("header", READ_AFTER), "msg": message, "input": sent}]
    )


@asynccontextmanager
async def agent_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A connection for an agent's read: a streaming replica's when one is usable and has replayed the
    caller's own last write on this host and the position it sent (`WealthGate-Read-After`, db/replicas.py),
    else the primary's. Without the caller known (its dependency not solved before this one) the primary
    serves: never a replica that might miss the caller's write. A replica failing during the read raises
    `ReplicaFailed`, and the route runs again on the primary."""
    at_least = read_after_of(request)  # checked with replicas or without: one answer to a malformed one
    router: ReadRouter | None = request.app.state.router
    principal: Principal | None = request.scope.get(SCOPE_PRINCIPAL)
    again = bool(request.scope.get(SCOPE_ON_PRIMARY))  # a second attempt, after a router's ReplicaFailed
    if router is None or principal is None or again:
        if again:
            metrics.READ_ROUTES.labels(server="primary", reason="replica_failed").inc()
        async with _pooled(request.app.state.pool) as conn:
            yield conn
        return
    reading = router.reading(principal.firm_id, principal.key_id, ACQUIRE_SECONDS, at_least=at_least)
    async with reading as (conn, routed):
        metrics.READ_ROUTES.labels(server=routed.server, reason=routed.reason).inc()
        yield conn


async def _agent_read_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """`_read_conn` (one read-only REPEATABLE READ snapshot) on an agent's connection (`agent_conn`)."""
    async with agent_conn(request) as conn, _snapshot(conn):
        yield conn


async def _agent_statement_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """An agent's connection with no transaction around the request: for a read whose statements are each
    consistent alone (each is its own snapshot), which saves the BEGIN and COMMIT round trips. The context
    read is one: its stamp statement checks visibility, and on a miss the full statement reads the stamp
    again with the document it builds (clients/service.py)."""
    async with agent_conn(request) as conn:
        yield conn


async def _marks_writes(request: Request) -> AsyncIterator[None]:
    """After a request of a key that may have written (a write by its method, or a write tool's call) and
    before its answer: the primary's WAL position becomes the key's mark, which its next reads must see
    replayed before a replica serves them (db/replicas.py), and the answer's `WealthGate-Read-After`, which a
    caller sends back to read its write on another host (the SDK does). An application dependency, only with
    replicas."""
    yield
    principal: Principal | None = request.scope.get(SCOPE_PRINCIPAL)
    if principal is not None and principal.key_id is not None and request.scope.get(SCOPE_WRITES):
        router: ReadRouter = request.app.state.router
        position = await router.mark_write(principal.firm_id, principal.key_id)
        add_response_headers(request.scope, {READ_AFTER: str(position)})  # for reads on another host


MarksWrites = Depends(_marks_writes, scope="function")  # an application dependency (api/app.py)

# scope="function": the transaction ends when the route function returns, before the response is sent, so a
# failed commit is the client's 5xx, never a 2xx for a write that did not happen.
ReadConn = Annotated[asyncpg.Connection, Depends(_read_conn, scope="function")]
WriteConn = Annotated[asyncpg.Connection, Depends(_write_conn, scope="function")]
# An agent's read (context, portfolio, analytics, transactions, securities, lists): a replica may serve it.
AgentReadConn = Annotated[asyncpg.Connection, Depends(_agent_read_conn, scope="function")]
# The same without a transaction, for reads whose every statement stands alone (the context read).
AgentStatementConn = Annotated[asyncpg.Connection, Depends(_agent_statement_conn, scope="function")]
AGENT_CONNECTIONS = (_agent_read_conn, _agent_statement_conn)  # what a replica may serve (api/openapi.py)


# ---- the context cache ---------------------------------------------------------------------------------


async def context_cache_of(request: Request) -> RenderedContexts:
    return cast(RenderedContexts, request.app.state.context_cache)


ContextCache = Annotated[RenderedContexts, Depends(context_cache_of)]  # this worker's rendered contexts
