"""MCP over streamable HTTP at `/mcp`, inside the FastAPI app, with the API's own keys.

`Endpoint` authenticates `Authorization: Bearer <key>` (or `X-API-Key`) like the REST routes and answers 401
problem+json before any MCP handling; the Principal and key ride in the ASGI scope, which the SDK hands to the
handlers as `ctx.request`, with the request's ids (the server's own, and the caller's `X-Request-ID` kept
beside it) that the POST's tool calls record under face `mcp-http`. Sessions are stateless (every POST stands
alone, JSON answers): `wealthgate serve --workers N` runs N processes, and a session kept in one worker's
memory would be unknown to the others.

Before anything else, a request whose `Origin` header names an origin that is not allowed is refused with 403
(the MCP transport's defence against DNS rebinding: a web page cannot drive a server on the user's network).
No `Origin`, as from native clients and SDKs, is allowed; allowed are `mcp_allowed_origins` and the origin of
`public_url`. The body is a JSON-RPC error without an id, as the transport specification describes.

The key goes through the same authentication back-off as the REST routes (429 problem+json while its key id
or the client's address is blocked), and every tool call counts against the key's read or write rate limit
by what the tool does (`Tool.read_only`): a call over it is not run and answers a tool error saying it was
rate limited and when to retry (not recorded as a call: a flood must not fill the trail).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_REQUEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from wealthgate.api.deps import client_address, presented_key
from wealthgate.api.middleware import SCOPE_CLIENT_REQUEST_ID, SCOPE_REQUEST_ID, add_response_headers
from wealthgate.api.problems import problem
from wealthgate.api.throttled import refusal, tool_kind
from wealthgate.api.tool_calls import Result, invoke, visible
from wealthgate.auth.backoff import authenticate_guarded
from wealthgate.auth.principal import Principal
from wealthgate.errors import Unauthorized
from wealthgate.mcp.server import Context, build, entries
from wealthgate.settings import Settings
from wealthgate.throttling.errors import Throttled
from wealthgate.throttling.gate import Throttle

PATH = "/mcp"
_PRINCIPAL = "wealthgate.principal"
_KEY = "wealthgate.key"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(value: str) -> str | None:
    """An origin in one spelling (`scheme://host[:port]`, lower case, no default port), or None when `value`
    is none; `null` (an opaque origin) stays `null`."""
    value = value.strip()
    if value == "null":
        return value
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown = "" if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()) else f":{port}"
    return f"{parts.scheme.lower()}://{host.lower()}{shown}"


def allowed_origins(settings: Settings) -> frozenset[str]:
    """`mcp_allowed_origins` and the origin of `public_url` (an unreadable entry allows nothing)."""
    given: Iterable[str] = [
        *settings.mcp_allowed_origins,
        *([settings.public_url] if settings.public_url else []),
    ]
    return frozenset(o for o in (origin_of(v) for v in given) if o is not None)


def _bad_origin(origin: str) -> Response:
    """403 with a JSON-RPC error that has no id (MCP transport: a present and invalid Origin)."""
    body = {
        "jsonrpc": "2.0",
        "error": {"code": INVALID_REQUEST, "message": f"Origin {origin[:200]!r} is not allowed to call /mcp"},
    }
    return Response(orjson.dumps(body), status_code=403, media_type="application/json")


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
        refused = await _charge(app, ctx, caller.principal, name)
        if refused is not None:
            return refused
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


async def _charge(app: FastAPI, ctx: Context, principal: Principal, name: str) -> Result | None:
    """Count a tool call against the key's rate limit of its kind (an unknown tool: a read); the refusal, as a
    tool's problem, when over it."""
    if principal.key_id is None:
        return None
    throttle: Throttle = app.state.throttle
    verdict = await throttle.rates.charge(tool_kind(name), principal.firm_id, principal.key_id)
    if verdict.allowed:
        scope: Any = getattr(ctx.request, "scope", None)
        if isinstance(scope, dict):
            add_response_headers(scope, verdict.headers())  # the POST's answer carries the RateLimit headers
        return None
    exc = verdict.refusal()
    body = {
        "type": f"urn:wealthgate:problem:{exc.slug}",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        **exc.extra,
    }
    return Result(exc.status, body)


class Endpoint:
    """ASGI app for `/mcp`: the caller's key first (401 problem+json), then the SDK's transport."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        app: FastAPI = scope["app"]
        origin = request.headers.get("origin")
        if origin is not None and origin_of(origin) not in app.state.mcp_origins:
            await _bad_origin(origin)(scope, receive, send)
            return
        key = presented_key(request)
        try:
            if key is None:
                raise Unauthorized("an API key is required: send Authorization: Bearer <key> or X-API-Key")
            throttle: Throttle = app.state.throttle
            principal = await authenticate_guarded(
                app.state.pool,
                app.state.key_cache,
                throttle.backoff,
                key,
                client_address(request),
                lookups=app.state.key_source,
            )
        except Unauthorized as exc:
            answer = problem(401, exc.detail, request=request, headers={"WWW-Authenticate": "Bearer"})
            await answer(scope, receive, send)
            return
        except Throttled as exc:
            await refusal(exc, request)(scope, receive, send)
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
    app.state.mcp_origins = allowed_origins(app.state.settings)
    async with sessions.run():
        yield
