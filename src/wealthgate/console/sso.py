"""Single sign-on through the firm's OpenID Connect provider (`people/oidc.py`), when `oidc_issuer` is set.

`/console/sso/start` sends the browser to the provider with a fresh state and nonce, kept for ten minutes in
an HttpOnly cookie; `/console/sso/callback` checks the state the provider sends back against it, and the
sign-in service exchanges the code, checks the ID token (and its nonce) and opens a session.
"""

from __future__ import annotations

from typing import Annotated, cast

import asyncpg
from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wealthgate.api.deps import AppSettings, DbPool
from wealthgate.console import cookies
from wealthgate.console.routing import console_router
from wealthgate.console.signin import HOME, sign_in_page
from wealthgate.errors import NotFound
from wealthgate.people import oidc, sessions
from wealthgate.people.signin import SignInRefused

router = console_router()
STATE_SECONDS = 600
Param = Annotated[str, Query(max_length=4000)]


@router.get("/console/sso/start", response_class=RedirectResponse)
async def start(settings: AppSettings) -> RedirectResponse:
    if settings.oidc_issuer is None:
        raise NotFound("single sign-on is not configured for this service")
    url, state, nonce = await oidc.astart(settings)
    response = RedirectResponse(url, status_code=303)
    cookies.put(response, cookies.OIDC_STATE, f"{state}.{nonce}", settings, max_age=STATE_SECONDS)
    return response


@router.get("/console/sso/callback", response_class=HTMLResponse)
async def callback(
    request: Request,
    settings: AppSettings,
    pool: DbPool,
    code: Param = "",
    state: Param = "",
    error: Param = "",
) -> Response:
    if settings.oidc_issuer is None:
        raise NotFound("single sign-on is not configured for this service")
    expected_state, _, nonce = (request.cookies.get(cookies.OIDC_STATE) or "").partition(".")
    if error or not code or not expected_state:
        why = (
            f"the provider answered: {error}"
            if error
            else "the sign-in took too long or was not started here"
        )
        page = sign_in_page(
            request, settings, status=401, message=f"Single sign-on did not complete ({why})."
        )
        cookies.drop(page, cookies.OIDC_STATE, settings)
        return page
    async with pool.acquire() as proxy:
        try:
            signed = await oidc.complete(
                cast(asyncpg.Connection, proxy),
                settings,
                code=code,
                state=state,
                expected_state=expected_state,
                nonce=nonce,
                address=request.client.host if request.client else None,
            )
        except SignInRefused as refused:
            page = sign_in_page(
                request, settings, status=401, message=refused.detail[:1].upper() + refused.detail[1:] + "."
            )
            cookies.drop(page, cookies.OIDC_STATE, settings)
            return page
    response = RedirectResponse(HOME, status_code=303)
    cookies.put(response, sessions.COOKIE, signed.token, settings, expires=signed.session.expires_at)
    cookies.drop(response, cookies.OIDC_STATE, settings)
    return response
