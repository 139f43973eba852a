"""Request dependencies: the Principal with a required scope, and the request ids.

Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a thread pool, a cost on
every request. Authentication reads the two headers itself (one dependency, not three nested security
classes); the security schemes are declared in the OpenAPI document instead (see `openapi.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from wealthgate.api.middleware import SCOPE_CLIENT_REQUEST_ID, SCOPE_REQUEST_ID
from wealthgate.auth.authenticate import authenticate
from wealthgate.auth.principal import Principal
from wealthgate.errors import Forbidden, Unauthorized


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
