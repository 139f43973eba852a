"""RFC 9457 problem+json for every error; no stack trace ever reaches a client."""

from __future__ import annotations

import logging
from typing import Any, cast

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from wealthgate.db.reach import unavailable
from wealthgate.errors import DomainError

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
UNAVAILABLE_TYPE = "urn:wealthgate:problem:unavailable"


def problem(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    type_: str = "about:blank",
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        request_id = request.scope.get("wealthgate.request_id")
        if request_id:
            body["request_id"] = request_id
    body.update(extra)
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field_of(loc: tuple[Any, ...]) -> tuple[str, str]:
    where = str(loc[0]) if loc else "body"
    rest = [str(p) for p in loc[1:] if not isinstance(p, int) or where != "body" or len(loc) > 2]
    if where == "body" and len(loc) == 2 and isinstance(loc[1], int):
        rest = []  # a JSON decode error's character position, not a field
    return where, ".".join(rest) or where


def _validation_problem(request: Request, exc: RequestValidationError) -> Response:
    errors = []
    for err in exc.errors():
        where, field = _field_of(tuple(err.get("loc", ())))
        message = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            message = f"body is not valid JSON: {ctx.get('error', 'decode error')}"
        errors.append({"field": field, "in": where, "message": message, "type": err.get("type")})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return problem(
        422,
        detail,
        request=request,
        type_="urn:wealthgate:problem:validation",
        title="Request validation failed",
        errors=errors,
    )


def _retry_after(request: Request) -> int:
    """Seconds a 503 asks the client to wait (`WEALTHGATE_RETRY_AFTER_SECONDS`)."""
    settings = getattr(request.app.state, "settings", None)
    return int(getattr(settings, "retry_after_seconds", 2))


def install(app: FastAPI) -> None:
    async def on_validation(request: Request, exc: Exception) -> Response:
        return _validation_problem(request, cast(RequestValidationError, exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        exc = cast(StarletteHTTPException, exc)
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        return problem(exc.status_code, detail, request=request, headers=dict(exc.headers or {}))

    async def on_domain(request: Request, exc: Exception) -> Response:
        exc = cast(DomainError, exc)
        extra: dict[str, Any] = {}
        if exc.field:
            extra["errors"] = [{"field": exc.field, "message": exc.detail}]
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status == 503:  # a dependency away: worth retrying, as with the database's own outages
            headers = {"Retry-After": str(_retry_after(request))}
        type_ = "about:blank" if exc.status in (401, 403, 404) else f"urn:wealthgate:problem:{exc.slug}"
        return problem(exc.status, exc.detail, request=request, type_=type_, headers=headers, **extra)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if unavailable(exc):  # an outage in an exception group, or one raised outside the routes
            return await on_unavailable(request, exc)
        # ServerErrorMiddleware calls this outside the request's own middleware, so the id is passed here.
        extra = {"request_id": request.scope.get("wealthgate.request_id")}
        log.exception("unhandled error on %s %s", request.method, request.url.path, extra=extra)
        return problem(500, "An internal error occurred; it has been logged.", request=request)

    async def on_unavailable(request: Request, exc: Exception) -> Response:
        """503 with Retry-After when the database is away (clients and the SDK retry); anything else of
        these classes is re-raised to the 500 handler above."""
        if not unavailable(exc):
            raise exc
        log.warning(
            "database unavailable on %s %s: %r",
            request.method,
            request.url.path,
            exc,
            extra={"request_id": request.scope.get("wealthgate.request_id")},
        )
        return problem(
            503,
            "The database is unavailable; try again shortly.",
            request=request,
            type_=UNAVAILABLE_TYPE,
            headers={"Retry-After": str(_retry_after(request))},
        )

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DomainError, on_domain)
    # In the exception middleware (inside the request's own middleware, so the 503 carries its request id
    # and is counted like any answer), not in the server-error one, which re-raises after answering.
    for outage in (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        app.add_exception_handler(outage, on_unavailable)
    app.add_exception_handler(Exception, on_unexpected)
