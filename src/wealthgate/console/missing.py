"""Any other console address: a 404 page in the console's own look, not the API's problem+json."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from wealthgate.console import pages
from wealthgate.console.routing import console_router

router = console_router()


@router.get("/console/{rest:path}", response_class=HTMLResponse)
async def not_found(request: Request, rest: str) -> HTMLResponse:
    return pages.error(request, 404, "Not found", "There is no such page in the console.")
