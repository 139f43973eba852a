"""A recommendation's evidence page, its review (approve or reject with a comment) and its replay.

The evidence is what a reviewer needs to decide: the proposed trades, every rule with its threshold, computed
value, outcome and explanation, the policy version, the context the agent saw (the snapshot stored with the
recommendation: holdings, cash, profile at that time) and the agent's rationale. The review calls the same use
case as the API with the signed-in person's principal, so the recommendation and its audit event name them.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wealthgate.api.deps import ReadConn, Reads, WriteConn, request_id_of
from wealthgate.audit.schemas import MAX_ID
from wealthgate.console import pages, queries, views
from wealthgate.console.deps import OfficerPost, Person, Visitor
from wealthgate.console.routing import console_router
from wealthgate.recommendations import service
from wealthgate.recommendations import visibility as recommendations
from wealthgate.recommendations.service import REVIEWABLE
from wealthgate.recommendations.visibility import VisibleRecommendation

router = console_router()
RecId = Annotated[int, Path(ge=1, le=MAX_ID)]
Comment = Annotated[str, Form(max_length=5000)]


def may_review(visitor: Visitor, rec: VisibleRecommendation) -> bool:
    """Show the review form? The use case decides; this only hides buttons that could not succeed: the
    person needs the review scope, the recommendation must be pending, and they must not have proposed it."""
    row = rec.row
    proposer = row["proposer_owner"] == visitor.user.email or row.get("proposer_user_id") == visitor.user.id
    return visitor.is_officer and row["status"] in REVIEWABLE and not proposer


async def _evidence(
    request: Request,
    visitor: Visitor,
    conn: asyncpg.Connection,
    rec: VisibleRecommendation,
    *,
    status: int = 200,
    problem: str | None = None,
    comment: str = "",
) -> HTMLResponse:
    out = service.get(rec)
    facts = rec.row["context_snapshot"].get("facts", {})
    return pages.render(
        request,
        "evidence.html",
        status=status,
        visitor=visitor,
        rec=out,
        client_name=await queries.client_name(conn, firm_id=rec.firm_id, client_id=rec.client_id),
        seen=views.seen_context(facts),
        may_review=may_review(visitor, rec),
        problem=problem,
        comment=comment,
    )


@router.get("/console/recommendations/{rec_id}", response_class=HTMLResponse)
async def evidence(
    rec_id: RecId, request: Request, visitor: Person, conn: ReadConn, reads: Reads
) -> HTMLResponse:
    rec = await recommendations.find(conn, visitor.principal, rec_id)
    reads.note(visitor.principal, rec.client_id, "GET /console/recommendations/{id}", request_id_of(request))
    return await _evidence(request, visitor, conn, rec)


async def _review(
    request: Request, visitor: Visitor, conn: WriteConn, rec_id: int, comment: str, *, approve: bool
) -> Response:
    service.check_reviewer(visitor.principal)  # before the lookup, as the API does
    rec = await recommendations.lock(conn, visitor.principal, rec_id)
    if not comment.strip():
        return await _evidence(
            request,
            visitor,
            conn,
            rec,
            status=422,
            problem="Write a comment: it is kept with your decision in the audit trail.",
        )
    await service.review(
        conn,
        visitor.principal,
        rec,
        approve=approve,
        comment=comment.strip(),
        request_id=request_id_of(request),
    )
    return RedirectResponse(f"/console/recommendations/{rec_id}", status_code=303)


@router.post("/console/recommendations/{rec_id}/approve", response_class=HTMLResponse)
async def approve(
    rec_id: RecId, request: Request, visitor: OfficerPost, conn: WriteConn, comment: Comment = ""
) -> Response:
    return await _review(request, visitor, conn, rec_id, comment, approve=True)


@router.post("/console/recommendations/{rec_id}/reject", response_class=HTMLResponse)
async def reject(
    rec_id: RecId, request: Request, visitor: OfficerPost, conn: WriteConn, comment: Comment = ""
) -> Response:
    return await _review(request, visitor, conn, rec_id, comment, approve=False)


@router.get("/console/recommendations/{rec_id}/replay", response_class=HTMLResponse)
async def replay(rec_id: RecId, request: Request, visitor: Person, conn: ReadConn) -> HTMLResponse:
    """Recompute the decision from the facts, data date and policy it was made on: identical, or the
    differences."""
    rec = await recommendations.find(conn, visitor.principal, rec_id)
    out = await service.replay(conn, rec)
    return pages.render(
        request,
        "replay.html",
        visitor=visitor,
        replay=out,
        differences=views.replay_differences(out),
        client_name=await queries.client_name(conn, firm_id=rec.firm_id, client_id=rec.client_id),
    )
