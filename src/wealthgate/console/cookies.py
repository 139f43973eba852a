"""The console's cookies: `HttpOnly`, `SameSite=Lax`, `Path=/console`, `Secure` unless the setting
`cookie_secure` is off (plain-http hosts other than 127.0.0.1)."""

from __future__ import annotations

from datetime import datetime

from fastapi import Response

from wealthgate.settings import Settings

PATH = "/console"
SIGN_IN_CSRF = "wg_sign_in_csrf"  # the sign-in form's double-submit token (there is no session yet)
OIDC_STATE = "wg_oidc"  # state and nonce of a single sign-on under way


def put(
    response: Response,
    name: str,
    value: str,
    settings: Settings,
    *,
    max_age: int | None = None,
    expires: datetime | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        expires=expires,
        path=PATH,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def drop(response: Response, name: str, settings: Settings) -> None:
    response.delete_cookie(name, path=PATH, secure=settings.cookie_secure, httponly=True, samesite="lax")
