"""Suitability checks, the recommendation lifecycle, replay and idempotency through the API (demo book)."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient

from tests.conftest import AGENT, COMPLIANCE_USER, Keys
from tests.factories import Factory
from tests.support import execute, fetch, fetchval, make_key, make_reviewer, with_conn
from wealthgate.auth.principal import Principal
from wealthgate.errors import Conflict
from wealthgate.idempotency import store
from wealthgate.recommendations.service import expire_due
from wealthgate.suitability.engine import RULES

SMALL_BUY = {"trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}]}


def auth(key: str, idem: str | None = None) -> dict[str, str]:
    headers = Keys.auth(key)
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return headers


def propose(api: TestClient, key: str, body: dict[str, Any] | None = None, idem: str | None = None) -> Any:
    body = body or {
        "client_id": 1,
        **SMALL_BUY,
        "rationale": "Add a little fixed income.",
        "agent": {"name": "test-agent", "model": None},
    }
    return api.post("/recommendations", json=body, headers=auth(key, idem or str(uuid.uuid4())))


def count(db_url: str, table: str) -> int:
    return int(fetchval(db_url, f"SELECT count(*) FROM {table}"))  # noqa: S608  (table: a constant name here)


def test_a_check_lists_every_rule_with_the_policy_hash_and_is_recorded(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    r = api.post("/clients/1/suitability-check", json=SMALL_BUY, headers=auth(keys.agent))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] in ("pass", "needs_review", "fail")
    assert [r["rule"] for r in body["rules"]] == [name for name, _since, _rule in RULES]
    assert all(
        {"rule", "outcome", "threshold", "value", "explanation"} <= set(rule) for rule in body["rules"]
    )
    assert body["policy_version"] == api.get("/policy", headers=auth(keys.agent)).json()["content_hash"]
    assert body["as_of"] == "2018-04-11"
    assert body["engine_version"] == "2026-12-02.1"  # the rule set that judged, as replay will run it
    assert (
        fetchval(db_url, "SELECT verdict FROM suitability_checks WHERE id = $1", body["check_id"])
        == (body["verdict"])
    )
    assert fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'suitability.checked' AND target_id = $1",
        str(body["check_id"]),
    )


def test_checks_are_scoped_and_bad_input_stores_nothing(api: TestClient, keys: Keys, db_url: str) -> None:
    before = count(db_url, "suitability_checks")
    other = api.post("/clients/40/suitability-check", json=SMALL_BUY, headers=auth(keys.agent))
    missing = api.post("/clients/999999/suitability-check", json=SMALL_BUY, headers=auth(keys.agent))
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"] == missing.json()["detail"]
    assert (
        api.post("/clients/1/suitability-check", json=SMALL_BUY, headers=auth(keys.advisor2)).status_code
        == 404
    )
    bad = {
        "trades[0].symbol": {"trades": [{"side": "buy", "symbol": "NOPE", "quantity": "1"}]},
        "both": {"trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1", "amount": "5"}]},
        "float": {"trades": [{"side": "buy", "symbol": "WGAGG", "quantity": 1.5}]},
        "side": {"trades": [{"side": "short", "symbol": "WGAGG", "quantity": "1"}]},
        "empty": {"trades": []},
        "negative": {"trades": [{"side": "sell", "symbol": "WGAGG", "quantity": "-1"}]},
    }
    for name, body in bad.items():
        r = api.post("/clients/1/suitability-check", json=body, headers=auth(keys.agent))
        assert r.status_code == 422, (name, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    unknown = api.post("/clients/1/suitability-check", json=bad["trades[0].symbol"], headers=auth(keys.agent))
    assert "trades[0].symbol" in unknown.text
    assert count(db_url, "suitability_checks") == before


def test_a_conservative_client_buying_a_risk_5_product_is_blocked(
    api: TestClient, factory: Factory, db_url: str
) -> None:
    built = factory.client(risk_tolerance="conservative", investment_objective="capital_preservation")
    factory.account(built, cash="10000")
    agent = factory.key(built.firm_id)
    compliance = make_reviewer(db_url, built.firm_id, "officer@levx.test")
    client = built.id
    factory.security(
        "LEVX",
        name="Leveraged 3x Tech",
        sector="Technology",
        risk_rating=5,
        is_complex=True,
        prices={"2018-04-11": "10"},
    )
    body = {
        "client_id": client,
        "trades": [{"side": "buy", "symbol": "LEVX", "quantity": "1"}],
        "rationale": "Speculate.",
        "agent": {"name": "test-agent"},
    }
    r = propose(api, agent.secret, body)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["status"] == "blocked"
    rules = {x["rule"]: x for x in rec["verdict"]["rules"]}
    assert (rules["product_risk"]["outcome"], rules["product_risk"]["value"]) == ("fail", 5)
    approve = api.post(
        f"/recommendations/{rec['id']}/approve", json={"comment": "no"}, headers=auth(compliance)
    )
    assert approve.status_code == 409


def test_lifecycle_propose_approve_execute(api: TestClient, keys: Keys, db_url: str) -> None:
    r = propose(api, keys.agent)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["status"] in ("proposed", "needs_review")
    assert fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'recommendation.proposed' AND target_id = $1",
        str(rec["id"]),
    )
    rid = rec["id"]
    queue = api.get("/review-queue", headers=auth(keys.compliance)).json()["items"]
    assert rid in [q["id"] for q in queue]
    assert api.get("/review-queue", headers=auth(keys.agent)).status_code == 403

    def review(key: str, verb: str = "approve") -> Any:
        return api.post(f"/recommendations/{rid}/{verb}", json={"comment": "ok"}, headers=auth(key))

    assert review(keys.agent).status_code == 403  # agent scopes: no compliance:review
    both = make_key(db_url, 1, [*AGENT, "compliance:review"], name="hybrid", user=COMPLIANCE_USER)
    hybrid = review(both)  # agent scopes never approve, even with the review scope and a person behind
    assert (hybrid.status_code, "agent scopes" in hybrid.json()["detail"]) == (403, True)
    unnamed = make_key(db_url, 1, ["compliance:review"], name="shared review key")  # acts for nobody
    refused = review(unnamed)
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "a review is made by a named person: use a key bound to a user (keys create --user) or the console"
    )
    same_person = make_key(db_url, 1, ["compliance:review"], name="agent", user=COMPLIANCE_USER)
    assert "proposed" in review(same_person).json()["detail"]  # the proposer's identity (key owner)
    other_firm_reviewer = make_key(
        db_url, 2, ["compliance:review"], name="other-reviewer", user="compliance@firm2.wealthgate.test"
    )
    assert review(other_firm_reviewer).status_code == 404
    ok = review(keys.compliance)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved"
    assert ok.json()["review"]["reviewer"] == COMPLIANCE_USER  # the person, not a key's label
    (row,) = fetch(
        db_url,
        "SELECT r.reviewer, r.reviewed_by_user_id, u.email, e.actor FROM recommendations r"
        " JOIN users u ON u.firm_id = r.firm_id AND u.id = r.reviewed_by_user_id"
        " JOIN audit_events e ON e.firm_id = r.firm_id AND e.id = $2"
        " WHERE r.id = $1",
        rid,
        ok.json()["audit_event_id"],
    )
    assert (row["reviewer"], row["email"]) == (COMPLIANCE_USER, COMPLIANCE_USER)
    actor = json.loads(row["actor"]) if isinstance(row["actor"], str) else row["actor"]
    assert (actor["type"], actor["user_id"], actor["email"]) == (
        "api_key",
        row["reviewed_by_user_id"],
        COMPLIANCE_USER,
    )
    assert review(keys.compliance).status_code == 409  # approved twice
    assert review(keys.compliance, "reject").status_code == 409

    account = fetchval(db_url, "SELECT min(id) FROM accounts WHERE firm_id = 1 AND client_id = 1")
    posted = api.post(
        f"/accounts/{account}/transactions",
        json={"trade_date": "2018-04-12", "type": "buy", "symbol": "WGAGG", "quantity": "1", "price": "80"},
        headers=auth(keys.admin),
    )
    assert posted.status_code == 201, posted.text
    tid = posted.json()["transaction"]["id"]
    done = api.post(
        f"/recommendations/{rid}/execute", json={"transaction_ids": [tid]}, headers=auth(keys.admin)
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["transaction_ids"]) == ("executed", [tid])
    again = api.post(
        f"/recommendations/{rid}/execute", json={"transaction_ids": [tid]}, headers=auth(keys.admin)
    )
    assert again.status_code == 409
    actions = [
        r["action"]
        for r in with_conn(
            db_url,
            lambda c: c.fetch(
                "SELECT action FROM audit_events WHERE target_type = 'recommendation' AND target_id = $1"
                " ORDER BY id",
                str(rid),
            ),
        )
    ]
    assert actions == ["recommendation.proposed", "recommendation.approved", "recommendation.executed"]


def test_a_person_never_reviews_what_a_key_acting_for_them_proposed(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    """Four eyes by person: an agent key acting for the compliance officer proposes; the officer's own review
    key (another key, another owner label) is refused, and another person's is not."""
    theirs = make_key(db_url, 1, AGENT, name="officer's agent", user=COMPLIANCE_USER)
    rid = propose(api, theirs).json()["id"]
    own = api.post(f"/recommendations/{rid}/approve", json={"comment": "ok"}, headers=auth(keys.compliance))
    assert own.status_code == 403
    assert "proposed" in own.json()["detail"]
    other = make_reviewer(db_url, 1, "second.officer@demo.wealthgate.test")
    ok = api.post(f"/recommendations/{rid}/reject", json={"comment": "no"}, headers=auth(other))
    assert ok.status_code == 200, ok.text
    assert ok.json()["review"]["reviewer"] == "second.officer@demo.wealthgate.test"


def test_a_console_user_reviews_through_the_same_use_case(api: TestClient, keys: Keys, db_url: str) -> None:
    """The console calls `service.review` with `user.principal()`: no key; the actor is the user."""
    from wealthgate.people.users import by_email
    from wealthgate.recommendations import service
    from wealthgate.recommendations import visibility as recommendations

    rid = propose(api, keys.agent).json()["id"]

    async def work(conn: asyncpg.Connection) -> Any:
        found = await by_email(conn, COMPLIANCE_USER)
        assert found is not None
        principal = found[0].principal()
        async with conn.transaction():
            rec = await recommendations.lock(conn, principal, rid)
            return await service.review(conn, principal, rec, approve=True, comment="fine", request_id=None)

    moved = with_conn(db_url, work, as_owner=False)
    assert (moved.status, moved.review.reviewer) == ("approved", COMPLIANCE_USER)
    actor = fetchval(
        db_url, "SELECT actor FROM audit_events WHERE firm_id = 1 AND id = $1", moved.audit_event_id
    )
    actor = json.loads(actor) if isinstance(actor, str) else actor
    assert (actor["type"], actor["email"]) == ("user", COMPLIANCE_USER)
    assert fetchval(db_url, "SELECT reviewed_by_key_id FROM recommendations WHERE id = $1", rid) is None


def test_a_rejected_or_expired_recommendation_cannot_move(api: TestClient, keys: Keys, db_url: str) -> None:
    rid = propose(api, keys.agent).json()["id"]
    assert api.post(
        f"/recommendations/{rid}/reject", json={"comment": "no"}, headers=auth(keys.compliance)
    ).json()["status"] == ("rejected")
    assert (
        api.post(
            f"/recommendations/{rid}/approve", json={"comment": "x"}, headers=auth(keys.compliance)
        ).status_code
        == 409
    )
    late = propose(api, keys.agent).json()["id"]
    execute(db_url, "UPDATE recommendations SET expires_at = now() - interval '1 second' WHERE id = $1", late)
    assert api.get(f"/recommendations/{late}", headers=auth(keys.agent)).json()["status"] == "expired"
    assert late not in [
        q["id"] for q in api.get("/review-queue", headers=auth(keys.compliance)).json()["items"]
    ]
    r = api.post(f"/recommendations/{late}/approve", json={"comment": "x"}, headers=auth(keys.compliance))
    assert r.status_code == 409


def test_replay_equals_the_original_after_prices_and_policy_change(
    api: TestClient, keys: Keys, factory: Factory
) -> None:
    # buy enough of a single stock to make the cap rule bite: its value is the figure that must not move
    body = {
        "client_id": 1,
        "trades": [{"side": "buy", "symbol": "WMT", "quantity": "10"}],
        "rationale": "Diversify away from AAPL.",
        "agent": {"name": "test-agent", "model": "none"},
    }
    original = propose(api, keys.agent, body).json()
    before = api.get(f"/recommendations/{original['id']}/replay", headers=auth(keys.compliance)).json()
    assert before["matches"] is True
    # prices move and the firm tightens its policy
    policy = api.get("/policy", headers=auth(keys.admin)).json()
    changed = {**policy["content"], "single_position_cap": "0.01", "restricted_symbols": ["WMT"]}
    put = api.put("/policy", json={"content": changed}, headers=auth(keys.admin))
    assert put.status_code == 200, put.text
    assert put.json()["created"] is True
    assert put.json()["version"] == policy["version"] + 1
    for symbol in ("WMT", "AAPL"):
        factory.prices(symbol, {"2018-04-12": "1"})
    after = api.get(f"/recommendations/{original['id']}/replay", headers=auth(keys.compliance)).json()
    assert after["matches"] is True
    assert after["recomputed"] == after["stored"]
    assert after["stored"]["verdict"] == original["verdict"]["verdict"]
    assert after["policy_version"] == original["verdict"]["policy_version"] != put.json()["content_hash"]
    assert after["context"] == before["context"]
    assert after["policy_hash_matches"]
    assert after["context_digest_matches"]
    # while a new check sees the new prices and policy
    now = api.post(
        "/clients/1/suitability-check", json={"trades": body["trades"]}, headers=auth(keys.agent)
    ).json()
    assert now["policy_version"] == put.json()["content_hash"]
    assert now["verdict"] == "fail"


def test_recommendations_need_an_idempotency_key_and_replay_it(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    body = {"client_id": 1, **SMALL_BUY, "rationale": "r", "agent": {"name": "a"}}
    missing = api.post("/recommendations", json=body, headers=Keys.auth(keys.agent))
    assert missing.status_code == 400
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in missing.text
    before = count(db_url, "recommendations")
    first = propose(api, keys.agent, body, idem="k-1")
    second = propose(api, keys.agent, body, idem="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert count(db_url, "recommendations") == before + 1
    changed = propose(api, keys.agent, {**body, "rationale": "other"}, idem="k-1")
    assert changed.status_code == 422
    assert count(db_url, "recommendations") == before + 1
    # the key belongs to the calling API key: another key may use the same string
    other = make_key(db_url, 1, AGENT, name="other-agent")
    assert propose(api, other, body, idem="k-1").json()["id"] != first.json()["id"]
    # a failed request releases its key, so a corrected retry may use it
    assert propose(api, keys.agent, {**body, "client_id": 40}, idem="k-2").status_code == 404
    assert propose(api, keys.agent, body, idem="k-2").status_code == 201


def test_concurrent_duplicates_make_one_recommendation_and_one_audit_entry(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    body = {"client_id": 2, **SMALL_BUY, "rationale": "same", "agent": {"name": "racer"}}
    statuses: list[int] = []
    ids: set[int] = set()
    lock = threading.Lock()

    def fire() -> None:
        r = propose(api, keys.agent, body, idem="race-1")
        with lock:
            statuses.append(r.status_code)
            if r.status_code == 201:
                ids.add(r.json()["id"])

    threads = [threading.Thread(target=fire) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    assert len(ids) == 1
    assert (
        fetchval(db_url, "SELECT count(*) FROM recommendations WHERE client_id = 2 AND rationale = 'same'")
        == 1
    )
    assert (
        fetchval(
            db_url,
            "SELECT count(*) FROM audit_events WHERE action = 'recommendation.proposed' AND target_id = $1",
            str(ids.pop()),
        )
        == 1
    )


def test_a_key_in_use_is_409_and_a_stale_claim_is_taken_over(db_url: str, keys: Keys) -> None:
    key_id = fetchval(db_url, "SELECT min(id) FROM api_keys WHERE firm_id = 1")
    principal = Principal(key_id=key_id, firm_id=1, advisor_id=None, scopes=frozenset(), name="t", owner="t")
    digest = store.fingerprint("POST", "/x", b"{}")

    async def work() -> None:
        pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
        try:
            assert await store.claim(pool, principal, "k", "POST", "/x", digest) is None
            with pytest.raises(Conflict):  # the first request is still running
                await store.claim(pool, principal, "k", "POST", "/x", digest)
            await pool.execute("UPDATE idempotency_keys SET created_at = now() - interval '5 minutes'")
            assert await store.claim(pool, principal, "k", "POST", "/x", digest) is None  # its process died
        finally:
            await pool.close()

    asyncio.run(work())


def test_every_creating_post_honours_an_idempotency_key(api: TestClient, keys: Keys, db_url: str) -> None:
    note = {"client_id": 1, "event_type": "note", "payload": "checked in"}
    first = api.post("/audit/recommendation", json=note, headers=auth(keys.agent, "note-1"))
    again = api.post("/audit/recommendation", json=note, headers=auth(keys.agent, "note-1"))
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert fetchval(db_url, "SELECT count(*) FROM audit_events WHERE details->>'payload' = 'checked in'") == 1
    account = fetchval(db_url, "SELECT min(id) FROM accounts WHERE firm_id = 1 AND client_id = 1")
    deposit = {"trade_date": "2018-04-12", "type": "deposit", "amount": "10"}
    posts = [
        api.post(f"/accounts/{account}/transactions", json=deposit, headers=auth(keys.admin, "dep-1"))
        for _ in range(2)
    ]
    assert posts[0].status_code == posts[1].status_code == 201
    assert posts[0].json() == posts[1].json()
    assert (
        fetchval(db_url, "SELECT count(*) FROM transactions WHERE account_id = $1 AND amount = 10", account)
        == 1
    )


def test_recommendations_are_scoped_to_the_firm_and_the_advisor(api: TestClient, keys: Keys) -> None:
    rid = propose(api, keys.agent).json()["id"]
    assert api.get(f"/recommendations/{rid}", headers=auth(keys.agent)).status_code == 200
    for key in (keys.advisor2, keys.other_firm):  # advisor 2's book and firm 2 do not hold client 1
        r = api.get(f"/recommendations/{rid}", headers=auth(key))
        assert r.status_code == 404
        assert r.json()["detail"] == api.get("/recommendations/999999", headers=auth(key)).json()["detail"]
        assert api.get(f"/recommendations/{rid}/replay", headers=auth(key)).status_code == 404
    other_firm_client = {"client_id": 40, **SMALL_BUY, "rationale": "r", "agent": {"name": "a"}}
    assert propose(api, keys.agent, other_firm_client).status_code == 404


def test_expiry_is_stored_and_audited_once(api: TestClient, keys: Keys, db_url: str) -> None:
    due = propose(api, keys.agent).json()["id"]
    fresh = propose(api, keys.agent).json()["id"]
    execute(db_url, "UPDATE recommendations SET expires_at = now() - interval '1 minute' WHERE id = $1", due)

    async def sweep(conn: Any) -> int:
        async with conn.transaction():
            return int(await expire_due(conn))

    assert with_conn(db_url, sweep) == 1
    assert with_conn(db_url, sweep) == 0  # nothing is expired twice
    assert fetchval(db_url, "SELECT status FROM recommendations WHERE id = $1", due) == "expired"
    assert fetchval(db_url, "SELECT status FROM recommendations WHERE id = $1", fresh) != "expired"
    events = fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'recommendation.expired' AND target_id = $1",
        str(due),
    )
    assert events == 1
    r = api.post(f"/recommendations/{due}/approve", json={"comment": "late"}, headers=auth(keys.compliance))
    assert r.status_code == 409


def test_an_advisor_user_cannot_review_even_through_the_use_case(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    """The console's path (a user's principal, no route dependency): an advisor's role has no review."""
    from wealthgate.errors import Forbidden
    from wealthgate.people.users import by_email
    from wealthgate.recommendations import service

    propose(api, keys.agent)

    async def work(conn: asyncpg.Connection) -> None:
        found = await by_email(conn, "advisor1@demo.wealthgate.test")
        assert found is not None
        service.check_reviewer(found[0].principal())

    with pytest.raises(Forbidden, match="compliance role"):
        with_conn(db_url, work, as_owner=False)
