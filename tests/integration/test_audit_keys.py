"""The checkpoint timer as the service runs it, the audit keyring's lifecycle through the real CLI, and the
checkpoint age a verifier and the health check report."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.e2e.process import cli
from tests.integration.test_audit_trail import write_notes
from tests.support import fetch, fetchval
from wealthgate.api.app import create_app
from wealthgate.audit import keyring, timer, witness
from wealthgate.audit.timer import LOCK, checkpoint_timer, make_checkpoints_once
from wealthgate.db.pool import connect, create_pool
from wealthgate.settings import Settings


class Ticks:
    """The checkpoint timer's ticks as they end (checkpoints made, or the exception), to wait on one: the
    event itself rather than sleeping past it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.outcomes: list[int | BaseException] = []
        self.changed = threading.Condition()
        once = timer.make_checkpoints_once

        async def tick(pool: object, settings: Settings) -> int:
            try:
                made = await once(pool, settings)  # type: ignore[arg-type]
            except Exception as exc:
                self._add(exc)
                raise
            self._add(made)
            return made

        monkeypatch.setattr(timer, "make_checkpoints_once", tick)

    def _add(self, outcome: int | BaseException) -> None:
        with self.changed:
            self.outcomes.append(outcome)
            self.changed.notify_all()

    def failed(self) -> int:
        return sum(isinstance(o, BaseException) for o in self.outcomes)

    def made(self) -> int:
        return sum(o for o in self.outcomes if isinstance(o, int))

    def wait(self, done: Callable[[], bool], timeout: float = 30) -> bool:
        """Block this thread until `done()` holds after a tick (the timer runs on another thread)."""
        with self.changed:
            return self.changed.wait_for(done, timeout=timeout)

    async def until(self, done: Callable[[], bool], seconds: float = 30) -> bool:
        """The same from the timer's own event loop: let it tick while waiting."""
        return await asyncio.to_thread(self.wait, done, seconds)


def test_the_service_timer_signs_checkpoints_and_witnesses_them(
    settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real timer inside the running app (a short interval), not a hand call of its function."""
    fast = settings.model_copy(update={"audit_checkpoint_seconds": 0.3})
    assert fetchval(db_url, "SELECT count(*) FROM audit_checkpoints") == 0
    ticks = Ticks(monkeypatch)
    with TestClient(create_app(fast)) as api:
        assert ticks.wait(lambda: ticks.made() >= 4), "two ticks over two firms never came"  # a hang guard
        ready = api.get("/readyz").json()["checks"]["audit_checkpoint_age"]
    made = fetch(db_url, "SELECT firm_id, id, key_id, format FROM audit_checkpoints ORDER BY id")
    assert len(made) >= 4, "two ticks over two firms"
    assert {r["key_id"] for r in made} == {keyring.installed().signer.id}
    assert {r["format"] for r in made} == {2}
    witnessed = list(witness.read(fast.witness_path))
    assert [(d["firm_id"], d["id"]) for d in witnessed] == [(r["firm_id"], r["id"]) for r in made][
        : len(witnessed)
    ]
    assert len(witnessed) >= 4
    assert ready["status"] == "ok"
    assert 0 <= ready["value"] < 20
    # the first checkpoint of a firm records every chain; later ones only the chains that moved
    first, second = (r for r in witnessed if r["firm_id"] == 1)
    assert len(first["heads"]) == fetchval(db_url, "SELECT count(*) FROM audit_chain_heads WHERE firm_id = 1")
    assert second["heads"] == {}
    assert second["previous"] is not None


def test_the_checkpoint_timer_outlives_a_failing_tick_and_rereads_the_keyring(
    settings: Settings, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`checkpoint_timer` itself, as a task: while its keyring file is missing every tick fails (logged) and
    nothing is signed; once the file appears, the next tick signs, without a restart."""
    ring_file = tmp_path / "late-keyring.json"
    ticking = settings.model_copy(update={"audit_checkpoint_seconds": 0.1, "audit_keyring_file": ring_file})

    ticks = Ticks(monkeypatch)

    async def run() -> tuple[int, int]:
        pool = await create_pool(db_url, min_size=1, max_size=2)
        running = asyncio.create_task(checkpoint_timer(pool, ticking))
        try:
            assert await ticks.until(lambda: ticks.failed() >= 3)  # several failing ticks
            without = await pool.fetchval("SELECT count(*) FROM audit_checkpoints")
            keyring.save(keyring.installed(), ring_file)
            assert await ticks.until(lambda: ticks.made() >= 2)  # the next tick signs both firms
            with_ring = await pool.fetchval("SELECT count(*) FROM audit_checkpoints")
            assert not running.done(), "the timer must outlive its failures"
        finally:
            running.cancel()
            await pool.close()
        return without, with_ring

    without, with_ring = asyncio.run(run())
    assert without == 0
    assert with_ring >= 2  # both firms
    assert len(list(witness.read(ticking.witness_path))) >= 2


def test_one_process_at_a_time_makes_checkpoints(settings: Settings, db_url: str) -> None:
    async def run() -> tuple[int, int]:
        pool = await create_pool(db_url, min_size=1, max_size=2)
        holder = await connect(db_url)
        try:
            await holder.execute("SELECT pg_advisory_lock($1)", LOCK)  # another worker is at it
            while_held = await make_checkpoints_once(pool, settings)
            await holder.execute("SELECT pg_advisory_unlock($1)", LOCK)
            after = await make_checkpoints_once(pool, settings)
        finally:
            await holder.close()
            await pool.close()
        return while_held, after

    assert asyncio.run(run()) == (0, 2)


def test_a_missing_keyring_is_one_line_naming_the_setting(db_url: str, tmp_path: Path) -> None:
    nowhere = tmp_path / "no-such-keyring.json"
    for command in (("audit", "checkpoint"), ("audit", "verify"), ("serve", "--port", "1")):
        result = cli(*command, DATABASE_URL=db_url, WEALTHGATE_AUDIT_KEYRING_FILE=str(nowhere))
        assert result.returncode == 1, (command, result.stdout)
        assert result.stderr.count("\n") == 1, result.stderr
        assert "WEALTHGATE_AUDIT_KEYRING_FILE" in result.stderr
        assert not nowhere.exists(), "nothing creates a key without being asked"
    assert fetchval(db_url, "SELECT count(*) FROM audit_checkpoints") == 0


def test_keys_init_refuses_to_overwrite_and_lists(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    first = cli("audit", "keys", "init", WEALTHGATE_AUDIT_KEYRING_FILE=str(path))
    assert first.returncode == 0, first.stderr
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = cli("audit", "keys", "init", WEALTHGATE_AUDIT_KEYRING_FILE=str(path))
    assert again.returncode == 1
    assert "already exists" in again.stderr
    public = cli("audit", "keys", "list", "--public", WEALTHGATE_AUDIT_KEYRING_FILE=str(path))
    assert "private" not in public.stdout
    assert "secret" not in public.stdout
    assert keyring.parse(path.read_bytes(), "t").signer.id in json.loads(public.stdout)["signing"][0]["id"]


def test_rotation_keeps_old_checkpoints_verifiable(db_url: str, tmp_path: Path) -> None:
    """Rotate through the CLI on a copy of the session keyring: the old checkpoints verify with the retired
    public key, new events carry the new MAC key, and the old keyring is refused from then on."""
    path = tmp_path / "ring.json"
    keyring.save(keyring.installed(), path)
    env = {"DATABASE_URL": db_url, "WEALTHGATE_AUDIT_KEYRING_FILE": str(path)}
    assert cli("audit", "checkpoint", **env).returncode == 0
    old = keyring.parse(path.read_bytes(), "old")
    rotated = cli("audit", "keys", "rotate", **env)
    assert rotated.returncode == 0, rotated.stderr
    new = keyring.parse(path.read_bytes(), "new")
    assert new.signer.id != old.signer.id
    assert old.signer.id in new.public_keys()
    rotations = fetch(
        db_url, "SELECT firm_id, mac_key_id FROM audit_events WHERE action = 'audit_key.rotated'"
    )
    assert sorted(r["firm_id"] for r in rotations) == [1, 2]  # every firm's trail records it
    assert {r["mac_key_id"] for r in rotations} == {new.mac_key.id}
    assert fetchval(db_url, "SELECT count(DISTINCT key_id) FROM audit_checkpoints") == 2
    verified = cli("audit", "verify", **env)
    assert verified.returncode == 0, verified.stdout
    listed = cli("audit", "keys", "list", **env).stdout
    assert f"signing {old.signer.id}  retired" in listed
    assert f"signing {new.signer.id}  current" in listed
    stale = tmp_path / "stale.json"
    keyring.save(old, stale)
    refused = cli("audit", "checkpoint", DATABASE_URL=db_url, WEALTHGATE_AUDIT_KEYRING_FILE=str(stale))
    assert refused.returncode == 1
    assert "audit keys rotate" in refused.stderr


def test_the_verifier_reports_the_newest_checkpoint_age(db_url: str) -> None:
    before = json.loads(cli("audit", "verify", DATABASE_URL=db_url).stdout)
    assert before["newest_checkpoint_at"] is None
    assert cli("audit", "checkpoint", DATABASE_URL=db_url).returncode == 0
    write_notes(db_url, 1, 1)
    after = json.loads(cli("audit", "verify", DATABASE_URL=db_url).stdout)
    assert after["ok"]
    assert 0 <= after["newest_checkpoint_age_seconds"] < 60
