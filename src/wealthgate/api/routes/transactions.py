"""A client's transaction history: filters, free-text search, keyset pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from wealthgate.api.deps import AgentReadConn, Reader, Reads, request_id_of
from wealthgate.api.routes.clients import ClientId
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.clients import visibility
from wealthgate.ledger.history import HistoryFilter, search
from wealthgate.ledger.schemas import Money, TransactionPage
from wealthgate.validation import Day
from wealthgate.vocabulary import SYMBOL_PATTERN, TransactionType

router = APIRouter(route_class=StrictJSONRoute, tags=["transactions"])
Amount = Annotated[Money | None, Query(description="A signed cash effect, as a decimal string.")]


@router.get(
    "/clients/{client_id}/transactions",
    summary="Search a client's transactions",
    response_model=TransactionPage,
    response_model_exclude_unset=True,  # `rank` only with `q`
    responses={404: {"description": "No such client (or account) visible to this key"}},
)
async def list_transactions(
    client_id: ClientId,
    principal: Reader,
    conn: AgentReadConn,
    reads: Reads,
    request: Request,
    account_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    type: Annotated[TransactionType | None, Query()] = None,
    symbol: Annotated[str | None, Query(pattern=SYMBOL_PATTERN)] = None,
    from_date: Annotated[Day | None, Query(alias="from")] = None,
    to_date: Annotated[Day | None, Query(alias="to")] = None,
    min_amount: Amount = None,
    max_amount: Amount = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> TransactionPage:
    """Transactions with what an agent needs to cite them (id, date, type, symbol, quantity, amount,
    description). `q` searches description, symbol and security name (e.g. `apple`, `advisory fee`) and orders
    by relevance; otherwise newest first. `amount` is the signed cash effect: buys and fees are negative."""
    where = HistoryFilter(account_id, type, symbol, from_date, to_date, min_amount, max_amount, q)
    client = await visibility.find(conn, principal, client_id)
    page = await search(conn, client, where, limit=limit, cursor=cursor)
    reads.note(principal, client_id, "GET /clients/{id}/transactions", request_id_of(request))
    return page
