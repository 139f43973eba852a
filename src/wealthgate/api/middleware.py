"""Pure ASGI middleware (no BaseHTTPMiddleware on the hot path): request ids, observation (access line,
metrics, trace span) and the body size limit."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import NamedTuple

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wealthgate.api.problems import MEDIA_TYPE
from wealthgate.audit.context import CLIENT_REQUEST_ID
from wealthgate.observability import metrics
from wealthgate.observability.logs import ACCESS, REQUEST, RequestContext, route_of
from wealthgate.observability.tracing import RequestTracing

_REQUEST_ID = b"x-request-id"
_CLIENT_REQUEST_ID = b"x-client-request-id"
SCOPE_REQUEST_ID = "wealthgate.request_id"  # where the ids ride in the ASGI scope
SCOPE_CLIENT_REQUEST_ID = "wealthgate.client_request_id"
# Headers a dependency decided on while serving (the RateLimit headers of an allowed request), added to the
# answer by `RequestId` when it starts: routes that return their own `Response` carry them as well.
SCOPE_RESPONSE_HEADERS = "wealthgate.response_headers"


def add_response_headers(scope: Scope, headers: Mapping[str, str]) -> None:
    """Have the answer to this request carry `headers` too."""
    scope.setdefault(SCOPE_RESPONSE_HEADERS, []).extend(
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    )


class RequestIds(NamedTuple):
    """The server's own id for a request, and the caller's `X-Request-ID` kept beside it (if sane)."""

    server: str
    client: str | None


INNER_REQUEST: ContextVar[RequestIds | None] = ContextVar("wealthgate_inner_request", default=None)
"""Set by the tool face (`tool_calls.invoke`) around the in-process call of a tool's REST twin, so the twin's
events carry the outer request's ids. A context variable, not a header: httpx's ASGITransport runs the app in
the caller's task, so only code of this process can set it; a remote caller cannot."""


def new_request_id() -> str:
    return os.urandom(12).hex()


def _claimed(value: bytes) -> str | None:
    candidate = value.decode("latin-1")
    return candidate if 0 < len(candidate) <= 128 and candidate.isprintable() else None


class RequestId:
    """Give every request the server's own id (echoed in `X-Request-ID`, recorded by the audit trail). A
    caller's sane `X-Request-ID` is kept beside it as the client request id (echoed in `X-Client-Request-ID`,
    recorded as `client_request_id`), never instead of it: an id the caller chose could repeat another
    request's, or name one that never happened."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ids = INNER_REQUEST.get()
        if ids is None:
            claimed = next((_claimed(value) for name, value in scope["headers"] if name == _REQUEST_ID), None)
            ids = RequestIds(new_request_id(), claimed)
        scope[SCOPE_REQUEST_ID] = ids.server
        scope[SCOPE_CLIENT_REQUEST_ID] = ids.client
        echoed = [(_REQUEST_ID, ids.server.encode("latin-1"))]
        if ids.client is not None:
            echoed.append((_CLIENT_REQUEST_ID, ids.client.encode("latin-1")))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                decided = scope.get(SCOPE_RESPONSE_HEADERS, ())
                message["headers"] = [*message.get("headers", []), *echoed, *decided]
            await send(message)

        token = CLIENT_REQUEST_ID.set(ids.client)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            CLIENT_REQUEST_ID.reset(token)


class Observe:
    """One access line, the HTTP metrics and (when tracing is on) a server span per request, labelled by the
    route template; inside `RequestId`, so the request's id is known, and around everything else, so a 413,
    a 503 or a 500 is observed like any other answer. A tool call is observed once, as the tool face's
    request (`POST /tools/{name}`), not again as the REST twin the face calls in-process. The log context
    (`observability.logs.REQUEST`) is set here for every line logged while the request is served.

    Cheap by construction: no allocation beyond the context object and a closure, the metric children are
    cached per label set, the access line is skipped by one level check when it is off, and tracing costs
    one `None` check when it is not configured."""

    def __init__(self, app: ASGIApp, tracing: RequestTracing | None = None) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or INNER_REQUEST.get() is not None:
            await self.app(scope, receive, send)  # a tool face's twin: observed as the face
            return
        started = time.perf_counter()
        context = RequestContext(scope.get(SCOPE_REQUEST_ID), scope)
        token = REQUEST.set(context)
        status = 0
        method: str = scope["method"]
        tracing = self.tracing
        span = None
        if tracing is not None:
            span = tracing.start(method, scope["path"], scope["headers"], context.request_id)

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_observed)
        except BaseException as exc:
            error = exc
            raise
        finally:
            seconds = time.perf_counter() - started
            if not status:
                status = 500 if error is not None else 0  # 0: the app returned without answering
            route = route_of(scope)
            metrics.observe_request(method, route, status, seconds)
            if ACCESS.isEnabledFor(logging.INFO):
                ACCESS.info(
                    "%s %s %d %.1f ms",
                    method,
                    route,
                    status,
                    seconds * 1000,
                    extra={"method": method, "status": status, "duration_ms": round(seconds * 1000, 3)},
                )
            if tracing is not None and span is not None:
                tracing.end(span, method, route, status, error)
            REQUEST.reset(token)


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body reader re-raises it and the problem handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds the limit of {limit} bytes")


class BodyLimit:
    """Refuse bodies over `limit` bytes with a 413 problem, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = orjson.dumps(
            {
                "type": "about:blank",
                "title": "Content Too Large",
                "status": 413,
                "detail": f"request body exceeds the limit of {self.limit} bytes",
                "instance": scope.get("path", ""),
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.limit:
                    await self._refuse(scope, send)
                    return
                break
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)
