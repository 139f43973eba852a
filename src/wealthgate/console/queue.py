"""The review queue: pending recommendations (proposed, needs review) of the clients the person may see,
newest first, with client, agent, verdict and age; each opens its evidence page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from wealthgate.api.deps import ReadConn
from wealthgate.audit.schemas import MAX_ID
from wealthgate.console import pages, queries
from wealthgate.console.deps import Person
from wealthgate.console.routing import console_router

router = console_router()
PAGE_SIZE = 50


@router.get("/console/queue", response_class=HTMLResponse)
async def review_queue(
    request: Request,
    visitor: Person,
    conn: ReadConn,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    page = await queries.queue(conn, visitor.principal, before=before, limit=PAGE_SIZE)
    return pages.render(request, "queue.html", visitor=visitor, page=page, before=before)
