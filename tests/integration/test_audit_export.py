"""Compliance reads and exports: the caller's firm only, and an export verifies offline on its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Keys
from tests.e2e.process import cli
from tests.integration.test_audit_trail import checkpoint, write_notes
from tests.support import fetchval
from wealthgate.audit import keyring
from wealthgate.audit.offline import verify_export
from wealthgate.settings import Settings


def export_file(db_url: str, tmp_path: Path, fmt: str, home: Path) -> Path:
    out = tmp_path / f"trail.{fmt}"
    result = cli(
        "audit",
        "export",
        "--firm",
        "1",
        "--format",
        fmt,
        "--output",
        str(out),
        DATABASE_URL=db_url,
        WEALTHGATE_HOME=str(home),
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def prepared(db_url: str, settings: Settings) -> tuple[str, str]:
    """Notes for client 1, a signed checkpoint, then notes for client 2 after it."""
    write_notes(db_url, 1, 3)
    checkpoint(db_url)
    write_notes(db_url, 2, 2)
    return db_url, keyring.installed().signer.public_hex


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_verifies_offline_and_a_one_byte_change_fails(
    prepared: tuple[str, str], settings: Settings, tmp_path: Path, fmt: str
) -> None:
    db_url, public_key = prepared
    path = export_file(db_url, tmp_path, fmt, settings.home)
    text = path.read_text()
    report = verify_export(text.splitlines(keepends=True), public_key)
    assert report["ok"], report
    assert report["events"] == fetchval(db_url, "SELECT count(*) FROM audit_events WHERE firm_id = 1")
    assert report["checkpoints"] == 1
    assert cli("audit", "verify-export", str(path), "--public-key", public_key).returncode == 0

    position = text.index("note") if "note" in text else text.index("test.note")
    changed = text[:position] + ("N" if text[position] != "N" else "n") + text[position + 1 :]
    assert len(changed) == len(text)
    bad = verify_export(changed.splitlines(keepends=True), public_key)
    assert not bad["ok"]
    (tmp_path / "bad").write_text(changed)
    assert cli("audit", "verify-export", str(tmp_path / "bad"), "--public-key", public_key).returncode == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_one_byte_change_fails(exported: tuple[str, str], data: st.DataObject) -> None:
    text, public_key = exported
    position = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.sampled_from('0aZ{}",: \n').filter(lambda c: c != text[position]))
    changed = text[:position] + replacement + text[position + 1 :]
    assert not verify_export(changed.splitlines(keepends=True), public_key)["ok"]


@pytest.fixture
def exported(prepared: tuple[str, str], settings: Settings, tmp_path: Path) -> tuple[str, str]:
    db_url, public_key = prepared
    return export_file(db_url, tmp_path, "jsonl", settings.home).read_text(), public_key


def test_a_truncated_or_foreign_signed_export_fails(exported: tuple[str, str], tmp_path: Path) -> None:
    text, public_key = exported
    lines = text.splitlines(keepends=True)
    assert not verify_export(lines[:-2] + lines[-1:], public_key)["ok"]  # a line removed
    assert not verify_export(lines[:-1], public_key)["ok"]  # the seal cut off
    stranger = keyring.generate().signer.public_hex
    assert not verify_export(lines, stranger)["ok"]


def test_exports_and_queries_hold_only_the_callers_firm(
    api: TestClient, keys: Keys, db_url: str, settings: Settings, tmp_path: Path
) -> None:
    write_notes(db_url, 1, 2)
    firm2_notes = fetchval(db_url, "SELECT count(*) FROM audit_events WHERE firm_id = 2")
    assert firm2_notes > 0
    for fmt in ("jsonl", "csv"):
        r = api.get("/audit/export", params={"format": fmt}, headers=Keys.auth(keys.compliance))
        assert r.status_code == 200
        if fmt == "jsonl":
            firms = {json.loads(line).get("firm_id") for line in r.text.splitlines()}
            assert firms <= {1, None}
        assert verify_export(r.text.splitlines(keepends=True))["ok"]
    page = api.get("/audit/events", params={"limit": 500}, headers=Keys.auth(keys.compliance)).json()
    assert page["items"]
    assert {e["firm_id"] for e in page["items"]} == {1}
    other = api.get("/audit/events", params={"client_id": 40}, headers=Keys.auth(keys.compliance)).json()
    assert other["items"] == []
    assert api.get("/audit/events", headers=Keys.auth(keys.agent)).status_code == 403
    assert api.get("/audit/export", headers=Keys.auth(keys.agent)).status_code == 403


def test_event_filters_and_pagination(api: TestClient, keys: Keys, db_url: str) -> None:
    ids = write_notes(db_url, 3, 5)
    auth = Keys.auth(keys.compliance)
    by_client = api.get("/audit/events", params={"client_id": 3}, headers=auth).json()["items"]
    assert [e["id"] for e in by_client] == ids
    by_action = api.get("/audit/events", params={"action": "api_key"}, headers=auth).json()["items"]
    assert by_action
    assert {e["action"] for e in by_action} == {"api_key.created"}
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, object] = {"client_id": 3, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/audit/events", params=params, headers=auth).json()
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    first = by_client[0]
    assert {"actor", "request_id", "chain_seq", "event_hash", "occurred_at"} <= first.keys()
    window = api.get(
        "/audit/events", params={"client_id": 3, "from": by_client[2]["occurred_at"]}, headers=auth
    )
    assert [e["id"] for e in window.json()["items"]] == ids[2:]


def test_verify_a_window_through_the_api(api: TestClient, keys: Keys, db_url: str) -> None:
    ids = write_notes(db_url, 5, 3)
    at = fetchval(db_url, "SELECT occurred_at FROM audit_events WHERE id = $1", ids[1])
    body = api.get(
        "/audit/verify", params={"from": at.isoformat()}, headers=Keys.auth(keys.compliance)
    ).json()
    assert body["ok"] is True
    assert body["events"] == fetchval(
        db_url, "SELECT count(*) FROM audit_events WHERE firm_id = 1 AND occurred_at >= $1", at
    )


def test_the_bytes_around_the_seal_count_too(exported: tuple[str, str]) -> None:
    text, public_key = exported
    assert verify_export(text.splitlines(keepends=True), public_key)["ok"]
    for changed in (
        text[:-1] + " ",
        text + "\n",
        text[:-1],
        text.replace(',"kind":"seal"', ', "kind":"seal"'),
    ):
        assert changed != text
        assert not verify_export(changed.splitlines(keepends=True), public_key)["ok"]
