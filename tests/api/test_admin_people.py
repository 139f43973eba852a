"""The admin API for a firm's people (advisors, users) and API keys bound to a person (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient

from tests.api.test_auth_and_tenancy import Revocations
from tests.conftest import AGENT, COMPLIANCE_USER, Keys
from tests.support import fetch, fetchval, make_key, make_user, with_conn
from wealthgate.api.app import create_app
from wealthgate.auth.service import create_key
from wealthgate.errors import Invalid, NotFound
from wealthgate.people import passwords
from wealthgate.settings import Settings


@pytest.fixture
def admin(keys: Keys) -> dict[str, str]:
    return Keys.auth(keys.admin)


def test_an_admin_adds_an_advisor_to_their_own_firm(
    api: TestClient, admin: dict[str, str], db_url: str
) -> None:
    made = api.post("/admin/advisors", json={"name": "Rae Quinn", "email": "Rae@Harbor.test"}, headers=admin)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["firm_id"], body["name"], body["email"]) == (1, "Rae Quinn", "rae@harbor.test")
    assert body["id"] > 3  # after the demo book's advisors
    again = api.post("/admin/advisors", json={"name": "Rae Q", "email": "rae@harbor.test"}, headers=admin)
    assert again.status_code == 409
    (event,) = fetch(
        db_url, "SELECT firm_id, actor FROM audit_events WHERE action = 'advisor.created' AND target_id = $1",
        str(body["id"]),
    )  # fmt: skip
    assert event["firm_id"] == 1
    assert event["actor"]["type"] == "api_key"


def test_only_a_firm_wide_admin_manages_people(api: TestClient, keys: Keys, db_url: str) -> None:
    new = {"email": "x@harbor.test", "role": "compliance"}
    for key in (keys.compliance, keys.reader, keys.agent):
        assert api.post("/admin/users", json=new, headers=Keys.auth(key)).status_code == 403
        assert api.get("/admin/users", headers=Keys.auth(key)).status_code == 403
    bound = make_key(db_url, 1, ["admin"], advisor=1, name="advisor-bound admin")
    assert api.get("/admin/users", headers=Keys.auth(bound)).status_code == 403
    assert api.post("/admin/firms", json={"name": "Nope"}, headers=Keys.auth(keys.admin)).status_code in (
        404,
        405,
    )  # creating a firm is an operator's act (the CLI), not an admin's


def test_users_are_created_with_a_password_shown_once(
    api: TestClient, admin: dict[str, str], db_url: str
) -> None:
    made = api.post(
        "/admin/users", json={"email": "New.Officer@Harbor.test", "role": "compliance"}, headers=admin
    )
    assert made.status_code == 201, made.text
    body = made.json()
    user, once = body["user"], body["one_time_password"]
    assert (user["email"], user["role"], user["firm_id"], user["disabled_at"]) == (
        "new.officer@harbor.test",
        "compliance",
        1,
        None,
    )
    assert len(once) >= 12
    stored = fetchval(db_url, "SELECT password_hash FROM users WHERE id = $1", user["id"])
    assert passwords.verify(stored, once)
    trail = fetch(db_url, "SELECT actor, details FROM audit_events")
    assert once not in json.dumps([dict(r) for r in trail], default=str)  # never in the audit trail

    chosen = api.post(
        "/admin/users",
        json={
            "email": "adv@harbor.test",
            "role": "advisor",
            "advisor_id": 2,
            "password": "a chosen password",
        },
        headers=admin,
    )
    assert chosen.status_code == 201, chosen.text
    assert (chosen.json()["one_time_password"], chosen.json()["user"]["advisor_id"]) == (None, 2)
    taken = api.post("/admin/users", json={"email": COMPLIANCE_USER, "role": "compliance"}, headers=admin)
    assert taken.status_code == 409
    other_firms_advisor = api.post(
        "/admin/users", json={"email": "a3@harbor.test", "role": "advisor", "advisor_id": 3}, headers=admin
    )
    assert other_firms_advisor.status_code == 404  # advisor 3 is firm 2's
    no_advisor = api.post("/admin/users", json={"email": "a4@harbor.test", "role": "advisor"}, headers=admin)
    assert no_advisor.status_code == 422
    short = api.post(
        "/admin/users", json={"email": "s@harbor.test", "role": "admin", "password": "short"}, headers=admin
    )
    assert short.status_code == 422


def test_the_user_list_is_the_callers_firm(api: TestClient, admin: dict[str, str]) -> None:
    listed = api.get("/admin/users", headers=admin)
    assert listed.status_code == 200, listed.text
    emails = [u["email"] for u in listed.json()["items"]]
    assert emails == [
        "admin@demo.wealthgate.test",
        "compliance@demo.wealthgate.test",
        "advisor1@demo.wealthgate.test",
        "advisor2@demo.wealthgate.test",
    ]
    assert "password_hash" not in json.dumps(listed.json())


def test_disabling_a_user_stops_their_keys(
    api: TestClient, admin: dict[str, str], keys: Keys, db_url: str
) -> None:
    reviewer = Keys.auth(keys.compliance)
    assert api.get("/review-queue", headers=reviewer).status_code == 200
    users = {u["email"]: u["id"] for u in api.get("/admin/users", headers=admin).json()["items"]}
    done = api.post(f"/admin/users/{users[COMPLIANCE_USER]}/disable", headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["disabled_at"] is not None
    assert api.get("/review-queue", headers=reviewer).status_code == 401
    assert api.post(f"/admin/users/{users[COMPLIANCE_USER]}/disable", headers=admin).status_code == 409
    firm2_user = fetchval(db_url, "SELECT id FROM users WHERE email = 'compliance@firm2.wealthgate.test'")
    assert api.post(f"/admin/users/{firm2_user}/disable", headers=admin).status_code == 404


def test_a_cached_key_of_a_disabled_user_is_dropped_at_once(
    db_url: str, tmp_path: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the key cache on, disabling the person announces their keys like a revocation."""
    revocations = Revocations(monkeypatch)
    settings = Settings(
        database_url=db_url, home=tmp_path / "home", auth_cache_seconds=300, audit_checkpoint_seconds=0
    )
    reviewer, admin = Keys.auth(keys.compliance), Keys.auth(keys.admin)
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        assert api.get("/review-queue", headers=reviewer).status_code == 200  # now cached
        user_id = fetchval(db_url, "SELECT id FROM users WHERE email = $1", COMPLIANCE_USER)
        assert api.post(f"/admin/users/{user_id}/disable", headers=admin).status_code == 200
        assert revocations.heard(keys.compliance), "the disabled user's key was never announced"
        assert api.get("/review-queue", headers=reviewer).status_code == 401


def _create(db_url: str, **overrides: Any) -> Any:
    async def work(conn: asyncpg.Connection) -> Any:
        async with conn.transaction():
            return await create_key(
                conn,
                **{
                    "firm_id": 1,
                    "scopes": ["compliance:review"],
                    "name": "k",
                    "owner": "k",
                    "advisor_id": None,
                    "actor": {"type": "operator", "owner": "pytest", "firm_id": 1},
                    **overrides,
                },
            )

    return with_conn(db_url, work)


def test_a_key_acts_only_for_a_person_of_its_firm_within_their_role(db_url: str, api: TestClient) -> None:
    firm2 = fetchval(db_url, "SELECT id FROM users WHERE email = 'compliance@firm2.wealthgate.test'")
    with pytest.raises(NotFound):
        _create(db_url, user_id=firm2)  # another firm's person
    advisor1 = fetchval(db_url, "SELECT id FROM users WHERE email = 'advisor1@demo.wealthgate.test'")
    with pytest.raises(Invalid, match="compliance:review"):
        _create(db_url, user_id=advisor1)  # an advisor's key cannot review
    with pytest.raises(Invalid):
        _create(db_url, user_id=advisor1, scopes=AGENT, advisor_id=2)  # not their book
    theirs = _create(db_url, user_id=advisor1, scopes=AGENT)
    assert fetchval(db_url, "SELECT advisor_id FROM api_keys WHERE id = $1", theirs.key_id) == 1  # their book
    seen = api.get("/clients", params={"limit": 200}, headers=Keys.auth(theirs.secret_key)).json()["items"]
    assert {c["advisor_id"] for c in seen} == {1}

    gone = make_user(db_url, 1, "gone@harbor.test")
    with_conn(db_url, lambda c: c.execute("UPDATE users SET disabled_at = now() WHERE id = $1", gone))
    with pytest.raises(Invalid, match="disabled"):
        _create(db_url, user_id=gone)
