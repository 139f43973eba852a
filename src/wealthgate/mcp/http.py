"""MCP over streamable HTTP at `/mcp`, inside the FastAPI app, with the API's own keys.

`Endpoint` authenticates `Authorization: Bearer <key>` (or `X-API-Key`) like the REST routes and answers 401
problem+json before any MCP handling; the Principal and key ride in the ASGI scope, which the SDK hands to the
handlers as `ctx.request`, with the request's ids (the server's own, and the caller's `X-Request-ID` kept
beside it) that the POST's tool calls record under face `mcp-http`. Sessions are stateless (every POST stands
alone, JSON answers): `wealthgate serve --workers N` runs N processes, and a session kept in one worker's
memory would be unknown to the others.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_REQUEST
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from wealthgate.api.deps import presented_key
from wealthgate.api.middleware import SCOPE_CLIENT_REQUEST_ID, SCOPE_REQUEST_ID
from wealthgate.api.problems import problem
from wealthgate.api.tool_calls import Result, invoke, principal_of, visible
from wealthgate.auth.principal import Principal
from wealthgate.mcp.server import Context, build, entries

PATH = "/mcp"
_PRINCIPAL = "wealthgate.principal"
_KEY = "wealthgate.key"


@dataclass(frozen=True, slots=True)
class _Caller:
    principal: Principal
    key: str
    request_id: str | None  # the server's id of this POST /mcp (middleware.RequestId)
    client_request_id: str | None  # the caller's own X-Request-ID, kept beside it


def _caller(ctx: Context) -> _Caller:
    scope: Any = getattr(ctx.request, "scope", None)
    if not isinstance(scope, dict) or _PRINCIPAL not in scope:
        raise MCPError(INVALID_REQUEST, "this request was not authenticated")
    return _Caller(
        scope[_PRINCIPAL], scope[_KEY], scope.get(SCOPE_REQUEST_ID), scope.get(SCOPE_CLIENT_REQUEST_ID)
    )


def _sessions_for(app: FastAPI) -> StreamableHTTPSessionManager:
    async def listing(ctx: Context) -> list[dict[str, Any]]:
        return entries(visible(_caller(ctx).principal))

    async def calling(ctx: Context, name: str, arguments: dict[str, Any]) -> Result:
        caller = _caller(ctx)
        return await invoke(
            app,
            app.state.reads,
            caller.principal,
            caller.key,
            name,
            arguments,
            face="mcp-http",
            request_id=caller.request_id,
            client_request_id=caller.client_request_id,
        )

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
