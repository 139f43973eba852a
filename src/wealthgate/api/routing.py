"""Strict JSON bodies: orjson rejects NaN, Infinity and invalid UTF-8 that the stdlib parser lets through. And
a 405 names every method of its path in `Allow` (RFC 9110), not only the methods of the first route that
matched the path, as Starlette's does. A body sent as anything but JSON is 415 Unsupported Media Type.

An agent's read whose replica failed during it (`ReplicaFailed`: gone mid-read, or a recovery conflict) is
run once more, on the primary: nothing of the first attempt was sent, audited or written (a read notes its
audit record only once it has read), and the request is not counted against the rate limit again."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette._utils import get_route_path  # what Starlette's own routes match against (root_path aware)
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from wealthgate.api.deps import SCOPE_ON_PRIMARY
from wealthgate.db.replicas import ReplicaFailed

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            # orjson.JSONDecodeError subclasses json.JSONDecodeError, so FastAPI reports it as json_invalid.
            self._json = orjson.loads(await self.body())
        return self._json


def _json_or_unsaid(content_type: str | None) -> bool:
    """JSON (`application/json`, or a `+json` type), or no Content-Type at all (read as JSON, as ever)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some API route of the app answers at the request's path (routes of included routers are
    reached through FastAPI's route contexts, which carry the prefixed path)."""
    path = get_route_path(scope)
    routes = getattr(scope.get("app"), "routes", [])
    found = {
        method
        for context in iter_route_contexts(routes)
        if isinstance(context.original_route, APIRoute) and context.path_regex.match(path)
        for method in context.methods or ()
    }
    return sorted(found)


# FastAPI's stack of the dependencies that end with the route function (scope="function"), entered around
# the route handler: each attempt of a read gets its own, so a failed attempt's connection is let go (its
# dependency sees the failure) before the next attempt runs.
FUNCTION_STACK = "fastapi_function_astack"


async def _attempt(handler: Handler, request: Request) -> Response:
    outer = request.scope[FUNCTION_STACK]
    try:
        async with AsyncExitStack() as attempt:
            request.scope[FUNCTION_STACK] = attempt
            return await handler(StrictJSONRequest(request.scope, request.receive))
    finally:
        request.scope[FUNCTION_STACK] = outer


class StrictJSONRoute(APIRoute):
    def inner_handler(self) -> Handler:
        """What serves one attempt of a request: FastAPI's handler (it solves the route's dependencies); a
        route class may serve some requests another way (routes/clients.py `ContextRoute`)."""
        return super().get_route_handler()

    def get_route_handler(self) -> Handler:
        handler = self.inner_handler()

        takes_body = self.body_field is not None

        async def strict_handler(request: Request) -> Response:
            if takes_body and not _json_or_unsaid(request.headers.get("content-type")):
                raise HTTPException(415, "the body must be JSON: send it with Content-Type: application/json")
            if (
                request.method not in ("GET", "HEAD")
                or getattr(request.app.state, "router", None) is None  # no replicas: nothing to run again
                or FUNCTION_STACK not in request.scope
            ):
                return await handler(StrictJSONRequest(request.scope, request.receive))
            try:
                return await _attempt(handler, request)
            except ReplicaFailed:
                request.scope[SCOPE_ON_PRIMARY] = True  # the primary serves the second attempt: no loop
                return await _attempt(handler, request)

        return strict_handler

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            allowed = allowed_methods(scope) or sorted(self.methods)
            raise HTTPException(status_code=405, headers={"Allow": ", ".join(allowed)})
        await super().handle(scope, receive, send)
