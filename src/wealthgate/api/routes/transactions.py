"""A client's transaction history: filters, free-text search, keyset pagination."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from wealthgate.api.deps import request_id_of, require
from wealthgate.api.routes.clients import ClientId
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.auth.principal import Principal
from wealthgate.ledger.history import HistoryFilter, search
from wealthgate.vocabulary import SYMBOL_PATTERN

router = APIRouter(route_class=StrictJSONRoute, tags=["transactions"])
TransactionType = Literal["buy", "sell", "dividend", "interest", "deposit", "withdrawal", "fee", "transfer"]
Amount = Annotated[Decimal | None, Query(allow_inf_nan=False, max_digits=20, decimal_places=4)]


@router.get(
    "/clients/{client_id}/transactions",
    summary="Search a client's transactions",
    responses={404: {"description": "No such client (or account) visible to this key"}},
)
async def list_transactions(
    client_id: ClientId,
    principal: Annotated[Principal, Depends(require("clients:read"))],
    request: Request,
    account_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    type: Annotated[TransactionType | None, Query()] = None,
    symbol: Annotated[str | None, Query(pattern=SYMBOL_PATTERN)] = None,
    from_date: Annotated[date | None, Query(alias="from")] = None,
    to_date: Annotated[date | None, Query(alias="to")] = None,
    min_amount: Amount = None,
    max_amount: Amount = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> dict[str, Any]:
    """Transactions with what an agent needs to cite them (id, date, type, symbol, quantity, amount,
    description). `q` searches description, symbol and security name (e.g. `apple`, `advisory fee`) and orders
    by relevance; otherwise newest first. `amount` is the signed cash effect: buys and fees are negative."""
    where = HistoryFilter(account_id, type, symbol, from_date, to_date, min_amount, max_amount, q)
    items, next_cursor = await search(
        request.app.state.pool, principal, client_id, where, limit=limit, cursor=cursor
    )
    request.app.state.reads.note(
        principal, client_id, "GET /clients/{id}/transactions", request_id_of(request)
    )
    return {"items": items, "next_cursor": next_cursor}
