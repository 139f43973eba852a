"""Client routes: the agent context (the guide's first call) and the client list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from wealthgate.api.conditional import ETAG_HEADER, NOT_MODIFIED, IfNoneMatch, json_document
from wealthgate.api.deps import AgentReadConn, AgentStatementConn, ContextCache, Reader, Reads, request_id_of
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit.schemas import MAX_ID
from wealthgate.clients import service
from wealthgate.clients.schemas import ClientContext, ClientList, ClientListItem

router = APIRouter(route_class=StrictJSONRoute, tags=["clients"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such client visible to this key (missing and other firms' look alike)"}
}

ClientId = Annotated[int, Path(ge=1, le=MAX_ID, description="The client's id.")]


@router.get(
    "/clients/{client_id}/context",
    summary="Everything an agent needs about one client",
    response_model=ClientContext,
    responses={**NOT_FOUND, **NOT_MODIFIED, 200: {"description": "The context", "headers": ETAG_HEADER}},
)
async def get_context(
    client_id: ClientId,
    principal: Reader,
    conn: AgentStatementConn,  # no transaction: each of its statements is consistent alone (service.py)
    reads: Reads,
    cache: ContextCache,
    request: Request,
    summary: Annotated[
        bool, Query(description="Add allocation, concentration flags, drift status and recent transactions.")
    ] = False,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The client's profile (with the guide's `risk_profile`), holdings valued at their latest prices with
    weights, accounts with cash, totals, and instructions. Figures are exact decimal strings. A strong `ETag`
    comes with it; send it back as `If-None-Match` to get 304 while nothing in the document has changed.

    Each worker keeps rendered documents (clients/context_cache.py): a read whose snapshot shows the stamp a
    kept document was rendered under is served those bytes, after the same visibility check, and audited
    the same way."""
    doc = await service.context_document(conn, principal, client_id, summary=summary, cache=cache)
    reads.note(principal, client_id, "GET /clients/{id}/context", request_id_of(request))
    return json_document(doc, if_none_match)


@router.get("/clients", summary="The clients this key may see", response_model=ClientList)
async def list_clients(
    principal: Reader,
    conn: AgentReadConn,
    reads: Reads,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ClientList:
    """Keyset-paginated by id: pass `next_cursor` back as `cursor` until it is null."""
    page = await service.list_clients(conn, principal, limit=limit, cursor=cursor)
    reads.note(principal, None, "GET /clients", request_id_of(request))
    return ClientList(
        items=[
            ClientListItem(
                id=i.id,
                name=i.name,
                risk_profile=i.risk_profile,
                advisor_id=i.advisor_id,
                investment_objective=i.investment_objective,
            )
            for i in page.items
        ],
        next_cursor=page.next_cursor,
    )
