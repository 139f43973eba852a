"""Strict JSON bodies: orjson rejects NaN, Infinity and invalid UTF-8 that the stdlib parser lets through. And
a 405 names every method of its path in `Allow` (RFC 9110), not only the methods of the first route that
matched the path, as Starlette's does. A body sent as anything but JSON is 415 Unsupported Media Type."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette._utils import get_route_path  # what Starlette's own routes match against (root_path aware)
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send


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


class StrictJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        takes_body = self.body_field is not None

        async def strict_handler(request: Request) -> Response:
            if takes_body and not _json_or_unsaid(request.headers.get("content-type")):
                raise HTTPException(415, "the body must be JSON: send it with Content-Type: application/json")
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            allowed = allowed_methods(scope) or sorted(self.methods)
            raise HTTPException(status_code=405, headers={"Allow": ", ".join(allowed)})
        await super().handle(scope, receive, send)
