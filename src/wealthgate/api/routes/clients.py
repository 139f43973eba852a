"""Client routes: the agent context (the guide's first call) and the client list."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from wealthgate.api.conditional import (
    ETAG_HEADER,
    IF_NONE_MATCH_MAX,
    NOT_MODIFIED,
    IfNoneMatch,
    json_document,
)
from wealthgate.api.deps import (
    AgentReadConn,
    AgentStatementConn,
    Reader,
    Reads,
    agent_conn,
    context_cache_of,
    read_clients,
    reads_of,
    request_id_of,
)
from wealthgate.api.routing import Handler, StrictJSONRoute
from wealthgate.audit.schemas import MAX_ID
from wealthgate.auth.principal import Principal
from wealthgate.clients import service
from wealthgate.clients.schemas import ClientContext, ClientList, ClientListItem

router = APIRouter(route_class=StrictJSONRoute, tags=["clients"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such client visible to this key (missing and other firms' look alike)"}
}

ClientId = Annotated[int, Path(ge=1, le=MAX_ID, description="The client's id.")]


async def _context(
    request: Request,
    principal: Principal,
    conn: asyncpg.Connection,
    client_id: int,
    summary: bool,
    if_none_match: str | None,
) -> Response:
    """The context read itself, whichever way its parameters were solved (`get_context`, `ContextRoute`)."""
    cache = await context_cache_of(request)
    doc = await service.context_document(conn, principal, client_id, summary=summary, cache=cache)
    (await reads_of(request)).note(principal, client_id, "GET /clients/{id}/context", request_id_of(request))
    return json_document(doc, if_none_match)


async def get_context(
    client_id: ClientId,
    principal: Reader,
    conn: AgentStatementConn,  # no transaction: each of its statements is consistent alone (service.py)
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
    return await _context(request, principal, conn, client_id, summary, if_none_match)


def plain_context_arguments(request: Request) -> tuple[int, bool, str | None] | None:
    """The context read's parameters when each is in its one plain form, which FastAPI would read the same
    way: `client_id` ASCII digits within 1..MAX_ID; `summary` absent, `true` or `false`, once; `If-None-Match`
    absent, or once and 1..IF_NONE_MATCH_MAX characters. Anything else is None: FastAPI solves it (its
    coercions, its 422s)."""
    raw: str = request.path_params.get("client_id", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
        return None
    client_id = int(raw)
    if not 1 <= client_id <= MAX_ID:
        return None
    summary = False
    if request.scope["query_string"]:
        said = request.query_params.getlist("summary")
        if len(said) > 1 or (said and said[0] not in ("true", "false")):
            return None
        summary = said == ["true"]
    held = request.headers.getlist("if-none-match")
    if len(held) > 1 or (held and not 0 < len(held[0]) <= IF_NONE_MATCH_MAX):
        return None
    return client_id, summary, held[0] if held else None


class ContextRoute(StrictJSONRoute):
    """The context read, the agents' hot path, without FastAPI's dependency solving when its parameters are
    plain (`plain_context_arguments`): the same steps, called directly in the order FastAPI runs them (the
    caller's principal, with its rate limit and scope check, then the agent connection a replica may serve,
    then `_context`), at about a third less of a worker's CPU per read (docs/performance.md). Any other
    request (a malformed id, `summary=yes`, a repeated header) is FastAPI's, so every 422 is its own.
    tests/api/test_context_route.py holds the two ways to the same answers. The application's dependencies
    are not run on the direct way: the only one, `MarksWrites`, acts after writes, and this is a read."""

    direct = True  # tests turn it off on the route to compare with FastAPI's way

    def inner_handler(self) -> Handler:
        solved = super().inner_handler()

        async def handler(request: Request) -> Response:
            plain = plain_context_arguments(request) if self.direct else None
            if plain is None:
                return await solved(request)
            client_id, summary, if_none_match = plain
            principal = await read_clients(request)
            async with agent_conn(request) as conn:
                return await _context(request, principal, conn, client_id, summary, if_none_match)

        return handler


router.add_api_route(
    "/clients/{client_id}/context",
    get_context,
    methods=["GET"],
    summary="Everything an agent needs about one client",
    response_model=ClientContext,
    responses={**NOT_FOUND, **NOT_MODIFIED, 200: {"description": "The context", "headers": ETAG_HEADER}},
    route_class_override=ContextRoute,
)


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
