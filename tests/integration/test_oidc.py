"""Single sign-on through OpenID Connect against a local stub issuer (tests/stub_oidc.py): the whole
authorization code flow over real HTTP, the ID token checks, and who is let in."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from tests.integration.test_sign_in import events, make_user, run
from tests.stub_oidc import StubIssuer
from tests.support import fetch, fetchval
from wealthgate.auth.principal import operator_actor
from wealthgate.errors import Unavailable
from wealthgate.people import oidc, sessions
from wealthgate.people.signin import SignedIn, SignInRefused
from wealthgate.people.users import User, disable_user
from wealthgate.settings import Settings

PUBLIC_URL = "https://wealthgate.example.test"


@pytest.fixture
def issuer() -> Iterator[StubIssuer]:
    with StubIssuer(client_id="wealthgate", client_secret="stub-secret") as stub:  # noqa: S106  (a stub's)
        yield stub


@pytest.fixture
def sso(settings: Settings, issuer: StubIssuer) -> Settings:
    return settings.model_copy(
        update={
            "oidc_issuer": issuer.url,
            "oidc_client_id": "wealthgate",
            "oidc_client_secret": SecretStr("stub-secret"),
            "public_url": PUBLIC_URL,
        }
    )


def browse(settings: Settings) -> tuple[str, str, str, str]:
    """What the browser does: follow the authorization URL to the issuer and read where it is sent back.
    Returns (code, returned state, expected state, nonce)."""
    url, state, nonce = oidc.start(settings)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/console/sso/callback"]
    assert nonce.partition(".")[2] not in url  # the PKCE verifier never travels in a URL
    back = httpx.get(url, follow_redirects=False)
    assert back.status_code == 302
    location = urlsplit(back.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{PUBLIC_URL}/console/sso/callback"
    returned = parse_qs(location.query)
    return returned["code"][0], returned["state"][0], state, nonce


def complete(db_url: str, settings: Settings, code: str, state: str, expected: str, nonce: str) -> SignedIn:
    return run(
        db_url,
        lambda conn: oidc.complete(
            conn,
            settings,
            code=code,
            state=state,
            expected_state=expected,
            nonce=nonce,
            address="192.0.2.44",
        ),
    )


def sign_on(db_url: str, settings: Settings) -> SignedIn:
    return complete(db_url, settings, *browse(settings))


def refused(db_url: str, settings: Settings) -> SignInRefused:
    with pytest.raises(SignInRefused) as caught:
        sign_on(db_url, settings)
    assert caught.value.status == 401
    return caught.value


def identity(db_url: str, user: User) -> tuple[str | None, str | None]:
    row = fetch(db_url, "SELECT oidc_issuer, oidc_subject FROM users WHERE id = $1", user.id)[0]
    return row["oidc_issuer"], row["oidc_subject"]


def test_a_person_signs_on_is_linked_by_verified_email_then_known_by_subject(
    db_url: str, sso: Settings, issuer: StubIssuer
) -> None:
    user = make_user(db_url, password=None)  # a single sign-on user has no password
    issuer.person = {"sub": "idp-42", "email": user.email.upper(), "email_verified": True}
    signed = sign_on(db_url, sso)
    assert signed.session.user.id == user.id
    assert identity(db_url, user) == (issuer.url, "idp-42")
    found = run(db_url, lambda conn: sessions.lookup(conn, signed.token))
    assert found is not None
    assert found.user.email == user.email
    [linked] = events(db_url, "user.sso_linked", user)
    assert linked["details"] == {"issuer": issuer.url, "subject": "idp-42", "email": user.email}
    [signed_in] = events(db_url, "user.signed_in", user)
    assert signed_in["details"] == {"method": "oidc", "issuer": issuer.url, "address": "192.0.2.44"}
    assert signed_in["actor"]["user_id"] == user.id
    # the provider changes the person's email: the subject still finds them
    issuer.person = {"sub": "idp-42", "email": "renamed@elsewhere.test", "email_verified": True}
    assert sign_on(db_url, sso).session.user.id == user.id
    assert len(events(db_url, "user.sso_linked", user)) == 1


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        ("signature", "BadSignatureError"),
        ("nonce", "'nonce'"),
        ("audience", "'aud'"),
        ("issuer", "'iss'"),
        ("expired", "ExpiredTokenError"),
    ],
)
def test_a_bad_id_token_is_refused(
    db_url: str, sso: Settings, issuer: StubIssuer, tamper: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = make_user(db_url)
    issuer.person = {"sub": "idp-7", "email": user.email, "email_verified": True}
    issuer.tamper = tamper
    with caplog.at_level(logging.WARNING, logger="wealthgate.people.oidc"):
        assert refused(db_url, sso).detail == oidc.FAILED
    assert why in caplog.text  # refused for the reason the tampering gives, not another
    assert identity(db_url, user) == (None, None)
    assert fetchval(db_url, "SELECT count(*) FROM user_sessions") == 0
    issuer.tamper = None  # the same flow with an honest token goes through: the tampering was the cause
    assert sign_on(db_url, sso).session.user.id == user.id


def test_an_unknown_person_is_refused_and_nobody_is_created(
    db_url: str, sso: Settings, issuer: StubIssuer
) -> None:
    users_before = fetchval(db_url, "SELECT count(*) FROM users")
    issuer.person = {
        "sub": "stranger",
        "email": f"{uuid.uuid4().hex[:8]}@example.test",
        "email_verified": True,
    }
    assert refused(db_url, sso).detail == oidc.NO_USER
    assert fetchval(db_url, "SELECT count(*) FROM users") == users_before


def test_an_unverified_email_links_nobody(db_url: str, sso: Settings, issuer: StubIssuer) -> None:
    """Anyone can claim an address at some providers; only a verified one may find an existing user."""
    user = make_user(db_url)
    issuer.person = {"sub": "claimer", "email": user.email, "email_verified": False}
    assert refused(db_url, sso).detail == oidc.NO_USER
    assert identity(db_url, user) == (None, None)


def test_an_email_already_linked_to_another_subject_is_not_relinked(
    db_url: str, sso: Settings, issuer: StubIssuer
) -> None:
    user = make_user(db_url)
    issuer.person = {"sub": "first", "email": user.email, "email_verified": True}
    sign_on(db_url, sso)
    issuer.person = {"sub": "second", "email": user.email, "email_verified": True}
    assert refused(db_url, sso).detail == oidc.NO_USER
    assert identity(db_url, user) == (issuer.url, "first")


def test_a_disabled_user_is_refused_and_the_refusal_recorded(
    db_url: str, sso: Settings, issuer: StubIssuer
) -> None:
    user = make_user(db_url)
    issuer.person = {"sub": "idp-9", "email": user.email, "email_verified": True}
    sign_on(db_url, sso)

    async def disable(conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            await disable_user(conn, firm_id=1, user_id=user.id, actor=operator_actor(1, "pytest"))

    run(db_url, disable)
    refused(db_url, sso)
    [failed] = events(db_url, "user.sign_in_failed", user)
    assert failed["details"]["reason"] == "disabled"
    assert failed["details"]["method"] == "oidc"


def test_a_callback_with_another_state_is_refused_before_any_exchange(
    db_url: str, sso: Settings, issuer: StubIssuer
) -> None:
    """A forged callback (someone else's code pushed into this browser) never reaches the token endpoint."""
    code, _, expected, nonce = browse(sso)
    with pytest.raises(SignInRefused):
        complete(db_url, sso, code, "forged-state", expected, nonce)
    assert issuer.token_requests == 0


def test_the_code_needs_the_verifier_that_started_the_flow(
    db_url: str, sso: Settings, issuer: StubIssuer
) -> None:
    """PKCE: a stolen code is useless without the verifier kept by the browser that started the flow."""
    user = make_user(db_url)
    issuer.person = {"sub": "idp-5", "email": user.email, "email_verified": True}
    code, state, expected, nonce = browse(sso)
    id_nonce = nonce.partition(".")[0]
    with pytest.raises(SignInRefused):
        complete(db_url, sso, code, state, expected, f"{id_nonce}.not-the-verifier-{'x' * 40}")
    assert issuer.token_requests == 1


def test_single_sign_on_off_or_half_configured_says_what_is_missing(settings: Settings) -> None:
    assert not oidc.enabled(settings)
    with pytest.raises(Unavailable, match="WEALTHGATE_OIDC_ISSUER"):
        oidc.start(settings)
    half = settings.model_copy(update={"oidc_issuer": "https://idp.example.test", "oidc_client_id": "x"})
    with pytest.raises(Unavailable, match="WEALTHGATE_PUBLIC_URL"):
        oidc.start(half)


def test_a_discovery_document_for_another_issuer_is_not_trusted(sso: Settings, issuer: StubIssuer) -> None:
    impostor = sso.model_copy(update={"oidc_issuer": issuer.url + "/"})  # serves a document naming issuer.url
    with pytest.raises(Unavailable, match="does not match"):
        oidc.start(impostor)


def test_astart_gives_the_same_kind_of_start_without_blocking(sso: Settings, issuer: StubIssuer) -> None:
    url, state, nonce = asyncio.run(oidc.astart(sso))
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{issuer.url}/authorize?")
    assert query["state"] == [state]
    assert query["nonce"] == [nonce.partition(".")[0]]
    assert query["client_id"] == ["wealthgate"]
