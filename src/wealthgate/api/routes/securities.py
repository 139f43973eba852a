"""The security master, searchable by agents."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from wealthgate.api.deps import require
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.auth.principal import Principal
from wealthgate.market.search import search

router = APIRouter(route_class=StrictJSONRoute, tags=["securities"])
AssetClass = Literal[
    "equity", "fixed_income", "cash_equivalent", "real_estate", "commodity", "alternative", "multi_asset"
]


@router.get("/securities", summary="Search the security master")
async def search_securities(
    principal: Annotated[Principal, Depends(require("clients:read"))],
    request: Request,
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
) -> dict[str, Any]:
    """Symbol, name, asset class, sector, region, product risk rating (1-5), complex/leveraged flag, liquidity
    and latest price with its date. An exact symbol match comes first."""
    items, next_cursor = await search(
        request.app.state.pool,
        q=q,
        asset_class=asset_class,
        max_risk=max_risk,
        complex_allowed=complex,
        limit=limit,
        cursor=cursor,
    )
    return {"items": items, "next_cursor": next_cursor}
