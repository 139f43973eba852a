"""Request dependencies: the pool, and the Principal with a required scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from wealthgate.auth.authenticate import KeyCache, authenticate
from wealthgate.auth.principal import Principal
from wealthgate.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: <key>`")


def pool(request: Request) -> asyncpg.Pool:
    p: asyncpg.Pool = request.app.state.pool
    return p


def key_cache(request: Request) -> KeyCache:
    c: KeyCache = request.app.state.key_cache
    return c


def request_id(request: Request) -> str | None:
    rid: str | None = request.scope.get("wealthgate.request_id")
    return rid


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and checks it holds `scope` (401, then 403)."""

    async def principal(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_api_key)],
    ) -> Principal:
        presented = bearer.credentials if bearer is not None else api_key
        if not presented:
            raise Unauthorized("an API key is required: send Authorization: Bearer <key> or X-API-Key")
        found = await authenticate(pool(request), key_cache(request), presented)
        if found is None:
            raise Unauthorized("the API key is invalid or revoked")
        if not found.has(scope):
            raise Forbidden(f"this API key lacks the scope {scope}")
        return found

    return principal
