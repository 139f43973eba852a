"""The daily quota of free text per key (docs/limits.md): notes and recommendations' rationales count their
UTF-8 bytes in PostgreSQL, in the write's own transaction; a write over the quota is 429 problem+json naming
the quota and when it resets (the next UTC midnight), and stores nothing; each key has its own; a new UTC day
starts from nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from tests.conftest import AGENT, Keys
from tests.support import execute, fetch, fetchval, make_key
from wealthgate.api.app import create_app
from wealthgate.settings import Settings

QUOTA = 1000
auth = Keys.auth


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(
        create_app(settings.model_copy(update={"note_bytes_per_day": QUOTA})), raise_server_exceptions=False
    ) as client:
        yield client


def note(api: TestClient, key: str, payload: str, event_type: str = "note") -> Any:
    body = {"client_id": 1, "event_type": event_type, "payload": payload}
    return api.post("/audit/recommendation", json=body, headers=auth(key))


def propose(api: TestClient, key: str, rationale: str) -> Any:
    body = {
        "client_id": 1,
        "trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}],
        "rationale": rationale,
        "agent": {"name": "quota-agent", "model": None},
    }
    return api.post(
        "/recommendations", json=body, headers={**auth(key), "Idempotency-Key": str(uuid.uuid4())}
    )


def notes_stored(db_url: str) -> int:
    return int(fetchval(db_url, "SELECT count(*) FROM audit_events WHERE action = 'agent.note'"))


def quota_refusals() -> float:
    return REGISTRY.get_sample_value("wealthgate_rate_limit_refusals_total", {"kind": "quota"}) or 0.0


def test_notes_over_the_daily_quota_are_refused_and_not_stored(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    before = quota_refusals()
    assert note(api, keys.agent, "a" * 396).status_code == 200  # 396 + len("note") = 400 bytes
    assert note(api, keys.agent, "é" * 198).status_code == 200  # 396 bytes of UTF-8, not 198 characters
    refused = note(api, keys.agent, "b" * 200)  # 800 used + 204 > 1000
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["type"] == "urn:wealthgate:problem:quota-exceeded"
    assert body["quota"]["name"] == "note_bytes_per_day"
    assert (body["quota"]["bytes_per_day"], body["quota"]["used_today"], body["quota"]["requested"]) == (
        QUOTA,
        800,
        204,
    )
    today = fetchval(db_url, "SELECT (now() AT TIME ZONE 'UTC')::date")
    midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert body["quota"]["resets_at"] == midnight.isoformat().replace("+00:00", "Z")
    assert "note_bytes_per_day" in body["detail"]
    assert body["quota"]["resets_at"] in body["detail"]
    retry = int(refused.headers["Retry-After"])
    assert 0 < retry <= 86_400 + 1
    assert abs(retry - (midnight - datetime.now(UTC)).total_seconds()) < 120

    # nothing stored, nothing counted for the refused note; what still fits is taken
    assert notes_stored(db_url) == 2
    assert note(api, keys.agent, "c" * 196).status_code == 200  # exactly 1000
    assert note(api, keys.agent, "").status_code == 429  # "note" alone no longer fits
    rows = fetch(db_url, "SELECT api_key_id, bytes FROM text_quota_usage")
    assert [r["bytes"] for r in rows] == [QUOTA]
    assert quota_refusals() == before + 2

    # another key has its own quota
    second = make_key(db_url, 1, AGENT, name="second agent")
    assert note(api, second, "d" * 500).status_code == 200


def test_a_recommendations_rationale_counts_too(api: TestClient, keys: Keys, db_url: str) -> None:
    assert note(api, keys.agent, "a" * 800).status_code == 200
    recommendations = int(fetchval(db_url, "SELECT count(*) FROM recommendations"))
    refused = propose(api, keys.agent, "r" * 300)
    assert refused.status_code == 429, refused.text
    assert refused.json()["type"] == "urn:wealthgate:problem:quota-exceeded"
    assert int(fetchval(db_url, "SELECT count(*) FROM recommendations")) == recommendations
    assert propose(api, keys.agent, "short").status_code == 201  # 5 + len("quota-agent") fits


def test_a_new_utc_day_starts_from_nothing(api: TestClient, keys: Keys, db_url: str) -> None:
    assert note(api, keys.agent, "a" * 900).status_code == 200
    assert note(api, keys.agent, "b" * 200).status_code == 429
    # as if the 904 bytes had been written yesterday (UTC)
    execute(db_url, "UPDATE text_quota_usage SET day = day - 1")
    assert note(api, keys.agent, "b" * 200).status_code == 200
    rows = fetch(db_url, "SELECT day, bytes FROM text_quota_usage")
    assert [r["bytes"] for r in rows] == [204]  # yesterday's row is gone: one row per key


def test_a_tool_call_over_the_quota_is_a_tool_error(api: TestClient, keys: Keys, db_url: str) -> None:
    assert note(api, keys.agent, "a" * 900).status_code == 200
    body = {"client_id": 1, "event_type": "note", "payload": "b" * 200}
    r = api.post("/tools/record_note", json=body, headers=auth(keys.agent))
    assert r.status_code == 429
    assert r.json()["quota"]["name"] == "note_bytes_per_day"
    assert notes_stored(db_url) == 1
