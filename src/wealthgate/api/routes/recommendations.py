"""Recommendations: agents propose (always checked), people review, operations execute, anyone replays."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from wealthgate.api import idempotent
from wealthgate.api.deps import (
    Admin,
    AgentReadConn,
    AppSettings,
    DbPool,
    ReadConn,
    Reviewer,
    TextQuotaOf,
    Viewer,
    Writer,
    request_id_of,
)
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit.schemas import MAX_ID
from wealthgate.auth.principal import Principal
from wealthgate.clients import visibility as clients
from wealthgate.recommendations import service
from wealthgate.recommendations import visibility as recommendations
from wealthgate.recommendations.schemas import (
    ExecutionIn,
    RecommendationIn,
    RecommendationOut,
    ReplayOut,
    ReviewIn,
    ReviewQueue,
)

router = APIRouter(route_class=StrictJSONRoute, tags=["recommendations"])
RecId = Annotated[int, Path(ge=1, le=MAX_ID, description="The recommendation's id.")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such recommendation visible to this key"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "Not allowed from the current status"}}
FORBIDDEN_REVIEW = "Agent keys, keys bound to no user, and the proposer cannot review"


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
    principal: Writer,
    pool: DbPool,
    settings: AppSettings,
    quota: TextQuotaOf,
    request: Request,
) -> Response:
    """Runs the suitability check, then stores the recommendation with its verdict, the facts it was judged
    on (holdings, prices, profile: replayable), and the policy version, with its audit event, in one
    transaction. Status: `proposed` (passed: awaits review), `blocked` (failed), `needs_review`.
    **Requires an `Idempotency-Key` header**: a retry with the same key and body returns the original
    answer and creates nothing."""
    trades = [t.trade() for t in body.trades]

    async def work(conn: asyncpg.Connection) -> tuple[int, RecommendationOut]:
        client = await clients.find(conn, principal, body.client_id)
        created = await service.propose(
            conn,
            principal,
            client,
            trades,
            rationale=body.rationale,
            agent_name=body.agent.name,
            agent_model=body.agent.model,
            ttl_hours=settings.recommendation_ttl_hours,
            request_id=request_id_of(request),
            text_quota=quota,
        )
        return 201, created

    return await idempotent.run(request, principal, pool, work, required=True)


@router.get("/recommendations/{rec_id}", response_model=RecommendationOut, responses=NOT_FOUND)
async def get_recommendation(rec_id: RecId, principal: Viewer, conn: AgentReadConn) -> RecommendationOut:
    """The recommendation, its status (pending ones past their expiry read as `expired`) and verdict."""
    return service.get(await recommendations.find(conn, principal, rec_id))


@router.get("/review-queue", response_model=ReviewQueue, summary="Recommendations awaiting a person")
async def review_queue(
    principal: Reviewer,
    conn: ReadConn,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ReviewQueue:
    """`proposed` and `needs_review` recommendations not yet expired, oldest first."""
    return await service.review_queue(conn, principal, limit=limit, cursor=cursor)


async def _review(
    request: Request, principal: Principal, pool: DbPool, rec_id: int, comment: str, approve: bool
) -> Response:
    async def work(conn: asyncpg.Connection) -> tuple[int, RecommendationOut]:
        service.check_reviewer(principal)  # before the lookup: agent and unbound keys get 403 for any id
        rec = await recommendations.lock(conn, principal, rec_id)
        moved = await service.review(
            conn, principal, rec, approve=approve, comment=comment, request_id=request_id_of(request)
        )
        return 200, moved

    return await idempotent.run(request, principal, pool, work)


@router.post(
    "/recommendations/{rec_id}/approve",
    response_model=RecommendationOut,
    responses={**NOT_FOUND, **CONFLICT, 403: {"description": FORBIDDEN_REVIEW}},
)
async def approve(
    rec_id: RecId, body: ReviewIn, principal: Reviewer, pool: DbPool, request: Request
) -> Response:
    """A named person approves a `proposed` or `needs_review` recommendation: the key must be bound to a
    compliance or admin user (`wealthgate keys create --user EMAIL`); the review records that user's email as
    `reviewer`, and the audit event's actor names them."""
    return await _review(request, principal, pool, rec_id, body.comment, approve=True)


@router.post(
    "/recommendations/{rec_id}/reject",
    response_model=RecommendationOut,
    responses={**NOT_FOUND, **CONFLICT, 403: {"description": FORBIDDEN_REVIEW}},
)
async def reject(
    rec_id: RecId, body: ReviewIn, principal: Reviewer, pool: DbPool, request: Request
) -> Response:
    """A named person (a key bound to a compliance or admin user) rejects a pending recommendation."""
    return await _review(request, principal, pool, rec_id, body.comment, approve=False)


@router.post(
    "/recommendations/{rec_id}/execute",
    response_model=RecommendationOut,
    responses={**NOT_FOUND, **CONFLICT},
)
async def execute(
    rec_id: RecId, body: ExecutionIn, principal: Admin, pool: DbPool, request: Request
) -> Response:
    """Marks an `approved` recommendation `executed`, linking the posted ledger trades that carried it out."""

    async def work(conn: asyncpg.Connection) -> tuple[int, RecommendationOut]:
        rec = await recommendations.lock(conn, principal, rec_id)
        done = await service.execute(
            conn, principal, rec, body.transaction_ids, request_id=request_id_of(request)
        )
        return 200, done

    return await idempotent.run(request, principal, pool, work)


@router.get(
    "/recommendations/{rec_id}/replay",
    response_model=ReplayOut,
    responses=NOT_FOUND,
    summary="Recompute a past decision",
)
async def replay(rec_id: RecId, principal: Viewer, conn: AgentReadConn) -> ReplayOut:
    """The facts (holdings, prices, profile), data date and policy version the decision was made on, and the
    verdict recomputed from exactly those: `matches` says it equals the stored verdict."""
    return await service.replay(conn, await recommendations.find(conn, principal, rec_id))
