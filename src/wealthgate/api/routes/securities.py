"""The security master, searchable by agents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from wealthgate.api.deps import AgentReadConn, Reader
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.market.schemas import SecurityPage
from wealthgate.market.search import search
from wealthgate.vocabulary import AssetClass

router = APIRouter(route_class=StrictJSONRoute, tags=["securities"])


@router.get("/securities", summary="Search the security master", response_model=SecurityPage)
async def search_securities(
    principal: Reader,
    conn: AgentReadConn,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            pattern=r"^[^\x00]*$",
            description="Symbol prefix, or part of the name or sector.",
        ),
    ] = None,
    asset_class: Annotated[AssetClass | None, Query()] = None,
    max_risk: Annotated[
        int | None, Query(ge=1, le=5, description="Highest product risk rating wanted.")
    ] = None,
    complex: Annotated[bool | None, Query(description="false: leave out complex/leveraged products.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> SecurityPage:
    """Symbol, name, asset class, sector, region, product risk rating (1-5), complex/leveraged flag, liquidity
    and latest price with its date. An exact symbol match comes first."""
    return await search(
        conn,
        q=q,
        asset_class=asset_class,
        max_risk=max_risk,
        complex_allowed=complex,
        limit=limit,
        cursor=cursor,
    )
