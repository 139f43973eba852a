"""Rendering console pages: the Jinja2 environment (autoescaped), the filters pages share, error pages, and
the headers every console response carries (a strict Content-Security-Policy: nothing loads from elsewhere,
no script runs)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from wealthgate.console import views

R = TypeVar("R", bound=Response)
HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
STATIC = HERE / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; object-src 'none';"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(moment: datetime | str | None) -> str:
    """A moment as a compliance officer reads it: `2026-12-01 14:03 UTC`."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _day(value: date | str | None) -> str:
    return "" if value is None else str(value)


def _compact(value: Any) -> str:
    """A stored JSON value (a rule's threshold or computed value) as short text."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)


env = TEMPLATES.env
env.filters["when"] = _when
env.filters["day"] = _day
env.filters["compact"] = _compact
env.filters["pretty"] = _pretty
env.filters["percent"] = views.percent
env.filters["label"] = views.label
env.filters["actor"] = views.actor_label
env.globals["age"] = views.age


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status)
    return protect(response)


def error(request: Request, status: int, title: str, detail: str, **context: Any) -> HTMLResponse:
    """An error as a page: what happened and what to do next, with the status code an API caller would get."""
    return render(request, "error.html", status=status, code=status, title=title, detail=detail, **context)


def protect(response: R) -> R:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
