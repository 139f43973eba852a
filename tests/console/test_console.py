"""The compliance console over HTTP (TestClient, https so the Secure cookies travel): sign-in, the queue,
evidence and review by a person, scope, CSRF, roles, and pages that load nothing from elsewhere."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import Keys
from tests.support import fetch, fetchval, with_conn
from wealthgate.api.app import create_app
from wealthgate.people.users import create_user
from wealthgate.settings import Settings

PASSWORD = "console-test-password"  # noqa: S105  (a test user's password)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class People:
    officer: str  # firm 1 compliance
    admin: str  # firm 1 admin
    advisor1: str  # firm 1, advisor 1's book
    advisor2: str  # firm 1, advisor 2's book


def _user(db_url: str, email: str, role: str, advisor: int | None = None) -> int:
    async def work(conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            made = await create_user(
                conn,
                firm_id=1,
                email=email,
                name=email.split("@", maxsplit=1)[0].replace("-", " ").title(),
                role=role,
                advisor_id=advisor,
                password=PASSWORD,
                actor={"type": "operator", "owner": "pytest", "firm_id": 1},
            )
        return made.id

    return with_conn(db_url, work)


@pytest.fixture
def people(db_url: str) -> People:
    tag = uuid.uuid4().hex[:6]
    made = People(
        officer=f"officer-{tag}@console.test",
        admin=f"admin-{tag}@console.test",
        advisor1=f"adviser-one-{tag}@console.test",
        advisor2=f"adviser-two-{tag}@console.test",
    )
    _user(db_url, made.officer, "compliance")
    _user(db_url, made.admin, "admin")
    _user(db_url, made.advisor1, "advisor", 1)
    _user(db_url, made.advisor2, "advisor", 2)
    return made


@pytest.fixture
def web(settings: Settings) -> Iterator[TestClient]:
    with TestClient(
        create_app(settings),
        base_url="https://testserver",
        raise_server_exceptions=False,
        follow_redirects=False,
    ) as client:
        yield client


def token_of(page: Response) -> str:
    found = TOKEN.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in(web: TestClient, email: str, password: str = PASSWORD) -> Response:
    web.cookies.clear()
    form = web.get("/console/sign-in")
    assert form.status_code == 200
    return web.post(
        "/console/sign-in", data={"email": email, "password": password, "csrf_token": token_of(form)}
    )


def signed_in(web: TestClient, email: str) -> None:
    answer = sign_in(web, email)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/queue"


def propose(web: TestClient, key: str, client_id: int = 1) -> int:
    body: dict[str, Any] = {
        "client_id": client_id,
        "trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}],
        "rationale": "Add a little fixed income.",
        "agent": {"name": "console-test-agent", "model": "test-model"},
    }
    headers = {**Keys.auth(key), "Idempotency-Key": str(uuid.uuid4())}
    answer = web.post("/recommendations", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] in ("proposed", "needs_review"), answer.json()
    return int(answer.json()["id"])


def client_of_advisor(db_url: str, advisor: int) -> int:
    return int(fetchval(db_url, "SELECT min(id) FROM clients WHERE firm_id = 1 AND advisor_id = $1", advisor))


# ---- sign-in ----


def test_sign_in_sets_a_strict_session_cookie_and_opens_the_queue(web: TestClient, people: People) -> None:
    form = web.get("/console/sign-in")
    assert 'for="email">Email</label>' in form.text
    assert 'for="password">Password</label>' in form.text
    assert ">Sign in</button>" in form.text
    answer = web.post(
        "/console/sign-in", data={"email": people.officer, "password": PASSWORD, "csrf_token": token_of(form)}
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("wg_session="))
    for flag in ("HttpOnly", "Path=/console", "SameSite=lax", "Secure"):
        assert flag.lower() in cookie.lower(), cookie
    queue = web.get("/console/queue")
    assert queue.status_code == 200
    assert '<a href="/console/queue" aria-current="page">Review queue</a>' in queue.text
    assert ">Sign out</button>" in queue.text


def test_a_failed_sign_in_says_so_and_is_audited(web: TestClient, people: People, db_url: str) -> None:
    answer = sign_in(web, people.officer, "not-the-password")
    assert answer.status_code == 401
    assert "The email or password is not right" in answer.text
    assert "wg_session" not in answer.headers.get("set-cookie", "")
    assert fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'user.sign_in_failed' AND details->>'email' = $1",
        people.officer,
    )
    assert web.get("/console/queue").status_code == 303


def test_the_sign_in_form_refuses_a_post_without_its_cookie(web: TestClient, people: People) -> None:
    form = web.get("/console/sign-in")
    token = token_of(form)
    web.cookies.clear()  # a cross-site form: the attacker's page cannot send the console's cookie
    answer = web.post(
        "/console/sign-in", data={"email": people.officer, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 403
    assert "This form has expired" in answer.text


def test_a_page_without_a_session_sends_to_sign_in_and_back(web: TestClient, people: People) -> None:
    answer = web.get("/console/clients/1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fclients%2F1"
    form = web.get(answer.headers["location"])
    back = web.post(
        "/console/sign-in",
        data={
            "email": people.officer,
            "password": PASSWORD,
            "csrf_token": token_of(form),
            "next": "/console/clients/1",
        },
    )
    assert back.headers["location"] == "/console/clients/1"
    assert web.get("/console/").headers["location"] == "/console/queue"


def test_sign_out_ends_the_session(web: TestClient, people: People, db_url: str) -> None:
    signed_in(web, people.officer)
    queue = web.get("/console/queue")
    answer = web.post("/console/sign-out", data={"csrf_token": token_of(queue)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?signed-out=true"
    assert "You are signed out." in web.get(answer.headers["location"]).text
    assert web.get("/console/queue").status_code == 303
    assert fetchval(db_url, "SELECT count(*) FROM audit_events WHERE action = 'user.signed_out'")


# ---- the queue and the review ----


def test_the_queue_lists_a_pending_recommendation_newest_first(
    web: TestClient, people: People, keys: Keys
) -> None:
    older, newer = propose(web, keys.agent), propose(web, keys.agent)
    signed_in(web, people.officer)
    page = web.get("/console/queue").text
    assert f'href="/console/recommendations/{newer}"' in page
    assert page.index(f"Recommendation {newer}<") < page.index(f"Recommendation {older}<")
    assert "console-test-agent" in page


def test_the_evidence_page_shows_what_a_reviewer_needs(web: TestClient, people: People, keys: Keys) -> None:
    rec = propose(web, keys.agent)
    signed_in(web, people.officer)
    page = web.get(f"/console/recommendations/{rec}")
    assert page.status_code == 200
    for part in (
        "Proposed trades",
        "WGAGG",
        "Suitability rules",
        "Computed value",
        "Threshold",
        "What the agent saw",
        "Holdings at the time",
        "Add a little fixed income.",
        "Version ",
        'for="comment">Comment</label>',
        ">Approve</button>",
        ">Reject</button>",
    ):
        assert part in page.text, part


def test_approve_with_a_comment_records_the_person(
    web: TestClient, people: People, keys: Keys, db_url: str
) -> None:
    rec = propose(web, keys.agent)
    signed_in(web, people.officer)
    evidence = web.get(f"/console/recommendations/{rec}")
    answer = web.post(
        f"/console/recommendations/{rec}/approve",
        data={"csrf_token": token_of(evidence), "comment": "Within policy; fine."},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/recommendations/{rec}"
    after = web.get(answer.headers["location"]).text
    assert people.officer in after
    assert "Within policy; fine." in after
    assert ">Approve</button>" not in after
    (row,) = fetch(
        db_url,
        "SELECT r.status, r.reviewer, u.email FROM recommendations r"
        " JOIN users u ON u.firm_id = r.firm_id AND u.id = r.reviewed_by_user_id WHERE r.id = $1",
        rec,
    )
    assert (row["status"], row["reviewer"], row["email"]) == ("approved", people.officer, people.officer)
    actor = fetchval(
        db_url,
        "SELECT actor FROM audit_events WHERE action = 'recommendation.approved' AND target_id = $1",
        str(rec),
    )
    assert actor["type"] == "user"
    assert actor["email"] == people.officer


def test_reject(web: TestClient, people: People, keys: Keys, db_url: str) -> None:
    rec = propose(web, keys.agent)
    signed_in(web, people.officer)
    evidence = web.get(f"/console/recommendations/{rec}")
    answer = web.post(
        f"/console/recommendations/{rec}/reject",
        data={"csrf_token": token_of(evidence), "comment": "Too risky."},
    )
    assert answer.status_code == 303
    assert fetchval(db_url, "SELECT status FROM recommendations WHERE id = $1", rec) == "rejected"
    assert "Rejected</span> by" in web.get(f"/console/recommendations/{rec}").text


def test_a_review_needs_a_comment(web: TestClient, people: People, keys: Keys, db_url: str) -> None:
    rec = propose(web, keys.agent)
    signed_in(web, people.officer)
    evidence = web.get(f"/console/recommendations/{rec}")
    answer = web.post(f"/console/recommendations/{rec}/approve", data={"csrf_token": token_of(evidence)})
    assert answer.status_code == 422
    assert "Write a comment" in answer.text
    assert fetchval(db_url, "SELECT status FROM recommendations WHERE id = $1", rec) != "approved"


def test_a_post_without_the_session_csrf_token_is_refused(
    web: TestClient, people: People, keys: Keys, db_url: str
) -> None:
    rec = propose(web, keys.agent)
    signed_in(web, people.officer)
    for data in ({"comment": "ok"}, {"comment": "ok", "csrf_token": "forged"}):
        answer = web.post(f"/console/recommendations/{rec}/approve", data=data)
        assert answer.status_code == 403
        assert "This form has expired" in answer.text
    assert fetchval(db_url, "SELECT reviewer FROM recommendations WHERE id = $1", rec) is None


def test_an_advisor_reads_but_does_not_review(web: TestClient, people: People, keys: Keys) -> None:
    rec = propose(web, keys.agent, client_of_advisor_1 := 1)
    signed_in(web, people.advisor1)
    page = web.get(f"/console/recommendations/{rec}")
    assert page.status_code == 200
    assert ">Approve</button>" not in page.text
    answer = web.post(
        f"/console/recommendations/{rec}/approve", data={"csrf_token": token_of(page), "comment": "mine"}
    )
    assert answer.status_code == 403
    assert client_of_advisor_1 == 1


def test_replay_says_identical(web: TestClient, people: People, keys: Keys) -> None:
    rec = propose(web, keys.agent)
    signed_in(web, people.officer)
    page = web.get(f"/console/recommendations/{rec}/replay")
    assert page.status_code == 200
    assert "Identical." in page.text


# ---- scope and roles ----


def test_an_advisor_cannot_open_another_advisors_client(web: TestClient, people: People, db_url: str) -> None:
    mine, theirs = client_of_advisor(db_url, 1), client_of_advisor(db_url, 2)
    signed_in(web, people.advisor1)
    assert web.get(f"/console/clients/{mine}").status_code == 200
    other = web.get(f"/console/clients/{theirs}")
    missing = web.get("/console/clients/999999")
    assert other.status_code == missing.status_code == 404
    assert other.text.replace(str(theirs), "") == missing.text.replace("999999", "")
    listing = web.get("/console/clients").text
    assert f'href="/console/clients/{mine}"' in listing
    assert f'href="/console/clients/{theirs}"' not in listing


def test_roles_open_only_their_pages(web: TestClient, people: People) -> None:
    signed_in(web, people.advisor1)
    assert web.get("/console/audit").status_code == 403
    assert web.get("/console/admin/users").status_code == 403
    signed_in(web, people.officer)
    assert web.get("/console/audit").status_code == 200
    for page in ("/console/admin/users", "/console/admin/keys", "/console/admin/policy"):
        refused = web.get(page)
        assert refused.status_code == 403, page
        assert "for administrators" in refused.text
    queue = web.get("/console/queue")
    forged = web.post("/console/admin/users", data={"csrf_token": token_of(queue), "email": "x@y.z"})
    assert forged.status_code == 403
    signed_in(web, people.admin)
    for page in ("/console/admin/users", "/console/admin/keys", "/console/admin/policy", "/console/audit"):
        assert web.get(page).status_code == 200, page


# ---- pages ----


def test_the_client_page_has_charts_and_is_an_audited_read(
    web: TestClient, people: People, keys: Keys, db_url: str
) -> None:
    rec = propose(web, keys.agent)
    signed_in(web, people.officer)
    page = web.get("/console/clients/1")
    assert page.status_code == 200
    for part in (
        "Allocation against the model",
        '<svg role="img"',
        "Drift by asset class",
        "Performance",
        "Recent transactions",
        f"Recommendation {rec}",
        "Notes",
    ):
        assert part in page.text, part
    assert page.text.count("<svg") == 2


def test_the_audit_explorer_filters_and_shows_an_event(
    web: TestClient, people: People, keys: Keys, db_url: str
) -> None:
    rec = propose(web, keys.agent)
    signed_in(web, people.officer)
    evidence = web.get(f"/console/recommendations/{rec}")
    web.post(
        f"/console/recommendations/{rec}/approve", data={"csrf_token": token_of(evidence), "comment": "Fine."}
    )
    page = web.get("/console/audit", params={"actor": people.officer, "action": "recommendation"})
    assert page.status_code == 200
    assert "Chains intact" in page.text
    assert "Newest signed checkpoint" in page.text
    event_id = fetchval(
        db_url,
        "SELECT id FROM audit_events WHERE action = 'recommendation.approved' AND target_id = $1",
        str(rec),
    )
    assert f'href="/console/audit/events/{event_id}"' in page.text
    assert "recommendation.proposed" not in page.text  # the agent proposed it, not this person
    detail = web.get(f"/console/audit/events/{event_id}")
    assert detail.status_code == 200
    assert "Fine." in detail.text
    bad = web.get("/console/audit", params={"from": "yesterday"})
    assert bad.status_code == 422
    assert "not a date and time" in bad.text
    export = web.get("/console/audit/export", params={"format": "jsonl"})
    assert export.status_code == 200
    assert "recommendation.approved" in export.text


def test_admin_creates_a_user_and_a_key_shown_once(web: TestClient, people: People, db_url: str) -> None:
    signed_in(web, people.admin)
    page = web.get("/console/admin/users")
    created = web.post(
        "/console/admin/users",
        data={
            "csrf_token": token_of(page),
            "email": "new-officer@console.test",
            "name": "New Officer",
            "role": "compliance",
            "advisor": "",
        },
    )
    assert created.status_code == 201
    password = re.search(r'<p class="secret">([^<]+)</p>', created.text)
    assert password
    assert sign_in(web, "new-officer@console.test", password.group(1)).status_code == 303
    signed_in(web, people.admin)
    page = web.get("/console/admin/keys")
    key = web.post(
        "/console/admin/keys",
        data={
            "csrf_token": token_of(page),
            "name": "console key",
            "owner": "ops",
            "scopes": ["clients:read"],
        },
    )
    assert key.status_code == 201
    secret = re.search(r'<p class="secret">(wg_[^<]+)</p>', key.text)
    assert secret
    assert web.get("/clients", headers=Keys.auth(secret.group(1))).status_code == 200
    key_id = fetchval(db_url, "SELECT id FROM api_keys WHERE name = 'console key'")
    revoked = web.post(f"/console/admin/keys/{key_id}/revoke", data={"csrf_token": token_of(page)})
    assert revoked.status_code == 303
    assert fetchval(db_url, "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = $1", key_id)
    user_id = fetchval(db_url, "SELECT id FROM users WHERE email = 'new-officer@console.test'")
    disabled = web.post(f"/console/admin/users/{user_id}/disable", data={"csrf_token": token_of(page)})
    assert disabled.status_code == 303
    assert fetchval(db_url, "SELECT count(*) FROM audit_events WHERE action = 'user.disabled'")


def test_admin_publishes_the_policy(web: TestClient, people: People, db_url: str) -> None:
    signed_in(web, people.admin)
    page = web.get("/console/admin/policy")
    document = re.search(r'name="document"[^>]*>([^<]*)</textarea>', page.text)
    assert document
    same = web.post(
        "/console/admin/policy",
        data={"csrf_token": token_of(page), "document": html.unescape(document.group(1))},
    )
    assert same.status_code == 200
    assert "Nothing changed" in same.text
    broken = web.post("/console/admin/policy", data={"csrf_token": token_of(page), "document": "[1, 2"})
    assert broken.status_code == 422
    assert "not valid YAML or JSON" in broken.text


def test_no_page_loads_anything_from_another_origin(web: TestClient, people: People, keys: Keys) -> None:
    rec = propose(web, keys.agent)
    pages = ["/console/sign-in"]
    signed_in(web, people.admin)
    pages += [
        "/console/queue",
        f"/console/recommendations/{rec}",
        f"/console/recommendations/{rec}/replay",
        "/console/clients",
        "/console/clients/1",
        "/console/audit",
        "/console/admin/users",
        "/console/admin/keys",
        "/console/admin/policy",
    ]
    outside = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
    for path in pages:
        answer = web.get(path)
        assert answer.status_code == 200, path
        assert not outside.search(answer.text), path
        assert "<script" not in answer.text, path
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert '<a class="skip" href="#main">' in answer.text
        assert 'id="main"' in answer.text
    assert web.get("/console/static/console.css").status_code == 200


def test_single_sign_on_is_offered_only_when_configured(web: TestClient, settings: Settings) -> None:
    assert "single sign-on" not in web.get("/console/sign-in").text
    assert web.get("/console/sso/start").status_code == 404
    configured = settings.model_copy(update={"oidc_issuer": "https://issuer.invalid", "oidc_client_id": "wg"})
    with TestClient(create_app(configured), base_url="https://testserver", follow_redirects=False) as other:
        page = other.get("/console/sign-in").text
        assert '<a href="/console/sso/start">Sign in with single sign-on</a>' in page
        refused = other.get("/console/sso/callback", params={"code": "x", "state": "y"})
        assert refused.status_code == 401
        assert "Single sign-on did not complete" in refused.text
