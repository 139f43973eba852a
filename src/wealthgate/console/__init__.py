"""The compliance console: server-rendered pages under `/console/` for the people of a firm (sign-in, the
review queue and evidence, clients, the audit explorer, replay, administration). Plain HTML forms, no
script; every asset is served from `/console/static`. `install(app)` adds it to the API application."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from wealthgate.console import admin, audit, clients, evidence, missing, pages, queue, signin, sso

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Mount the static files, then the pages, then the console's own 404 for any other address under it."""
    app.mount("/console/static", StaticFiles(directory=pages.STATIC), name="console-static")
    for module in (signin, sso, queue, evidence, clients, audit, admin, missing):
        app.include_router(module.router)
