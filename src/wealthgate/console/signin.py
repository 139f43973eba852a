"""Sign-in (password), sign-out and the console's front door.

The sign-in form has no session to carry a CSRF token, so it is protected by a double-submit token: the form
page sets a random token as a cookie and as a hidden field, and a post must send both, equal. A site that
cannot read the console's cookies cannot forge the pair, so it cannot sign a victim in to its own account.
"""

from __future__ import annotations

from typing import Annotated, cast

import asyncpg
from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wealthgate.api.deps import AppSettings, DbPool, WriteConn
from wealthgate.console import cookies, pages
from wealthgate.console.deps import FormExpired, PersonPost
from wealthgate.console.routing import console_router
from wealthgate.people import csrf, sessions, signin
from wealthgate.settings import Settings

router = console_router()
HOME = "/console/queue"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console page of this site, never elsewhere (no open redirect)."""
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def sign_in_page(
    request: Request,
    settings: Settings,
    *,
    status: int = 200,
    message: str | None = None,
    notice: str | None = None,
    email: str = "",
    next_page: str | None = None,
) -> HTMLResponse:
    """The form, with a double-submit token (the browser's own if it has one, else a new one)."""
    token = request.cookies.get(cookies.SIGN_IN_CSRF) or csrf.new_token()
    response = pages.render(
        request,
        "signin.html",
        status=status,
        csrf_token=token,
        message=message,
        notice=notice,
        email=email,
        next_page=safe_next(next_page),
        sso=settings.oidc_issuer is not None,
    )
    cookies.put(response, cookies.SIGN_IN_CSRF, token, settings, max_age=3600)
    return response


@router.get("/console", response_class=RedirectResponse)
@router.get("/console/", response_class=RedirectResponse)
async def front_door() -> RedirectResponse:
    """The queue (which sends a visitor without a session to sign in)."""
    return RedirectResponse(HOME, status_code=303)


@router.get("/console/sign-in", response_class=HTMLResponse)
async def sign_in_form(
    request: Request,
    settings: AppSettings,
    next_page: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    signed_out: Annotated[bool, Query(alias="signed-out")] = False,
) -> HTMLResponse:
    notice = "You are signed out." if signed_out else None
    return sign_in_page(request, settings, notice=notice, next_page=next_page)


@router.post("/console/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    settings: AppSettings,
    pool: DbPool,
    email: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_page: Annotated[str, Form(alias="next", max_length=500)] = "",
) -> Response:
    """Check the password (throttled, audited by the sign-in service); on success set the session cookie."""
    if not csrf.same(csrf_token, request.cookies.get(cookies.SIGN_IN_CSRF)):
        raise FormExpired
    if not email.strip() or not password:
        return sign_in_page(
            request,
            settings,
            status=422,
            message="Enter your email and your password.",
            email=email,
            next_page=next_page,
        )
    address = request.client.host if request.client else None
    async with pool.acquire() as proxy:  # sign_in commits a refusal itself: no transaction around it
        try:
            signed = await signin.sign_in(
                cast(asyncpg.Connection, proxy),
                email=email,
                password=password,
                address=address,
                settings=settings,
            )
        except signin.SignInRefused as refused:
            page = sign_in_page(
                request,
                settings,
                status=401,
                message=refused.detail[:1].upper() + refused.detail[1:] + ".",
                email=email,
                next_page=next_page,
            )
            if refused.retry_after:
                page.headers["Retry-After"] = str(refused.retry_after)
            return page
    response = RedirectResponse(safe_next(next_page), status_code=303)
    cookies.put(response, sessions.COOKIE, signed.token, settings, expires=signed.session.expires_at)
    cookies.drop(response, cookies.SIGN_IN_CSRF, settings)
    return response


@router.post("/console/sign-out", response_class=RedirectResponse)
async def sign_out(
    request: Request, visitor: PersonPost, conn: WriteConn, settings: AppSettings
) -> RedirectResponse:
    """End the session (audited `user.signed_out`) and forget the cookie."""
    await sessions.end(conn, visitor.token, address=request.client.host if request.client else None)
    response = RedirectResponse("/console/sign-in?signed-out=true", status_code=303)
    cookies.drop(response, sessions.COOKIE, settings)
    return response
