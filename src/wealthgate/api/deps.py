"""Request dependencies, typed once and used by name in every route (as the template's `SessionDep`):

- principals: `Reader` (clients:read), `Writer` (recommendations:write), `Reviewer` (compliance:review),
  `Admin`, and the few unions routes accept (`Viewer`, `PolicyReader`, `PolicyViewer`);
- connections: `ReadConn` (one read-only REPEATABLE READ transaction, so every figure in a response comes
  from one snapshot), `WriteConn` (the unit of work: commits when the route returns, rolls back when it
  raises, both before the response is sent), `DbPool` (only for work that needs transactions of its own:
  idempotency);
- `AppSettings` and `Reads` (the read-audit recorder).

Routes never touch `request.app.state`; these dependencies are the one place that does (the layering test).

Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a thread pool, a cost on
every request. Authentication reads the two headers itself (one dependency, not three nested security
classes); the security schemes are declared in the OpenAPI document instead (see `openapi.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, cast

import asyncpg
from fastapi import Depends, Request

from wealthgate.api.middleware import SCOPE_CLIENT_REQUEST_ID, SCOPE_REQUEST_ID
from wealthgate.audit.reads import ReadRecorder
from wealthgate.auth.authenticate import authenticate
from wealthgate.auth.principal import Principal
from wealthgate.errors import Forbidden, Unauthorized
from wealthgate.settings import Settings


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
        return None
    return request.headers.get("x-api-key") or None


def require(scope: str, *alternatives: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that authenticates the caller and checks it holds `scope` or one of `alternatives`
    (401, then 403)."""
    accepted = (scope, *alternatives)

    async def principal(request: Request) -> Principal:
        presented = presented_key(request)
        if not presented:
            raise Unauthorized("an API key is required: send Authorization: Bearer <key> or X-API-Key")
        state = request.app.state
        found = await authenticate(state.pool, state.key_cache, presented)
        if found is None:
            raise Unauthorized("the API key is invalid or revoked")
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
Reader = Annotated[Principal, Depends(require("clients:read"))]
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


async def _reads(request: Request) -> ReadRecorder:
    return cast(ReadRecorder, request.app.state.reads)


AppSettings = Annotated[Settings, Depends(_settings)]
DbPool = Annotated[asyncpg.Pool, Depends(_pool)]
Reads = Annotated[ReadRecorder, Depends(_reads)]


# ---- connections ---------------------------------------------------------------------------------------


async def _read_conn(pool: DbPool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        yield cast(asyncpg.Connection, conn)


async def _write_conn(pool: DbPool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn, conn.transaction():
        yield cast(asyncpg.Connection, conn)


# scope="function": the transaction ends when the route function returns, before the response is sent, so a
# failed commit is the client's 5xx, never a 2xx for a write that did not happen.
ReadConn = Annotated[asyncpg.Connection, Depends(_read_conn, scope="function")]
WriteConn = Annotated[asyncpg.Connection, Depends(_write_conn, scope="function")]
