"""Single sign-on through any OpenID Connect provider: the authorization code flow with state, nonce and PKCE.

Configured by `oidc_issuer`, `oidc_client_id`, `oidc_client_secret` and `public_url` (the redirect URI is
`{public_url}/console/sso/callback`, which the provider must have registered). The provider's endpoints come
from its discovery document (`{issuer}/.well-known/openid-configuration`, cached for an hour per process).

1. `start(settings)` (or `await astart(settings)`, which never blocks the event loop) gives the URL to send
   the browser to, the `state` and the `nonce`. The caller keeps both (an HttpOnly cookie) until the callback.
   The `nonce` it returns is the flow's secret: the nonce the ID token must carry and, after a dot, the PKCE
   code verifier, which never appears in a URL. Hand it back unchanged.
2. `await complete(conn, settings, code=..., state=..., expected_state=..., nonce=...)` checks the state,
   exchanges the code (with the verifier) at the token endpoint, verifies the ID token's signature against
   the provider's published keys (asymmetric algorithms only) and its `iss`, `aud`, `exp` and `nonce`, then
   finds the person: by (issuer, subject), else by the provider's *verified* email of a user who has no single
   sign-on identity yet (then linked, audited `user.sso_linked`). Nobody else gets in: single sign-on never
   creates users. Like `signin.sign_in`, it owns its transaction (a refusal is recorded, then raised), so give
   it a connection outside any transaction.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from authlib.integrations.base_client.errors import OAuthError  # type: ignore[import-untyped]  # authlib ships no types
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuth2Client  # type: ignore[import-untyped]  # authlib ships no types
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]  # authlib ships no types
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from wealthgate.audit.record import record
from wealthgate.db.sql import Sql
from wealthgate.errors import Unavailable
from wealthgate.people import csrf
from wealthgate.people.sessions import SignedIn
from wealthgate.people.signin import DISABLED, SignInRefused, anonymous, open_session
from wealthgate.people.users import User, normalized_email
from wealthgate.settings import Settings

log = logging.getLogger(__name__)

CALLBACK_PATH = "/console/sso/callback"
SCOPE = "openid email profile"
# HS256 would let anyone holding the client secret mint tokens; "none" is no signature at all
ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
TIMEOUT_SECONDS = 10.0
METADATA_SECONDS = 3600.0
LEEWAY_SECONDS = 60  # clock skew between the provider and this service
_metadata: dict[str, tuple[float, dict[str, Any]]] = {}

NO_USER = "no wealthgate user matches this sign-in: ask an administrator of your firm to add you"
FAILED = "single sign-on failed: try again, or sign in with your password"

_BY_SUBJECT = Sql("SELECT * FROM users WHERE oidc_issuer = :issuer AND oidc_subject = :subject")
_BY_EMAIL = Sql("SELECT * FROM users WHERE email = :email")
_LINK = Sql(
    "UPDATE users SET oidc_issuer = :issuer, oidc_subject = :subject"
    " WHERE firm_id = :firm_id AND id = :user_id AND oidc_subject IS NULL RETURNING *"
)


class _Provider:
    """The configured provider, or `Unavailable` (503) naming what is missing."""

    def __init__(self, settings: Settings) -> None:
        missing = [
            name
            for name, value in (
                ("WEALTHGATE_OIDC_ISSUER", settings.oidc_issuer),
                ("WEALTHGATE_OIDC_CLIENT_ID", settings.oidc_client_id),
                ("WEALTHGATE_PUBLIC_URL", settings.public_url),
            )
            if not value
        ]
        if missing:
            raise Unavailable(f"single sign-on is not configured: set {', '.join(missing)}")
        self.issuer: str = settings.oidc_issuer or ""
        self.client_id: str = settings.oidc_client_id or ""
        secret = settings.oidc_client_secret
        self.client_secret: str | None = secret.get_secret_value() if secret else None
        self.redirect_uri = f"{(settings.public_url or '').rstrip('/')}{CALLBACK_PATH}"

    def client_options(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            # a provider registering this service as a public client gives it no secret
            "token_endpoint_auth_method": "client_secret_basic" if self.client_secret else "none",
            "redirect_uri": self.redirect_uri,
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "timeout": TIMEOUT_SECONDS,
        }


def enabled(settings: Settings) -> bool:
    """Is single sign-on configured (so the sign-in page offers it)?"""
    return bool(settings.oidc_issuer and settings.oidc_client_id and settings.public_url)


def _discovery_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def _checked_metadata(issuer: str, document: Any) -> dict[str, Any]:
    """The discovery document, if it is this issuer's (OpenID Connect Discovery 1.0, section 4.3)."""
    needed = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    if (
        not isinstance(document, dict)
        or document.get("issuer") != issuer
        or not all(isinstance(document.get(k), str) for k in needed)
    ):
        raise Unavailable("the single sign-on provider's discovery document does not match its issuer")
    return document


def _cached(issuer: str) -> dict[str, Any] | None:
    hit = _metadata.get(issuer)
    return hit[1] if hit is not None and time.monotonic() - hit[0] < METADATA_SECONDS else None


def _fetched(issuer: str, response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    document = _checked_metadata(issuer, response.json())
    _metadata[issuer] = (time.monotonic(), document)
    return document


def _metadata_now(issuer: str) -> dict[str, Any]:
    cached = _cached(issuer)
    if cached is not None:
        return cached
    try:
        return _fetched(issuer, httpx.get(_discovery_url(issuer), timeout=TIMEOUT_SECONDS))
    except (httpx.HTTPError, ValueError) as failure:
        log.warning("OpenID Connect discovery failed for %s: %s", issuer, failure)
        raise Unavailable("the single sign-on provider cannot be reached") from failure


async def _metadata_async(issuer: str) -> dict[str, Any]:
    cached = _cached(issuer)
    if cached is not None:
        return cached
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
            return _fetched(issuer, await http.get(_discovery_url(issuer)))
    except (httpx.HTTPError, ValueError) as failure:
        log.warning("OpenID Connect discovery failed for %s: %s", issuer, failure)
        raise Unavailable("the single sign-on provider cannot be reached") from failure


def _authorization(provider: _Provider, metadata: dict[str, Any]) -> tuple[str, str, str]:
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    with OAuth2Client(**provider.client_options()) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
    return str(url), state, f"{nonce}.{verifier}"


def start(settings: Settings) -> tuple[str, str, str]:
    """(authorization URL, state, nonce) for a new sign-in. Fetches the discovery document the first time
    (blocking; `astart` does not)."""
    provider = _Provider(settings)
    return _authorization(provider, _metadata_now(provider.issuer))


async def astart(settings: Settings) -> tuple[str, str, str]:
    """`start` for async code: the discovery document is fetched without blocking the event loop."""
    provider = _Provider(settings)
    return _authorization(provider, await _metadata_async(provider.issuer))


async def _id_claims(
    provider: _Provider, metadata: dict[str, Any], *, code: str, nonce: str, verifier: str
) -> dict[str, Any]:
    """Exchange the code and return the verified ID token's claims, or refuse."""
    try:
        async with AsyncOAuth2Client(**provider.client_options()) as client:
            token = await client.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
            keys = await client.request("GET", metadata["jwks_uri"], withhold_token=True)
            keys.raise_for_status()
            key_set = KeySet.import_key_set(keys.json())
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in ASYMMETRIC]
        decoded = jwt.decode(token["id_token"], key_set, algorithms=algorithms)
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": provider.client_id},
            },
            {"nonce": nonce, "client_id": provider.client_id, "access_token": token.get("access_token")},
        )
        claims.validate(leeway=LEEWAY_SECONDS)
    except (OAuthError, httpx.HTTPError, JoseError, KeyError, ValueError) as failure:
        log.warning("single sign-on refused by %s: %s: %s", provider.issuer, type(failure).__name__, failure)
        raise SignInRefused(FAILED) from failure
    return dict(claims)


async def complete(
    conn: asyncpg.Connection,
    settings: Settings,
    *,
    code: str,
    state: str,
    expected_state: str,
    nonce: str,
    address: str | None = None,
    now: datetime | None = None,
) -> SignedIn:
    """A session for the person the provider vouches for, or `SignInRefused` (401) once any refusal worth
    recording has been committed."""
    if conn.is_in_transaction():
        raise RuntimeError("oidc.complete commits refused attempts itself: call it outside a transaction")
    id_nonce, _, verifier = nonce.partition(".")
    if not csrf.same(state, expected_state) or not id_nonce or not verifier or not code:
        raise SignInRefused("this sign-in was not started here, or took too long: start again")
    provider = _Provider(settings)
    metadata = await _metadata_async(provider.issuer)
    claims = await _id_claims(provider, metadata, code=code, nonce=id_nonce, verifier=verifier)
    refusal: SignInRefused | None = None
    signed: SignedIn | None = None
    async with conn.transaction():
        try:
            signed = await _open(conn, settings, provider.issuer, claims, address, now or datetime.now(UTC))
        except SignInRefused as refused:
            refusal = refused  # leave the block normally, so the transaction commits what was recorded
    if refusal is not None:
        raise refusal
    if signed is None:  # _open returns or raises; this only tells the type checker
        raise RuntimeError("single sign-on ended without an outcome")
    return signed


def _verified_email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    verified = claims.get("email_verified")
    if isinstance(email, str) and (verified is True or verified == "true"):
        return normalized_email(email)
    return None


async def _open(
    conn: asyncpg.Connection,
    settings: Settings,
    issuer: str,
    claims: dict[str, Any],
    address: str | None,
    now: datetime,
) -> SignedIn:
    subject = str(claims["sub"])
    row = await _BY_SUBJECT.fetchrow(conn, issuer=issuer, subject=subject)
    email = _verified_email(claims)
    if row is None and email is not None:
        candidate = await _BY_EMAIL.fetchrow(conn, email=email)
        if candidate is not None and candidate["oidc_subject"] is None:
            row = await _LINK.fetchrow(
                conn, issuer=issuer, subject=subject, firm_id=candidate["firm_id"], user_id=candidate["id"]
            )
            if row is not None:
                await record(
                    conn,
                    firm_id=row["firm_id"],
                    actor=anonymous(address),
                    action="user.sso_linked",
                    target_type="user",
                    target_id=row["id"],
                    details={"issuer": issuer, "subject": subject, "email": email},
                )
    if row is None:
        log.info("single sign-on by %s subject %r (email %r) matches no user", issuer, subject, email)
        raise SignInRefused(NO_USER)
    user = User.of(row)
    if user.disabled_at is not None:
        await record(
            conn,
            firm_id=user.firm_id,
            actor=anonymous(address),
            action="user.sign_in_failed",
            target_type="user",
            target_id=user.id,
            details={"email": user.email, "reason": "disabled", "address": address, "method": "oidc"},
        )
        raise SignInRefused(DISABLED)
    return await open_session(
        conn, user, settings, now, {"method": "oidc", "issuer": issuer, "address": address}
    )


__all__ = ["CALLBACK_PATH", "SignedIn", "astart", "complete", "enabled", "start"]
