"""Posting to the ledger (scope `admin`): transactions in, positions and cash kept in the same transaction."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from wealthgate.api import idempotent
from wealthgate.api.deps import request_id_of, require
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit.schemas import MAX_ID
from wealthgate.auth.principal import Principal
from wealthgate.ledger import posting
from wealthgate.ledger.schemas import ReversalIn, TransactionIn
from wealthgate.money import plain

router = APIRouter(route_class=StrictJSONRoute, tags=["ledger"])
AccountId = Annotated[int, Path(ge=1, le=MAX_ID)]
TransactionId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _answer(result: posting.Posted) -> tuple[int, dict[str, Any]]:
    return 201 if result.created else 200, {
        "transaction": result.transaction,
        "position": result.position,
        "cash": plain(result.cash),
        "created": result.created,
    }


@router.post(
    "/accounts/{account_id}/transactions",
    summary="Post a transaction to the ledger",
    status_code=201,
    responses={
        200: {"description": "Already posted (same external_id): the original is returned"},
        404: {"description": "No such account visible to this key"},
    },
)
async def post_transaction(
    account_id: AccountId,
    body: TransactionIn,
    principal: Annotated[Principal, Depends(require("admin"))],
    request: Request,
) -> Response:
    """Validates the transaction (known account and security, amounts consistent with quantity x price +
    fees, no sale beyond the holding), then applies it to the position and cash and records the audit event,
    all in one database transaction. Retries are safe with `external_id` or an `Idempotency-Key`."""
    new = posting.NewTransaction(**body.model_dump())

    async def work(conn: Any) -> tuple[int, dict[str, Any]]:
        return _answer(
            await posting.post(conn, principal, account_id, new, request_id=request_id_of(request))
        )

    return await idempotent.run(request, principal, work)


@router.post(
    "/accounts/{account_id}/transactions/{transaction_id}/reverse",
    status_code=201,
    summary="Correct a posted transaction with a reversing entry",
    responses={
        404: {"description": "No such account or transaction"},
        409: {"description": "Already reversed"},
    },
)
async def reverse_transaction(
    account_id: AccountId,
    transaction_id: TransactionId,
    principal: Annotated[Principal, Depends(require("admin"))],
    request: Request,
    body: ReversalIn | None = None,
) -> Response:
    """A posted transaction is never edited: this posts the entry that cancels it, referencing it."""

    async def work(conn: Any) -> tuple[int, dict[str, Any]]:
        result = await posting.reverse(
            conn,
            principal,
            account_id,
            transaction_id,
            description=body.description if body else None,
            request_id=request_id_of(request),
        )
        return _answer(result)

    return await idempotent.run(request, principal, work)
