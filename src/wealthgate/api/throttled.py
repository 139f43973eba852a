"""How the API answers the per-key limits (`wealthgate.throttling`): a refusal (`Throttled`: rate limit, text
quota, authentication back-off) is 429 problem+json with `Retry-After`, the limit's own fields and, for a
rate limit, the IETF `RateLimit-Policy` and `RateLimit` headers; an allowed request carries those two headers
too (`RateLimitHeaders`, a pure ASGI middleware: the verdict rides in the ASGI scope from `deps.require`, so
routes that return their own `Response` carry them as well)."""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wealthgate.api.problems import problem
from wealthgate.throttling.errors import Throttled
from wealthgate.throttling.rates import Verdict

SCOPE_VERDICT = "wealthgate.rate_limit"


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


class RateLimitHeaders:
    """Adds the RateLimit headers of an allowed request (put in the scope by `deps.require`) to the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                verdict: Verdict | None = scope.get(SCOPE_VERDICT)
                if verdict is not None and verdict.allowed:
                    extra = [(k.lower().encode(), v.encode()) for k, v in verdict.headers().items()]
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_limits)


def install(app: FastAPI) -> None:
    async def on_throttled(request: Request, exc: Exception) -> Response:
        return refusal(cast(Throttled, exc), request)

    app.add_exception_handler(Throttled, on_throttled)
    app.add_middleware(RateLimitHeaders)
