"""The audit routes obey the advisor binding like every other route: a key bound to an advisor reads,
exports and verifies only its clients' chains, never firm-level events; and it may not change firm policy."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.integration.test_audit_trail import write_notes
from tests.support import fetch, fetchval, make_key
from wealthgate.audit.offline import verify_export

ADVISOR1_CLIENT = 1  # Alice Chen, firm 1, advisor 1
ADVISOR2_CLIENT = 21  # firm 1, advisor 2


def advisor_clients(db_url: str, advisor: int) -> set[int]:
    return {
        r["id"]
        for r in fetch(db_url, "SELECT id FROM clients WHERE firm_id = 1 AND advisor_id = $1", advisor)
    }


def every_event(api: TestClient, key: str, **params: object) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        query = {"limit": 500, **params, **({"cursor": cursor} if cursor else {})}
        page = api.get("/audit/events", params=query, headers=Keys.auth(key))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def test_an_advisor_bound_reviewer_reads_only_its_clients_events(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    write_notes(db_url, ADVISOR2_CLIENT, 2)  # advisor 2's client: agent note text the reviewer must not see
    write_notes(db_url, ADVISOR1_CLIENT, 2)
    bound = make_key(db_url, 1, ["compliance:review"], advisor=1, name="bound-reviewer")
    seen = every_event(api, bound)
    mine = advisor_clients(db_url, 1)
    assert seen
    assert {e["client_id"] for e in seen} <= mine  # no other advisor's client, no firm-level (None) event
    assert {e["chain_key"] for e in seen} <= mine
    assert every_event(api, bound, client_id=ADVISOR2_CLIENT) == []
    assert every_event(api, bound, action="api_key") == []  # firm-level events
    unbound = every_event(api, keys.compliance)
    assert any(e["client_id"] == ADVISOR2_CLIENT for e in unbound)
    assert any(e["client_id"] is None for e in unbound)
    assert len(seen) == fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE firm_id = 1 AND client_id = ANY($1::bigint[])",
        list(mine),
    )


def test_an_advisor_bound_export_holds_only_its_clients_and_verifies_offline(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    write_notes(db_url, ADVISOR2_CLIENT, 2)
    write_notes(db_url, ADVISOR1_CLIENT, 2)
    bound = make_key(db_url, 1, ["compliance:review"], advisor=1, name="bound-reviewer")
    mine = advisor_clients(db_url, 1)
    for fmt in ("jsonl", "csv"):
        r = api.get("/audit/export", params={"format": fmt}, headers=Keys.auth(bound))
        assert r.status_code == 200
        report = verify_export(r.text.splitlines(keepends=True))
        assert report["ok"], report
        assert report["checkpoints"] == 0
        if fmt == "jsonl":
            records = [json.loads(line) for line in r.text.splitlines()]
            assert records[0]["scope"] == "advisor:1"
            events = [x for x in records if x["kind"] == "event"]
            assert events
            assert {e["client_id"] for e in events} <= mine
    full = api.get("/audit/export", headers=Keys.auth(keys.compliance)).text
    assert f'"client_id":{ADVISOR2_CLIENT},' in full


def test_an_advisor_bound_verify_covers_only_its_clients_chains(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    bound = make_key(db_url, 1, ["compliance:review"], advisor=1, name="bound-reviewer")
    body = api.get("/audit/verify", headers=Keys.auth(bound)).json()
    assert body["ok"] is True
    mine = advisor_clients(db_url, 1)
    assert body["chains"] == fetchval(
        db_url,
        "SELECT count(*) FROM audit_chain_heads WHERE firm_id = 1 AND chain_key = ANY($1::bigint[])",
        list(mine),
    )
    firm = api.get("/audit/verify", headers=Keys.auth(keys.compliance)).json()
    assert firm["chains"] > body["chains"]


def test_an_advisor_bound_admin_may_not_change_firm_policy(api: TestClient, keys: Keys, db_url: str) -> None:
    current = api.get("/policy", headers=Keys.auth(keys.admin)).json()
    bound_admin = make_key(db_url, 1, ["admin"], advisor=1, name="bound-admin")
    body = {"content": current["content"], "note": "tighten"}
    refused = api.put("/policy", json=body, headers=Keys.auth(bound_admin))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert api.get("/policy", headers=Keys.auth(keys.admin)).json()["version"] == current["version"]
    assert api.put("/policy", json=body, headers=Keys.auth(keys.admin)).status_code == 200
