"""A firm's admin manages its advisors and the people who sign in. Creating a firm is an operator's act
(`wealthgate firms create`): an admin belongs to one firm."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from wealthgate.api.deps import Admin, ReadConn, WriteConn
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.audit.schemas import MAX_ID
from wealthgate.auth.principal import Principal
from wealthgate.errors import Forbidden
from wealthgate.firms import service
from wealthgate.firms.schemas import AdvisorIn, AdvisorOut, UserCreated, UserIn, UserList, UserOut
from wealthgate.people import users

router = APIRouter(route_class=StrictJSONRoute, prefix="/admin", tags=["admin"])
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="The user's id.")]
FIRM_WIDE: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not an admin key, or a key bound to one advisor"}
}


def _firm_wide(principal: Principal) -> int:
    """The firm an admin manages; a key bound to one advisor manages nobody."""
    if principal.advisor_id is not None:
        raise Forbidden("a firm's people cannot be managed with a key bound to one advisor")
    return principal.firm_id


@router.post(
    "/advisors",
    status_code=201,
    response_model=AdvisorOut,
    summary="Add an advisor",
    responses={**FIRM_WIDE, 409: {"description": "The firm has an advisor with this email"}},
)
async def create_advisor(body: AdvisorIn, principal: Admin, conn: WriteConn) -> AdvisorOut:
    """A new advisor of the caller's firm (409 if the firm already has one with this email); audited."""
    advisor = await service.create_advisor(
        conn, firm_id=_firm_wide(principal), name=body.name, email=body.email, actor=principal.actor()
    )
    return AdvisorOut.of(advisor)


@router.get("/users", response_model=UserList, summary="The firm's users", responses=FIRM_WIDE)
async def list_users(principal: Admin, conn: ReadConn) -> UserList:
    """Everyone of the caller's firm who may sign in (or is disabled), by id."""
    return UserList(items=[UserOut.of(u) for u in await users.list_users(conn, _firm_wide(principal))])


@router.post(
    "/users",
    status_code=201,
    response_model=UserCreated,
    summary="Add a user",
    responses={**FIRM_WIDE, 409: {"description": "The email is taken"}},
)
async def create_user(body: UserIn, principal: Admin, conn: WriteConn) -> UserCreated:
    """A person of the caller's firm with a role: `admin`, `compliance`, or `advisor` (with `advisor_id`).
    Without `password` one is generated and returned in `one_time_password`, only in this answer."""
    user, generated = await service.add_user(
        conn,
        firm_id=_firm_wide(principal),
        email=body.email,
        name=body.name,
        role=body.role,
        advisor_id=body.advisor_id,
        password=body.password,
        actor=principal.actor(),
    )
    return UserCreated(user=UserOut.of(user), one_time_password=generated)


@router.post(
    "/users/{user_id}/disable",
    response_model=UserOut,
    summary="Disable a user",
    responses={
        **FIRM_WIDE,
        404: {"description": "No such user in this firm"},
        409: {"description": "Already disabled"},
    },
)
async def disable_user(user_id: UserId, principal: Admin, conn: WriteConn) -> UserOut:
    """The user can no longer sign in; their sessions end and the API keys bound to them stop working."""
    user = await service.disable_person(
        conn, firm_id=_firm_wide(principal), user_id=user_id, actor=principal.actor()
    )
    return UserOut.of(user)
