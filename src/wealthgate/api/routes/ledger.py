"""Posting to the ledger (scope `admin`): transactions in, positions and cash kept in the same transaction."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Path, Request, Response

from wealthgate.api import idempotent
from wealthgate.api.deps import Admin, DbPool, request_id_of
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit.schemas import MAX_ID
from wealthgate.ledger import accounts, posting
from wealthgate.ledger.schemas import PostingOut, ReversalIn, TransactionIn

router = APIRouter(route_class=StrictJSONRoute, tags=["ledger"])
AccountId = Annotated[int, Path(ge=1, le=MAX_ID)]
TransactionId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _answer(result: posting.Posted) -> tuple[int, PostingOut]:
    """201 for a new entry, 200 for a replayed `external_id`."""
    return 201 if result.created else 200, result.out()


@router.post(
    "/accounts/{account_id}/transactions",
    summary="Post a transaction to the ledger",
    status_code=201,
    response_model=PostingOut,
    responses={
        200: {
            "description": "Already posted (same external_id): the original is returned",
            "model": PostingOut,
        },
        404: {"description": "No such account visible to this key"},
    },
)
async def post_transaction(
    account_id: AccountId, body: TransactionIn, principal: Admin, pool: DbPool, request: Request
) -> Response:
    """Validates the transaction (known account and security, amounts consistent with quantity x price +
    fees, no sale beyond the holding), then applies it to the position and cash and records the audit event,
    all in one database transaction. Retries are safe with `external_id` or an `Idempotency-Key`."""
    new = posting.NewTransaction(**body.model_dump())

    async def work(conn: asyncpg.Connection) -> tuple[int, PostingOut]:
        account = await accounts.lock(conn, principal, account_id)
        posted = await posting.post(
            conn, account, new, actor=principal.actor(), request_id=request_id_of(request)
        )
        return _answer(posted)

    return await idempotent.run(request, principal, pool, work)


@router.post(
    "/accounts/{account_id}/transactions/{transaction_id}/reverse",
    status_code=201,
    summary="Correct a posted transaction with a reversing entry",
    response_model=PostingOut,
    responses={
        404: {"description": "No such account or transaction"},
        409: {"description": "Already reversed"},
    },
)
async def reverse_transaction(
    account_id: AccountId,
    transaction_id: TransactionId,
    principal: Admin,
    pool: DbPool,
    request: Request,
    body: ReversalIn | None = None,
) -> Response:
    """A posted transaction is never edited: this posts the entry that cancels it, referencing it."""

    async def work(conn: asyncpg.Connection) -> tuple[int, PostingOut]:
        account = await accounts.lock(conn, principal, account_id)
        reversed_ = await posting.reverse(
            conn,
            account,
            transaction_id,
            actor=principal.actor(),
            description=body.description if body else None,
            request_id=request_id_of(request),
        )
        return _answer(reversed_)

    return await idempotent.run(request, principal, pool, work)
