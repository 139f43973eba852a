"""Administration (admin role only): the firm's users (create with a one-time password shown once,
disable), API keys (create showing the key once, revoke) and the suitability policy (show, publish a new
version). The services audit every change; a refused change re-shows its form with the reason."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import yaml
from fastapi import Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wealthgate.api.deps import ReadConn, WriteConn, request_id_of
from wealthgate.audit.schemas import MAX_ID
from wealthgate.auth import service as keys
from wealthgate.console import pages
from wealthgate.console.deps import Administrator, AdministratorPost, Visitor
from wealthgate.console.routing import console_router
from wealthgate.errors import Conflict, DomainError, Invalid, NotFound
from wealthgate.firms import service as firms
from wealthgate.people import users
from wealthgate.suitability import policies
from wealthgate.vocabulary import SCOPES, USER_ROLES

router = console_router()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Field = Annotated[str, Form(max_length=400)]


def _number(text: str, field: str) -> int | None:
    """An optional id typed in a form."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise Invalid(f"{field} must be a number", field=field)
    return int(text)


# ---- users ------------------------------------------------------------------------------------------------


async def _users_page(
    request: Request, visitor: Visitor, conn: asyncpg.Connection, *, status: int = 200, **context: Any
) -> HTMLResponse:
    firm = visitor.user.firm_id
    return pages.render(
        request,
        "admin_users.html",
        status=status,
        visitor=visitor,
        users=await users.list_users(conn, firm),
        advisors=await firms.list_advisors(conn, firm),
        roles=USER_ROLES,
        **context,
    )


@router.get("/console/admin/users", response_class=HTMLResponse)
async def user_list(request: Request, visitor: Administrator, conn: ReadConn) -> HTMLResponse:
    return await _users_page(request, visitor, conn)


@router.post("/console/admin/users", response_class=HTMLResponse)
async def create_user(
    request: Request,
    visitor: AdministratorPost,
    conn: WriteConn,
    email: Field = "",
    name: Field = "",
    role: Field = "",
    advisor: Field = "",
) -> HTMLResponse:
    """A new person with a generated password, shown on this page only (the user changes nothing else)."""
    form = {"email": email, "name": name, "role": role, "advisor": advisor}
    try:
        user, password = await firms.add_user(
            conn,
            firm_id=visitor.user.firm_id,
            email=email,
            name=name,
            role=role,
            advisor_id=_number(advisor, "advisor"),
            password=None,
            actor=visitor.principal.actor(),
        )
    except DomainError as refused:  # validated before anything is written: nothing to roll back
        return await _users_page(
            request, visitor, conn, status=refused.status, problem=refused.detail, form=form
        )
    return await _users_page(request, visitor, conn, status=201, created=user, password=password)


@router.post("/console/admin/users/{user_id}/disable", response_class=RedirectResponse)
async def disable_user(user_id: Id, visitor: AdministratorPost, conn: WriteConn) -> RedirectResponse:
    """Sessions end and the person's keys stop working at once (audited `user.disabled`)."""
    if user_id == visitor.user.id:
        raise Conflict("you cannot disable yourself: ask another administrator")
    await firms.disable_person(
        conn, firm_id=visitor.user.firm_id, user_id=user_id, actor=visitor.principal.actor()
    )
    return RedirectResponse("/console/admin/users", status_code=303)


# ---- API keys ---------------------------------------------------------------------------------------------


async def _keys_page(
    request: Request, visitor: Visitor, conn: asyncpg.Connection, *, status: int = 200, **context: Any
) -> HTMLResponse:
    firm = visitor.user.firm_id
    return pages.render(
        request,
        "admin_keys.html",
        status=status,
        visitor=visitor,
        keys=await keys.list_keys(conn, firm_id=firm),
        users=[u for u in await users.list_users(conn, firm) if u.disabled_at is None],
        scopes=SCOPES,
        **context,
    )


@router.get("/console/admin/keys", response_class=HTMLResponse)
async def key_list(request: Request, visitor: Administrator, conn: ReadConn) -> HTMLResponse:
    return await _keys_page(request, visitor, conn)


@router.post("/console/admin/keys", response_class=HTMLResponse)
async def create_key(
    request: Request,
    visitor: AdministratorPost,
    conn: WriteConn,
    name: Field = "",
    owner: Field = "",
    advisor: Field = "",
    user: Field = "",
    scopes: Annotated[list[str] | None, Form(max_length=10)] = None,
) -> HTMLResponse:
    """A new key; its secret is shown on this page only."""
    form = {"name": name, "owner": owner, "advisor": advisor, "user": user, "scopes": scopes or []}
    try:
        if not name.strip() or not owner.strip():
            raise Invalid("a key needs a name and an owner (the person or team answerable for it)")
        created = await keys.create_key(
            conn,
            firm_id=visitor.user.firm_id,
            scopes=scopes or [],
            name=name.strip(),
            owner=owner.strip(),
            advisor_id=_number(advisor, "advisor"),
            user_id=_number(user, "user"),
            actor=visitor.principal.actor(),
        )
    except DomainError as refused:  # validated before anything is written: nothing to roll back
        return await _keys_page(
            request, visitor, conn, status=refused.status, problem=refused.detail, form=form
        )
    return await _keys_page(request, visitor, conn, status=201, created=created)


@router.post("/console/admin/keys/{key_id}/revoke", response_class=RedirectResponse)
async def revoke_key(key_id: Id, visitor: AdministratorPost, conn: WriteConn) -> RedirectResponse:
    """Revoke one of the firm's live keys (audited `api_key.revoked`); another firm's key is a 404."""
    firm = visitor.user.firm_id
    live = {k.key_id for k in await keys.list_keys(conn, firm_id=firm) if k.revoked_at is None}
    if key_id not in live:
        raise NotFound("API key not found (or already revoked)")
    actor = visitor.principal.actor()
    await keys.revoke_key(conn, key_id=key_id, actor_for_firm=lambda _firm: actor)
    return RedirectResponse("/console/admin/keys", status_code=303)


# ---- the policy -------------------------------------------------------------------------------------------


async def _policy_page(
    request: Request, visitor: Visitor, conn: asyncpg.Connection, *, status: int = 200, **context: Any
) -> HTMLResponse:
    firm = visitor.user.firm_id
    versions = await policies.versions(conn, firm)
    current = versions[0] if versions else None
    document = context.pop("document", None)
    if document is None and current is not None:
        document = yaml.safe_dump(current.content, sort_keys=True, allow_unicode=True)
    return pages.render(
        request,
        "admin_policy.html",
        status=status,
        visitor=visitor,
        current=current,
        versions=versions,
        document=document or "",
        **context,
    )


@router.get("/console/admin/policy", response_class=HTMLResponse)
async def policy(request: Request, visitor: Administrator, conn: ReadConn) -> HTMLResponse:
    return await _policy_page(request, visitor, conn)


@router.post("/console/admin/policy", response_class=HTMLResponse)
async def publish_policy(
    request: Request,
    visitor: AdministratorPost,
    conn: WriteConn,
    document: Annotated[str, Form(max_length=60_000)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Publish the document (YAML or JSON) as the next version unless it equals the current one."""
    try:
        content = yaml.safe_load(document)
    except yaml.YAMLError as exc:
        problem = f"The document is not valid YAML or JSON: {str(exc).splitlines()[0]}"
        return await _policy_page(
            request, visitor, conn, status=422, problem=problem, document=document, note=note
        )
    if not isinstance(content, dict):
        problem = "The document must be a mapping of settings (see docs/suitability.md)."
        return await _policy_page(
            request, visitor, conn, status=422, problem=problem, document=document, note=note
        )
    try:
        stored, created = await policies.publish(
            conn,
            visitor.user.firm_id,
            content,
            actor=visitor.principal.actor(),
            created_by=visitor.user.email,
            note=note.strip() or None,
            request_id=request_id_of(request),
        )
    except DomainError as refused:  # the document is validated before anything is written
        return await _policy_page(
            request,
            visitor,
            conn,
            status=refused.status,
            problem=refused.detail,
            document=document,
            note=note,
        )
    outcome = (
        f"Version {stored.version} is now in force."
        if created
        else f"Nothing changed: the document equals version {stored.version}, which stays in force."
    )
    return await _policy_page(request, visitor, conn, outcome=outcome)
