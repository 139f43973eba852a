"""The suitability check and the firm's policy versions."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from wealthgate.api import idempotent
from wealthgate.api.deps import (
    Admin,
    AgentReadConn,
    DbPool,
    PolicyReader,
    PolicyViewer,
    ReadConn,
    Reader,
    WriteConn,
    request_id_of,
)
from wealthgate.api.routes.clients import ClientId
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.errors import Forbidden
from wealthgate.suitability import policies
from wealthgate.suitability import service as suitability
from wealthgate.suitability.schemas import CheckIn, CheckOut, PolicyIn, PolicyOut, PolicyVersions

router = APIRouter(route_class=StrictJSONRoute, tags=["suitability"])


@router.post(
    "/clients/{client_id}/suitability-check",
    summary="Check proposed trades against the client's profile and the firm's policy",
    response_model=CheckOut,
    responses={404: {"description": "No such client visible to this key"}},
)
async def check(
    client_id: ClientId, body: CheckIn, principal: Reader, pool: DbPool, request: Request
) -> Response:
    """Evaluates every rule of the current policy version on the trades valued at the latest prices, and
    records the check. `verdict` is `fail` if any rule fails, else `needs_review` if any needs a person, else
    `pass`; each rule carries its threshold, the computed value and a sentence an agent can relay. Nothing is
    traded. Send an `Idempotency-Key` to make a retried check record nothing new."""
    trades = [t.trade() for t in body.trades]

    async def work(conn: asyncpg.Connection) -> tuple[int, CheckOut]:
        # the check and its audit event commit together, with the stored answer when a key was sent
        check_id, version, _facts, verdict = await suitability.check(
            conn, principal, client_id, trades, request_id=request_id_of(request)
        )
        return 200, CheckOut.of(check_id, client_id, version, verdict)

    return await idempotent.run(request, principal, pool, work)


@router.get("/policy", summary="The firm's current suitability policy", response_model=PolicyOut)
async def current_policy(principal: PolicyViewer, conn: AgentReadConn) -> PolicyOut:
    """The version in force: its number, content hash (what checks cite as `policy_version`) and content."""
    return PolicyOut.of(await policies.current(conn, principal.firm_id))


@router.get(
    "/policy/versions",
    summary="Every version of the firm's policy, newest first",
    response_model=PolicyVersions,
)
async def policy_versions(principal: PolicyReader, conn: ReadConn) -> PolicyVersions:
    found = await policies.versions(conn, principal.firm_id)
    return PolicyVersions(items=[PolicyOut.of(v) for v in found])


@router.get(
    "/policy/versions/{version}", summary="One version of the firm's policy", response_model=PolicyOut
)
async def policy_version(
    version: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: PolicyReader, conn: ReadConn
) -> PolicyOut:
    return PolicyOut.of(await policies.by_version(conn, principal.firm_id, version))


@router.put("/policy", summary="Publish a new version of the firm's policy", response_model=PolicyOut)
async def publish_policy(body: PolicyIn, principal: Admin, conn: WriteConn, request: Request) -> PolicyOut:
    """Validates the whole document (a 422 names the setting), and stores it as the next version unless it
    equals the current one (same content hash): then nothing is stored and `created` is false. The policy is
    the firm's: a key bound to one advisor may not change it (403)."""
    if principal.advisor_id is not None:
        raise Forbidden("the firm's policy cannot be changed with a key bound to one advisor")
    stored, created = await policies.publish(
        conn,
        principal.firm_id,
        body.content,
        actor=principal.actor(),
        created_by=principal.owner,
        note=body.note,
        request_id=request_id_of(request),
    )
    return PolicyOut.of(stored, created=created)
