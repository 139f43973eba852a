"""Who is signed in to the console, what they may open, and the CSRF check every form post passes.

- `Person`: the signed-in user (from the `wg_session` cookie, `people.sessions.lookup`), any role; without a
  live session a page redirects to the sign-in form (`SignInNeeded`).
- `Officer` (compliance:review: compliance and admin users), `Administrator` (admin): other roles get a 403
  page, as the API answers a key without the scope.
- `PersonPost`, `OfficerPost`, `AdministratorPost`: the same, for a form post, after checking the form's
  `csrf_token` against the session's (a 403 page saying the form expired otherwise).

The session is read on a connection of its own, released before the route's `ReadConn`/`WriteConn` is taken,
so a page holds one connection at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

import asyncpg
from fastapi import Depends, Request

from wealthgate.api.deps import DbPool
from wealthgate.auth.principal import Principal
from wealthgate.errors import Forbidden
from wealthgate.people import csrf, sessions
from wealthgate.people.users import User

CSRF_FIELD = "csrf_token"


class SignInNeeded(Exception):
    """No live session: the console answers with its sign-in page."""


class FormExpired(Exception):
    """A form post without the session's CSRF token (a forged post, or a form from an ended session)."""


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in person: the user, the session's CSRF token (every form renders it), the principal the
    domain services take (`user.principal()`), and the cookie token (to end the session)."""

    user: User
    csrf_token: str
    principal: Principal
    token: str

    def may(self, scope: str) -> bool:
        return self.principal.has(scope)

    @property
    def is_officer(self) -> bool:
        return self.may("compliance:review")

    @property
    def is_admin(self) -> bool:
        return self.may("admin")


async def _visitor(request: Request, pool: DbPool) -> Visitor:
    token = request.cookies.get(sessions.COOKIE)
    if not token:
        raise SignInNeeded
    async with pool.acquire() as proxy:
        found = await sessions.lookup(cast(asyncpg.Connection, proxy), token)
    if found is None:
        raise SignInNeeded
    return Visitor(found.user, found.csrf_token, found.user.principal(), token)


Person = Annotated[Visitor, Depends(_visitor)]


async def _officer(visitor: Person) -> Visitor:
    if not visitor.is_officer:
        raise Forbidden(
            "this page is for compliance officers and administrators;"
            f" you are signed in as {visitor.user.role}"
        )
    return visitor


async def _administrator(visitor: Person) -> Visitor:
    if not visitor.is_admin:
        raise Forbidden(f"this page is for administrators; you are signed in as {visitor.user.role}")
    return visitor


Officer = Annotated[Visitor, Depends(_officer)]
Administrator = Annotated[Visitor, Depends(_administrator)]


async def _checked(request: Request, visitor: Visitor) -> Visitor:
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not csrf.same(sent if isinstance(sent, str) else None, visitor.csrf_token):
        raise FormExpired
    return visitor


async def _person_post(request: Request, visitor: Person) -> Visitor:
    return await _checked(request, visitor)


async def _officer_post(request: Request, visitor: Officer) -> Visitor:
    return await _checked(request, visitor)


async def _administrator_post(request: Request, visitor: Administrator) -> Visitor:
    return await _checked(request, visitor)


PersonPost = Annotated[Visitor, Depends(_person_post)]
OfficerPost = Annotated[Visitor, Depends(_officer_post)]
AdministratorPost = Annotated[Visitor, Depends(_administrator_post)]
