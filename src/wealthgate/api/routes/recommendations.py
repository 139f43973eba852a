"""Recommendations: agents propose (always checked), people review, operations execute, anyone replays."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from wealthgate.api import idempotent
from wealthgate.api.deps import request_id_of, require
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit.schemas import MAX_ID
from wealthgate.auth.principal import Principal
from wealthgate.recommendations import service
from wealthgate.recommendations.schemas import (
    ExecutionIn,
    RecommendationIn,
    RecommendationOut,
    ReviewIn,
    ReviewQueue,
)

router = APIRouter(route_class=StrictJSONRoute, tags=["recommendations"])
RecId = Annotated[int, Path(ge=1, le=MAX_ID, description="The recommendation's id.")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such recommendation visible to this key"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "Not allowed from the current status"}}


@router.post(
    "/recommendations",
    status_code=201,
    summary="Propose trades for a client (the suitability check runs and is stored with it)",
    response_model=RecommendationOut,
    responses={
        400: {"description": "Idempotency-Key header missing"},
        404: {"description": "No such client visible to this key"},
        409: {"description": "A request with this Idempotency-Key is still running"},
        422: {"description": "Invalid input, or the Idempotency-Key was used with another request"},
    },
)
async def propose(
    body: RecommendationIn,
    principal: Annotated[Principal, Depends(require("recommendations:write"))],
    request: Request,
) -> Response:
    """Runs the suitability check, then stores the recommendation with its verdict, the facts it was judged
    on (holdings, prices, profile: replayable), and the policy version, with its audit event, in one
    transaction. Status: `proposed` (passed: awaits review), `blocked` (failed), `needs_review`.
    **Requires an `Idempotency-Key` header**: a retry with the same key and body returns the original
    answer and creates nothing."""
    settings = request.app.state.settings
    trades = [t.trade() for t in body.trades]

    async def work(conn: Any) -> tuple[int, dict[str, Any]]:
        created = await service.propose(
            conn,
            principal,
            body.client_id,
            trades,
            rationale=body.rationale,
            agent_name=body.agent.name,
            agent_model=body.agent.model,
            ttl_hours=settings.recommendation_ttl_hours,
            request_id=request_id_of(request),
        )
        return 201, created

    return await idempotent.run(request, principal, work, required=True)


@router.get("/recommendations/{rec_id}", response_model=RecommendationOut, responses=NOT_FOUND)
async def get_recommendation(
    rec_id: RecId,
    principal: Annotated[Principal, Depends(require("clients:read", "compliance:review"))],
    request: Request,
) -> dict[str, Any]:
    """The recommendation, its status (pending ones past their expiry read as `expired`) and verdict."""
    return await service.get(request.app.state.pool, principal, rec_id)


@router.get("/review-queue", response_model=ReviewQueue, summary="Recommendations awaiting a person")
async def review_queue(
    principal: Annotated[Principal, Depends(require("compliance:review"))],
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """`proposed` and `needs_review` recommendations not yet expired, oldest first."""
    items, next_cursor = await service.review_queue(
        request.app.state.pool, principal, limit=limit, cursor=cursor
    )
    return {"items": items, "next_cursor": next_cursor}


async def _review(
    request: Request, principal: Principal, rec_id: int, comment: str, approve: bool
) -> Response:
    async def work(conn: Any) -> tuple[int, dict[str, Any]]:
        moved = await service.review(
            conn, principal, rec_id, approve=approve, comment=comment, request_id=request_id_of(request)
        )
        return 200, moved

    return await idempotent.run(request, principal, work)


@router.post(
    "/recommendations/{rec_id}/approve",
    response_model=RecommendationOut,
    responses={**NOT_FOUND, **CONFLICT, 403: {"description": "Agent keys and the proposer cannot approve"}},
)
async def approve(
    rec_id: RecId,
    body: ReviewIn,
    principal: Annotated[Principal, Depends(require("compliance:review"))],
    request: Request,
) -> Response:
    """A named reviewer (the key's owner) approves a `proposed` or `needs_review` recommendation."""
    return await _review(request, principal, rec_id, body.comment, approve=True)


@router.post(
    "/recommendations/{rec_id}/reject",
    response_model=RecommendationOut,
    responses={**NOT_FOUND, **CONFLICT, 403: {"description": "Agent keys and the proposer cannot review"}},
)
async def reject(
    rec_id: RecId,
    body: ReviewIn,
    principal: Annotated[Principal, Depends(require("compliance:review"))],
    request: Request,
) -> Response:
    return await _review(request, principal, rec_id, body.comment, approve=False)


@router.post(
    "/recommendations/{rec_id}/execute",
    response_model=RecommendationOut,
    responses={**NOT_FOUND, **CONFLICT},
)
async def execute(
    rec_id: RecId,
    body: ExecutionIn,
    principal: Annotated[Principal, Depends(require("admin"))],
    request: Request,
) -> Response:
    """Marks an `approved` recommendation `executed`, linking the posted ledger trades that carried it out."""

    async def work(conn: Any) -> tuple[int, dict[str, Any]]:
        done = await service.execute(
            conn, principal, rec_id, body.transaction_ids, request_id=request_id_of(request)
        )
        return 200, done

    return await idempotent.run(request, principal, work)


@router.get("/recommendations/{rec_id}/replay", responses=NOT_FOUND, summary="Recompute a past decision")
async def replay(
    rec_id: RecId,
    principal: Annotated[Principal, Depends(require("clients:read", "compliance:review"))],
    request: Request,
) -> dict[str, Any]:
    """The facts (holdings, prices, profile), data date and policy version the decision was made on, and the
    verdict recomputed from exactly those: `matches` says it equals the stored verdict."""
    return await service.replay(request.app.state.pool, principal, rec_id)
