"""How the API answers the per-key limits (`wealthgate.throttling`): a refusal (`Throttled`: rate limit, text
quota, authentication back-off) is 429 problem+json with `Retry-After`, the limit's own fields and, for a
rate limit, the IETF `RateLimit-Policy` and `RateLimit` headers; an allowed request carries those two headers
too (`middleware.add_response_headers`, added when the answer starts)."""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI, Request
from starlette.responses import Response

from wealthgate.api.problems import problem
from wealthgate.throttling.errors import Throttled
from wealthgate.throttling.rates import Kind
from wealthgate.tools.catalog import TOOLS
from wealthgate.tools.registry import Effect


def refusal(exc: Throttled, request: Request | None) -> Response:
    return problem(
        exc.status,
        exc.detail,
        request=request,
        type_=f"urn:wealthgate:problem:{exc.slug}",
        title=exc.title,
        headers=exc.headers,
        **exc.extra,
    )


def tool_kind(name: str) -> Kind:
    """What a tool call counts as, on every face (REST `/tools/{name}`, MCP): a write when the tool writes,
    otherwise (an unknown name included: it is refused before doing anything) a read."""
    spec = TOOLS.get(name)
    return "write" if spec is not None and spec.effect is Effect.WRITES else "read"


def install(app: FastAPI) -> None:
    async def on_throttled(request: Request, exc: Exception) -> Response:
        return refusal(cast(Throttled, exc), request)

    app.add_exception_handler(Throttled, on_throttled)
