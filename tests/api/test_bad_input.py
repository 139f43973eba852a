"""Bad input gets a 4xx problem+json naming the field, and nothing is stored. Never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.support import fetchval

GOOD = {"client_id": 1, "event_type": "portfolio_recommendation", "payload": "{}"}

BAD_BODIES: list[tuple[str, Any, str]] = [
    ("string id", {**GOOD, "client_id": "1"}, "client_id"),
    ("float id", {**GOOD, "client_id": 1.0}, "client_id"),
    ("bool id", {**GOOD, "client_id": True}, "client_id"),
    ("null id", {**GOOD, "client_id": None}, "client_id"),
    ("negative id", {**GOOD, "client_id": -1}, "client_id"),
    ("zero id", {**GOOD, "client_id": 0}, "client_id"),
    ("absurd id", {**GOOD, "client_id": 10**30}, "client_id"),
    ("missing id", {k: v for k, v in GOOD.items() if k != "client_id"}, "client_id"),
    ("missing payload", {k: v for k, v in GOOD.items() if k != "payload"}, "payload"),
    ("payload object", {**GOOD, "payload": {"action": "rebalance"}}, "payload"),
    ("payload number", {**GOOD, "payload": 12}, "payload"),
    ("empty event type", {**GOOD, "event_type": ""}, "event_type"),
    ("odd event type", {**GOOD, "event_type": "drop table;"}, "event_type"),
    ("long payload", {**GOOD, "payload": "x" * 40_000}, "payload"),
    ("NUL in payload", {**GOOD, "payload": "a\u0000b"}, "payload"),
    ("extra field", {**GOOD, "approved": True}, "approved"),
    ("array body", [GOOD], "body"),
]

RAW_BODIES: list[tuple[str, bytes, str]] = [
    ("NaN", b'{"client_id": NaN, "event_type": "x", "payload": "p"}', "body"),
    ("Infinity", b'{"client_id": Infinity, "event_type": "x", "payload": "p"}', "body"),
    ("non-UTF-8", b'{"client_id": 1, "event_type": "x", "payload": "\xff\xfe"}', "body"),
    ("truncated", b'{"client_id": 1, "event_type": ', "body"),
    ("empty", b"", "body"),
]


def audit_count(db_url: str) -> int:
    return int(fetchval(db_url, "SELECT count(*) FROM audit_events"))


def assert_problem(r: Any, field: str) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == r.status_code
    named = {e["field"] for e in body.get("errors", [])}
    assert field in named or field in body["detail"], body
    assert "Traceback" not in r.text
    assert 'File "' not in r.text


@pytest.mark.parametrize(("case", "body", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_bad_json_bodies_are_refused_and_store_nothing(
    api: TestClient, keys: Keys, db_url: str, case: str, body: Any, field: str
) -> None:
    before = audit_count(db_url)
    r = api.post("/audit/recommendation", json=body, headers=Keys.auth(keys.agent))
    assert_problem(r, field)
    assert audit_count(db_url) == before


@pytest.mark.parametrize(("case", "raw", "field"), RAW_BODIES, ids=[c[0] for c in RAW_BODIES])
def test_malformed_bodies_are_refused_and_store_nothing(
    api: TestClient, keys: Keys, db_url: str, case: str, raw: bytes, field: str
) -> None:
    before = audit_count(db_url)
    headers = {**Keys.auth(keys.agent), "content-type": "application/json"}
    r = api.post("/audit/recommendation", content=raw, headers=headers)
    assert_problem(r, field)
    assert audit_count(db_url) == before


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_json_is_415_and_stores_nothing(
    api: TestClient, keys: Keys, db_url: str, media: str
) -> None:
    before = audit_count(db_url)
    headers = {**Keys.auth(keys.agent), "content-type": media}
    r = api.post("/audit/recommendation", content=b'{"client_id": 1}', headers=headers)
    assert r.status_code == 415, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "application/json" in r.json()["detail"]
    assert audit_count(db_url) == before
    # JSON under its own name, a +json type, or no Content-Type at all: still read as JSON
    for sent in ("application/json; charset=utf-8", "application/merge-patch+json", None):
        raw = {**Keys.auth(keys.agent), **({"content-type": sent} if sent else {})}
        r = api.post("/audit/recommendation", content=b'{"client_id": 1}', headers=raw)
        assert r.status_code == 422, (sent, r.text)  # past the media type: the body's fields are checked


def test_oversized_bodies_are_413(api: TestClient, keys: Keys, db_url: str) -> None:
    before = audit_count(db_url)
    huge = {**GOOD, "payload": "x" * 100_000}
    r = api.post("/audit/recommendation", json=huge, headers=Keys.auth(keys.agent))
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert audit_count(db_url) == before


def test_oversized_chunked_bodies_are_413(api: TestClient, keys: Keys, db_url: str) -> None:
    before = audit_count(db_url)

    def chunks() -> Any:
        yield b'{"client_id": 1, "event_type": "x", "payload": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    headers = {**Keys.auth(keys.agent), "content-type": "application/json"}
    r = api.post("/audit/recommendation", content=chunks(), headers=headers)
    assert r.status_code == 413, r.text
    assert audit_count(db_url) == before


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/clients/-1/context", "client_id"),
        ("/clients/0/context", "client_id"),
        ("/clients/abc/context", "client_id"),
        ("/clients/99999999999999999999999/context", "client_id"),
        ("/clients?limit=0", "limit"),
        ("/clients?limit=1000", "limit"),
        ("/clients?limit=x", "limit"),
        ("/clients?cursor=notacursor", "cursor"),
        ("/clients?cursor=eyJhZnRlciI6IC0xfQ", "cursor"),
    ],
)
def test_bad_paths_and_queries_name_the_field(api: TestClient, keys: Keys, path: str, field: str) -> None:
    assert_problem(api.get(path, headers=Keys.auth(keys.agent)), field)


def test_unknown_routes_and_methods_are_problems(api: TestClient, keys: Keys) -> None:
    r = api.get("/nope", headers=Keys.auth(keys.agent))
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    r = api.delete("/clients/1/context", headers=Keys.auth(keys.agent))
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"
