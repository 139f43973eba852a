"""MCP over streamable HTTP at `/mcp`, inside the FastAPI app, with the API's own keys.

`Endpoint` authenticates `Authorization: Bearer <key>` (or `X-API-Key`) like the REST routes and answers 401
problem+json before any MCP handling; the Principal and key ride in the ASGI scope, which the SDK hands to the
handlers as `ctx.request`. Sessions are stateless (every POST stands alone, JSON answers): `wealthgate
serve --workers N` runs N processes, and a session kept in one worker's memory would be unknown to the others.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_REQUEST
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from wealthgate.api.deps import presented_key
from wealthgate.api.problems import problem
from wealthgate.api.tool_calls import Result, invoke, principal_of, visible
from wealthgate.auth.principal import Principal
from wealthgate.mcp.server import Context, build, entries

PATH = "/mcp"
_PRINCIPAL = "wealthgate.principal"
_KEY = "wealthgate.key"


def _caller(ctx: Context) -> tuple[Principal, str, str | None]:
    scope: Any = getattr(ctx.request, "scope", None)
    if not isinstance(scope, dict) or _PRINCIPAL not in scope:
        raise MCPError(INVALID_REQUEST, "this request was not authenticated")
    return scope[_PRINCIPAL], scope[_KEY], scope.get("wealthgate.request_id")


def _sessions_for(app: FastAPI) -> StreamableHTTPSessionManager:
    async def listing(ctx: Context) -> list[dict[str, Any]]:
        principal, _key, _rid = _caller(ctx)
        return entries(visible(principal))

    async def calling(ctx: Context, name: str, arguments: dict[str, Any]) -> Result:
        principal, key, request_id = _caller(ctx)
        return await invoke(app, principal, key, name, arguments, face="mcp-http", request_id=request_id)

    return StreamableHTTPSessionManager(app=build(listing, calling), stateless=True, json_response=True)


class Endpoint:
    """ASGI app for `/mcp`: the caller's key first (401 problem+json), then the SDK's transport."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        app: FastAPI = scope["app"]
        key = presented_key(request)
        principal = await principal_of(app, key) if key else None
        if key is None or principal is None:
            detail = (
                "an API key is required: send Authorization: Bearer <key> or X-API-Key"
                if key is None
                else "the API key is invalid or revoked"
            )
            refusal = problem(401, detail, request=request, headers={"WWW-Authenticate": "Bearer"})
            await refusal(scope, receive, send)
            return
        scope[_PRINCIPAL] = principal
        scope[_KEY] = key
        sessions: StreamableHTTPSessionManager = app.state.mcp_sessions
        await sessions.handle_request(scope, receive, send)


def mount(app: FastAPI) -> None:
    """Serve MCP at `/mcp` (a plain route: no redirect to `/mcp/`, and not in the OpenAPI document)."""
    app.router.routes.append(Route(PATH, Endpoint(), name="mcp"))


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[None]:
    """Run the MCP transport for the app's lifetime; enter it inside the app's lifespan."""
    sessions = _sessions_for(app)
    app.state.mcp_sessions = sessions
    async with sessions.run():
        yield
