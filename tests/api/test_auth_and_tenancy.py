"""401 without a valid key, 403 without the scope, 404 for what is not yours, on every client route."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.factories import Factory
from tests.support import fetch, fetchval, make_key, with_conn
from wealthgate.api.app import create_app
from wealthgate.auth.authenticate import KeyCache
from wealthgate.auth.revocations import REVOCATION_LISTENER
from wealthgate.auth.service import revoke_key
from wealthgate.settings import Settings

NOTE = {"event_type": "portfolio_recommendation", "payload": "{}"}
# (method, path template, body template, scope needed)
CLIENT_ROUTES = [
    ("GET", "/clients/{id}/context", None, "clients:read"),
    ("POST", "/audit/recommendation", {"client_id": "{id}", **NOTE}, "recommendations:write"),
]
FIRM2_CLIENT = 37  # demo book: clients 37-50 belong to firm 2 (advisor 3)
ADVISOR2_CLIENT = 21  # firm 1, advisor 2
ADVISOR1_CLIENT = 1  # Alice Chen, firm 1, advisor 1


def call(api: TestClient, method: str, path: str, body: Any, client_id: int, headers: dict[str, str]) -> Any:
    url = path.format(id=client_id)
    json = None
    if body is not None:
        json = {k: (client_id if v == "{id}" else v) for k, v in body.items()}
    return api.request(method, url, json=json, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "scope"), CLIENT_ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "wg_1_1_" + "x" * 43},
        {"X-API-Key": ""},
    ],
    ids=["none", "malformed", "wrong-scheme", "wrong-secret", "empty"],
)
def test_without_a_valid_key_every_client_route_is_401(
    api: TestClient, keys: Keys, method: str, path: str, body: Any, scope: str, headers: dict[str, str]
) -> None:
    r = call(api, method, path, body, 1, headers)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "body", "scope"), CLIENT_ROUTES)
def test_a_key_without_the_scope_is_403(
    api: TestClient, keys: Keys, method: str, path: str, body: Any, scope: str
) -> None:
    r = call(api, method, path, body, 1, Keys.auth(keys.compliance))
    assert r.status_code == 403, r.text
    assert scope in r.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body", "scope"), CLIENT_ROUTES)
def test_another_firms_client_is_404_exactly_like_a_missing_one(
    api: TestClient, keys: Keys, method: str, path: str, body: Any, scope: str
) -> None:
    theirs = call(api, method, path, body, FIRM2_CLIENT, Keys.auth(keys.agent))
    missing = call(api, method, path, body, 999_999, Keys.auth(keys.agent))
    assert theirs.status_code == missing.status_code == 404
    strip = lambda b: {k: v for k, v in b.items() if k not in ("instance", "request_id")}  # noqa: E731
    assert strip(theirs.json()) == strip(missing.json())
    assert theirs.json()["detail"] == "Client not found"
    # and the owner does see it
    assert call(api, method, path, body, FIRM2_CLIENT, Keys.auth(keys.other_firm)).status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "scope"), CLIENT_ROUTES)
def test_an_advisor_bound_key_sees_only_that_advisors_clients(
    api: TestClient, keys: Keys, method: str, path: str, body: Any, scope: str
) -> None:
    assert call(api, method, path, body, ADVISOR2_CLIENT, Keys.auth(keys.advisor2)).status_code == 200
    assert call(api, method, path, body, ADVISOR1_CLIENT, Keys.auth(keys.advisor2)).status_code == 404


def test_the_client_list_holds_only_visible_clients(api: TestClient, keys: Keys, db_url: str) -> None:
    def ids(key: str) -> set[int]:
        r = api.get("/clients", params={"limit": 200}, headers=Keys.auth(key))
        assert r.status_code == 200
        return {c["id"] for c in r.json()["items"]}

    firm1 = {r["id"] for r in fetch(db_url, "SELECT id FROM clients WHERE firm_id = 1")}
    adv2 = {r["id"] for r in fetch(db_url, "SELECT id FROM clients WHERE firm_id = 1 AND advisor_id = 2")}
    firm2 = {r["id"] for r in fetch(db_url, "SELECT id FROM clients WHERE firm_id = 2")}
    assert ids(keys.agent) == firm1
    assert ids(keys.advisor2) == adv2
    assert ids(keys.other_firm) == firm2
    assert api.get("/clients").status_code == 401
    assert api.get("/clients", headers=Keys.auth(keys.compliance)).status_code == 403


def test_a_revoked_key_is_refused(api: TestClient, factory: Factory) -> None:
    client = factory.client()
    reader, other = (
        factory.key(client.firm_id, ["clients:read"]),
        factory.key(client.firm_id, ["clients:read"]),
    )
    assert api.get(f"/clients/{client.id}/context", headers=reader.headers).status_code == 200
    factory.revoke(reader)
    assert api.get(f"/clients/{client.id}/context", headers=reader.headers).status_code == 401
    assert api.get(f"/clients/{client.id}/context", headers=other.headers).status_code == 200  # only that key


def test_x_api_key_header_works_like_bearer(api: TestClient, keys: Keys) -> None:
    r = api.get("/clients/1/context", headers={"X-API-Key": keys.agent})
    assert r.status_code == 200


def test_keys_are_stored_hashed_never_in_clear(keys: Keys, db_url: str) -> None:
    secret = keys.agent.split("_", 3)[3]
    dumped = fetchval(
        db_url, "SELECT string_agg(encode(key_hash, 'escape') || name || owner, '') FROM api_keys"
    )
    assert secret not in dumped
    assert fetchval(db_url, "SELECT count(*) FROM audit_events WHERE action = 'api_key.created'") == 6


def test_health_and_docs_need_no_key(api: TestClient) -> None:
    assert api.get("/healthz").json()["status"] == "ok"
    assert api.get("/docs").status_code == 200
    spec = api.get("/openapi.json").json()
    assert "/clients/{client_id}/context" in spec["paths"]


class Revocations:
    """The revocation notices an app's key cache has handled (its listener's callback has run), to wait on
    one: the event itself, not a poll of the API."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.handled: set[str] = set()
        self.changed = threading.Condition()
        handle = KeyCache.on_revocation

        def handled(cache: KeyCache, conn: object, pid: int, channel: str, payload: str) -> None:
            handle(cache, conn, pid, channel, payload)
            with self.changed:
                self.handled.add(payload)
                self.changed.notify_all()

        monkeypatch.setattr(KeyCache, "on_revocation", handled)

    def heard(self, key: str, timeout: float = 30) -> bool:
        """Whether the notice for `key` (`wg_<firm>_<id>_...`) was handled; `timeout` guards a hang."""
        _, firm, key_id, *_ = key.split("_")
        with self.changed:
            return self.changed.wait_for(lambda: f"{firm}:{key_id}" in self.handled, timeout=timeout)


def _revoke(db_url: str, key: str) -> None:
    """Revoke `key` as an operator would (`wealthgate keys revoke`): in its own transaction, announced."""
    key_id = int(key.split("_")[2])

    async def revoke(conn: Any) -> None:
        async with conn.transaction():
            await revoke_key(conn, key_id=key_id, actor_for_firm=lambda f: {"type": "operator", "firm_id": f})

    with_conn(db_url, revoke)


def test_a_revoked_key_is_refused_at_once_despite_a_long_cache(
    settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With keys cached for an hour, revocation still reaches the worker (NOTIFY at commit)."""
    revocations = Revocations(monkeypatch)
    key = make_key(db_url, 1, ["clients:read"], name="soon-revoked")
    with TestClient(create_app(settings.model_copy(update={"auth_cache_seconds": 3600}))) as api:
        assert api.get("/clients/1/context", headers=Keys.auth(key)).status_code == 200  # now cached
        _revoke(db_url, key)
        assert revocations.heard(key), "the revocation never reached the app"
        assert api.get("/clients/1/context", headers=Keys.auth(key)).status_code == 401


_LISTENERS = "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()"


def test_a_revocation_is_refused_at_once_after_a_superuser_killed_the_listener(
    settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The adversary (or a restart) ends the worker's LISTEN session: the worker listens again, and a key
    revoked after that is refused at once, its hour-long cache entry notwithstanding. Before: the session
    was never re-established and the revoked key kept working for the cache's hour."""
    revocations = Revocations(monkeypatch)
    key = make_key(db_url, 1, ["clients:read"], name="revoked-after-the-kill")
    with TestClient(create_app(settings.model_copy(update={"auth_cache_seconds": 3600}))) as api:
        assert api.get("/clients/1/context", headers=Keys.auth(key)).status_code == 200  # now cached
        (killed,) = [r["pid"] for r in fetch(db_url, _LISTENERS, REVOCATION_LISTENER)]
        assert fetchval(db_url, "SELECT pg_terminate_backend($1)", killed) is True

        def listening_again() -> bool:
            return {r["pid"] for r in fetch(db_url, _LISTENERS, REVOCATION_LISTENER)} - {killed} != set()

        deadline = time.monotonic() + 30
        while not listening_again():
            assert time.monotonic() < deadline, "the worker never listened again"
            time.sleep(0.05)
        _revoke(db_url, key)
        assert revocations.heard(key), "the new session never heard the revocation"
        assert api.get("/clients/1/context", headers=Keys.auth(key)).status_code == 401
