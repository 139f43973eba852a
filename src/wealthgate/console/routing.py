"""The console's routes answer in HTML, whatever goes wrong: this route class turns a missing session into
the sign-in page, a forged or expired form into a 403 page, a domain error into a page with its status (404
for another advisor's client, exactly like a missing one), and puts the security headers on every answer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from wealthgate.console import pages
from wealthgate.console.deps import FormExpired, SignInNeeded
from wealthgate.errors import DomainError

EXPIRED = (
    "This form has expired or did not come from this console, so nothing was changed. Go back, reload the"
    " page and submit it again."
)


def sign_in_url(request: Request) -> str:
    """The sign-in page, returning to the page asked for when it was a page (GET), not a form post."""
    if request.method == "GET" and request.url.path != "/console/sign-in":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return f"/console/sign-in?next={quote(target, safe='')}"
    return "/console/sign-in"


def _invalid(request: Request, exc: RequestValidationError) -> Response:
    if any(err.get("loc", ("",))[0] == "path" for err in exc.errors()):
        return pages.error(request, 404, "Not found", "There is no such page in the console.")
    fields = ", ".join(sorted({str(err.get("loc", ("", "?"))[-1]) for err in exc.errors()}))
    return pages.error(
        request, 422, "Please check the form", f"These fields are missing or not valid: {fields}."
    )


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInNeeded:
                response = RedirectResponse(sign_in_url(request), status_code=303)
            except FormExpired:
                response = pages.error(request, 403, "This form has expired", EXPIRED)
            except DomainError as exc:
                response = pages.error(
                    request, exc.status, exc.title, exc.detail[:1].upper() + exc.detail[1:]
                )
            except RequestValidationError as exc:
                response = _invalid(request, exc)
            return pages.protect(response)

        return console_handler


def console_router() -> APIRouter:
    """A router of console pages: HTML answers, outside the OpenAPI document (it describes the API)."""
    return APIRouter(route_class=ConsoleRoute, include_in_schema=False)
