"""Liveness and readiness: `/healthz` touches nothing but the process; `/readyz` names every check, answers
200 when all pass and 503 with the same body when one fails (the database unreachable:
tests/e2e/test_outage.py)."""

from __future__ import annotations

import time

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.support import execute, fetchval, with_conn
from wealthgate import __version__
from wealthgate.api.app import create_app
from wealthgate.api.routes import health
from wealthgate.audit import keyring
from wealthgate.audit.timer import checkpoint_all
from wealthgate.auth.principal import Principal
from wealthgate.observability import readiness
from wealthgate.settings import Settings

CHECKS = {"database", "migrations", "read_audit_backlog", "audit_checkpoint_age", "replicas"}


def test_healthz_is_liveness_only_and_needs_no_key(api: TestClient) -> None:
    answer = api.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "version": __version__}


def test_readyz_names_every_check_and_is_ready_on_a_sound_service(api: TestClient) -> None:
    answer = api.get("/readyz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready"
    assert body["version"] == __version__
    assert set(body["checks"]) == CHECKS
    checks = body["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"]["status"] == "ok"
    assert checks["migrations"]["reason"] == f"database at revision {min(readiness.expected_heads())}"
    assert checks["read_audit_backlog"] | {"reason": ""} == {
        "status": "ok",
        "reason": "",
        "value": 0,
        "limit": 10_000,
    }
    # the fixture's settings turn the checkpoint timer off: nothing to judge
    assert checks["audit_checkpoint_age"]["status"] == "skipped"
    assert "timer is off" in checks["audit_checkpoint_age"]["reason"]
    assert checks["replicas"]["status"] == "skipped"  # no WEALTHGATE_READ_REPLICA_URLS (tests/integration)


def test_readyz_fails_with_the_migrations_check_when_the_database_is_behind(
    api: TestClient, db_url: str
) -> None:
    execute(db_url, "UPDATE alembic_version SET version_num = '0001_older'")
    answer = api.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not_ready"
    failing = {name for name, check in body["checks"].items() if check["status"] == "failing"}
    assert failing == {"migrations"}
    assert "database at revision 0001_older, this release expects" in body["checks"]["migrations"]["reason"]
    assert body["checks"]["database"]["status"] == "ok"


def test_readyz_fails_when_the_read_audit_backlog_is_over_its_bound(settings: Settings) -> None:
    bounded = settings.model_copy(update={"ready_max_read_audit_backlog": 2})
    reader = Principal(key_id=1, firm_id=1, advisor_id=None, scopes=frozenset(), name="t", owner="t")
    with TestClient(create_app(bounded)) as api:
        reads = api.app.state.reads  # type: ignore[attr-defined]
        api.portal.call(reads.stop)  # type: ignore[union-attr]  # no flusher: the reads stay waiting
        for _ in range(2):
            reads.note(reader, 1, "test", None)
        assert api.get("/readyz").status_code == 200  # two waiting: at the bound, not over it
        reads.note(reader, 1, "test", None)
        answer = api.get("/readyz")
        assert answer.status_code == 503
        backlog = answer.json()["checks"]["read_audit_backlog"]
        assert backlog["status"] == "failing"
        assert (backlog["value"], backlog["limit"]) == (3, 2)
        assert backlog["reason"].startswith("3 read events waiting (limit 2)")


def test_readyz_judges_the_newest_checkpoint_when_the_timer_is_on(
    settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    timed = settings.model_copy(
        update={"audit_checkpoint_seconds": 3600, "ready_max_checkpoint_age_seconds": 60}
    )
    assert fetchval(db_url, "SELECT count(*) FROM audit_checkpoints") == 0
    with TestClient(create_app(timed)) as api:
        # no checkpoint yet: the service's own uptime is judged against the bound
        monkeypatch.setattr(readiness, "STARTED", time.monotonic())
        early = api.get("/readyz").json()["checks"]["audit_checkpoint_age"]
        assert early["status"] == "ok"
        assert early["reason"].startswith("no checkpoint yet")
        monkeypatch.setattr(readiness, "STARTED", time.monotonic() - 61)
        late = api.get("/readyz")
        assert late.status_code == 503
        assert late.json()["checks"]["audit_checkpoint_age"]["status"] == "failing"

        with_conn(db_url, lambda c: checkpoint_all(c, keyring.installed(), timed, wait=True))
        fresh = api.get("/readyz")
        assert fresh.status_code == 200
        check = fresh.json()["checks"]["audit_checkpoint_age"]
        assert check["status"] == "ok"
        assert 0 <= check["value"] < 60
        assert check["limit"] == 60


def test_a_checkpoint_older_than_the_bound_fails() -> None:
    timed = Settings(audit_checkpoint_seconds=300, ready_max_checkpoint_age_seconds=600)
    assert readiness._checkpoint(timed, 599.0, 0).status == "ok"
    old = readiness._checkpoint(timed, 601.0, 0)
    assert (old.status, old.value, old.limit) == ("failing", 601.0, 600)


def test_health_routes_are_declared_public_with_their_bodies(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    ready = spec["paths"]["/readyz"]["get"]
    assert "security" not in ready
    assert ready["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"
    }
    # the 503 carries the same body: declared on the route (what the contract builder starts from)
    route = next(r for r in health.router.routes if isinstance(r, APIRoute) and r.path == "/readyz")
    assert route.responses[503]["model"] is readiness.Readiness
    assert spec["components"]["schemas"]["Check"]["properties"]["status"]["enum"] == [
        "ok",
        "failing",
        "skipped",
    ]
    live = spec["paths"]["/healthz"]["get"]
    assert live["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Liveness"
    }
    assert "security" not in live
