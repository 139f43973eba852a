"""Agents' reads of client data land in the audit trail, chained (batched: written by the flusher within a
tick, or at once by an explicit flush), and nothing is lost on a clean shutdown."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.support import fetch, fetchval, with_conn
from wealthgate.api.app import create_app
from wealthgate.audit.verify import verify
from wealthgate.auth.principal import Principal
from wealthgate.settings import Settings


def reads(db_url: str) -> list[dict[str, object]]:
    return [
        dict(r)
        for r in fetch(
            db_url, "SELECT * FROM audit_events WHERE action IN ('client.read', 'clients.read') ORDER BY id"
        )
    ]


def test_a_context_read_is_recorded(api: TestClient, keys: Keys, db_url: str) -> None:
    r = api.get("/clients/1/context", headers={**Keys.auth(keys.reader), "X-Request-ID": "read-1"})
    assert r.status_code == 200
    recorder = api.app.state.reads  # type: ignore[attr-defined]
    api.portal.call(recorder.flush)  # type: ignore[union-attr]
    assert recorder.depth == 0
    assert recorder.flush_lag_seconds == 0
    found = reads(db_url)
    assert len(found) == 1
    event = found[0]
    # the server's own request id, with the caller's beside it
    assert (event["client_id"], event["request_id"]) == (1, r.headers["x-request-id"])
    assert event["client_request_id"] == "read-1"
    assert event["actor"]["key_name"] == "reader"  # type: ignore[index]
    assert event["details"] == {"read": "GET /clients/{id}/context"}


def test_reads_are_flushed_on_shutdown_and_chained(settings: Settings, keys: Keys, db_url: str) -> None:
    with TestClient(create_app(settings)) as client:
        for client_id in (1, 2, 3, 1, 1):
            assert (
                client.get(f"/clients/{client_id}/context", headers=Keys.auth(keys.agent)).status_code == 200
            )
        assert client.get("/clients", headers=Keys.auth(keys.agent)).status_code == 200
        assert client.get("/clients/40/context", headers=Keys.auth(keys.agent)).status_code == 404
    found = reads(db_url)
    assert [e["client_id"] for e in found if e["action"] == "client.read"] == [1, 2, 3, 1, 1]
    assert [e["target_type"] for e in found if e["action"] == "clients.read"] == ["firm"]
    assert with_conn(db_url, verify).ok


def test_a_refused_read_is_not_recorded_as_a_read(api: TestClient, keys: Keys, db_url: str) -> None:
    assert api.get("/clients/40/context", headers=Keys.auth(keys.agent)).status_code == 404
    assert api.get("/clients/1/context").status_code == 401
    api.portal.call(api.app.state.reads.flush)  # type: ignore[attr-defined]
    assert reads(db_url) == []


def test_an_event_the_database_refuses_does_not_hold_back_the_others(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    """A pending event naming a client that does not exist (foreign key) is logged and left out; the rest of
    its batch is stored."""
    recorder = api.app.state.reads  # type: ignore[attr-defined]
    ghost = Principal(key_id=1, firm_id=1, advisor_id=None, scopes=frozenset(), name="g", owner="g")
    before = fetchval(db_url, "SELECT count(*) FROM audit_events WHERE action = 'client.read'")
    recorder.note(ghost, 999_999, "GET /ghost", None)  # no such client: the foreign key refuses it
    recorder.note(ghost, 1, "GET /real", None)
    api.portal.call(recorder.flush)  # type: ignore[union-attr]
    after = fetchval(db_url, "SELECT count(*) FROM audit_events WHERE action = 'client.read'")
    assert after == before + 1
    assert fetchval(db_url, "SELECT count(*) FROM audit_events WHERE details->>'read' = 'GET /real'") == 1
