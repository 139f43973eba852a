"""The client list and a client's page: profile, holdings, allocation against the model (chart), drift,
performance (chart), recent transactions, the client's recommendations and the notes agents left.

Scope is the API's: the scoped lookup answers another advisor's client with the same 404 page as a missing
one. Opening a client's page is an audited read, as the API's reads are.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse

from wealthgate.api.deps import ReadConn, Reads, request_id_of
from wealthgate.audit.schemas import MAX_ID
from wealthgate.clients import service as clients
from wealthgate.console import charts, pages, queries
from wealthgate.console.deps import Person
from wealthgate.console.routing import console_router
from wealthgate.ledger.history import HistoryFilter, search
from wealthgate.portfolios import daily, report
from wealthgate.portfolios import service as portfolios

router = console_router()
ClientId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/console/clients", response_class=HTMLResponse)
async def client_list(
    request: Request,
    visitor: Person,
    conn: ReadConn,
    reads: Reads,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    page = await clients.list_clients(conn, visitor.principal, limit=100, cursor=cursor)
    reads.note(visitor.principal, None, "GET /console/clients", request_id_of(request))
    return pages.render(request, "clients.html", visitor=visitor, page=page, cursor=cursor)


@router.get("/console/clients/{client_id}", response_class=HTMLResponse)
async def client_page(
    client_id: ClientId, request: Request, visitor: Person, conn: ReadConn, reads: Reads
) -> HTMLResponse:
    principal = visitor.principal
    client = await portfolios.find(conn, principal, client_id)  # 404 unless the person may see the client
    context = json.loads(await clients.context_json(conn, principal, client_id))
    book = await portfolios.load(conn, client, None)
    drift = report.drift(book, await portfolios.model_for(conn, client))
    days = await daily.series(conn, client.visible, client.today)
    total = days.get(daily.TOTAL, [])
    performance = report.performance(client_id, client.today, None, days)
    history = await search(conn, client.visible, HistoryFilter(), limit=20, cursor=None)
    reads.note(principal, client_id, "GET /console/clients/{id}", request_id_of(request))
    return pages.render(
        request,
        "client.html",
        visitor=visitor,
        context=context,
        allocation=report.allocation(book),
        drift=drift,
        allocation_chart=charts.allocation(drift.asset_classes),
        performance=performance,
        performance_chart=charts.performance([(d.on, d.value) for d in total]),
        transactions=history.items,
        recommendations=await queries.recommendations_of(conn, client.visible),
        notes=await queries.notes_of(conn, client.visible),
    )
