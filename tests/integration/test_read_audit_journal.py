"""Read audit events that wait through a primary outage survive the worker: a crash (the process killed) or a
stop, then the next start stores them, exactly once (audit/journal.py).

The worker of the outage is a real child process whose pool points at a database that is not there, so each
flush fails as it does with the primary away; it is then killed (`os._exit`, no clean-up of any kind) or
stopped. What it left on disk is stored by the service's own background flusher when an app starts."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from fastapi.testclient import TestClient

from tests.support import execute, fetchval, make_key, with_conn
from wealthgate.api.app import create_app
from wealthgate.audit import journal
from wealthgate.audit.batch import Pending
from wealthgate.audit.journal import Journal, journal_dir
from wealthgate.audit.reads import ReadRecorder
from wealthgate.audit.verify import verify
from wealthgate.auth.principal import Principal
from wealthgate.db.pool import create_pool
from wealthgate.settings import Settings

REPO = Path(__file__).resolve().parents[2]

# The outage's worker: reads noted, a flush failing (nothing listens at the pool's socket), more reads,
# another failing flush, then the end named by argv[3]: "crash" (os._exit: no finally, no flush, no unlock)
# or "stop".
OUTAGE_WORKER = textwrap.dedent(
    """
    import asyncio, os, sys
    import asyncpg
    from pathlib import Path
    from wealthgate.audit.reads import ReadRecorder
    from wealthgate.auth.principal import Principal

    async def main() -> None:
        key_id, journals, end = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
        pool = await asyncpg.create_pool("postgresql://nobody@/nowhere?host=/nonexistent", min_size=0)
        reads = ReadRecorder(pool, journals)
        who = Principal(key_id=key_id, firm_id=1, advisor_id=None, scopes=frozenset(), name="o", owner="t")
        for client, what, count, when in ((1, "context", 3, "before"), (2, "portfolio", 2, "after")):
            for n in range(count):
                reads.note(who, client, what, f"{when}-{n}")
            try:
                await reads.flush()
            except OSError:
                pass
        assert reads.depth == 5
        if end == "crash":
            os._exit(9)
        await reads.stop()  # must not raise: what waits is on disk

    asyncio.run(main())
    """
)


def _outage(key_id: int, journals: Path, end: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", OUTAGE_WORKER, str(key_id), str(journals), end],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        check=False,
    )


def _events(url: str, key_id: int) -> list[tuple[str, int, str]]:
    rows = with_conn(
        url,
        lambda c: c.fetch(
            "SELECT request_id, client_id, details->>'read' AS what FROM audit_events"
            " WHERE actor_key_id = $1 ORDER BY id",
            key_id,
        ),
    )
    return [(r["request_id"], r["client_id"], r["what"]) for r in rows]


def _stored_by_the_service(settings: Settings, journals: Path) -> None:
    """Start the app and let its background flusher find and store the journals; wait for them to go."""
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 20
        while list(journals.glob("*.jsonl")) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not list(journals.glob("*.jsonl")), "the service left the journal on disk"


EXPECTED = [
    *((f"before-{n}", 1, "context") for n in range(3)),
    *((f"after-{n}", 2, "portfolio") for n in range(2)),
]


@pytest.mark.parametrize("end", ["crash", "stop"])
def test_reads_of_an_outage_survive_the_worker_and_are_stored_once(
    settings: Settings, db_url: str, end: str
) -> None:
    make_key(db_url, 1, ["clients:read"], name=f"outage-{end}")
    key_id = int(fetchval(db_url, "SELECT id FROM api_keys WHERE name = $1", f"outage-{end}"))
    journals = journal_dir(settings.home, settings.database_url)
    done = _outage(key_id, journals, end)
    assert done.returncode == (9 if end == "crash" else 0), done.stderr
    if end == "stop":
        assert "5 read audit events wait in" in done.stderr  # the stop says where they are
    files = list(journals.glob("*.jsonl"))
    assert len(files) == 1
    assert len(files[0].read_bytes().splitlines()) == 5  # both failed flushes appended, nothing twice

    _stored_by_the_service(settings, journals)
    assert _events(db_url, key_id) == EXPECTED  # every read, in order, once
    waited = with_conn(
        db_url,
        lambda c: c.fetch(
            "SELECT details->>'served_at' AS served, occurred_at FROM audit_events WHERE actor_key_id = $1",
            key_id,
        ),
    )
    for row in waited:  # each says when it was served, not only when it reached the trail
        served = datetime.fromisoformat(row["served"])
        assert served < row["occurred_at"]
        assert row["occurred_at"] - served < timedelta(minutes=5)
    recorded = fetchval(db_url, "SELECT events FROM audit_read_journals WHERE id = $1", files[0].stem)
    assert recorded == 5
    assert with_conn(db_url, verify, as_owner=False).ok  # the chains hold, MACs included

    _stored_by_the_service(settings, journals)  # a second start finds nothing to store
    assert len(_events(db_url, key_id)) == 5


def _pending(key_id: int, request_id: str) -> Pending:
    return Pending(
        firm_id=1,
        actor={"type": "api_key", "key_id": key_id, "key_name": "journal"},
        action="client.read",
        target_type="client",
        target_id="1",
        client_id=1,
        details={"read": "context"},
        request_id=request_id,
    )


async def _store_orphans(db_url: str, journals: Path) -> int:
    pool = await create_pool(db_url, min_size=1, max_size=2)
    try:
        return await ReadRecorder(pool, journals).store_orphans()
    finally:
        await pool.close()


@pytest.fixture
def key_id(db_url: str) -> int:
    make_key(db_url, 1, ["clients:read"], name="journal")
    return int(fetchval(db_url, "SELECT id FROM api_keys WHERE name = 'journal'"))


def _count(db_url: str) -> int:
    return int(fetchval(db_url, "SELECT count(*) FROM audit_events WHERE actor->>'key_name' = 'journal'"))


def test_a_journal_already_recorded_is_removed_not_stored_again(
    db_url: str, tmp_path: Path, key_id: int
) -> None:
    """The owner stored the journal and died before removing the file: the record says so."""
    left = Journal(tmp_path)
    left.append([_pending(key_id, "r1"), _pending(key_id, "r2")])
    left.release()
    execute(db_url, "INSERT INTO audit_read_journals (id, events) VALUES ($1, 2)", left.id)
    assert asyncio.run(_store_orphans(db_url, tmp_path)) == 0
    assert _count(db_url) == 0
    assert not left.path.exists()


def test_a_journal_whose_owner_lives_is_left_alone(db_url: str, tmp_path: Path, key_id: int) -> None:
    held = Journal(tmp_path)
    held.append([_pending(key_id, "r1")])  # its owner (this test) holds the lock
    try:
        assert asyncio.run(_store_orphans(db_url, tmp_path)) == 0
        assert held.path.exists()
    finally:
        held.release()
    assert asyncio.run(_store_orphans(db_url, tmp_path)) == 1  # released: an orphan now
    assert _count(db_url) == 1


def test_a_last_line_cut_short_by_a_crash_is_skipped_and_said(
    db_url: str, tmp_path: Path, key_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    torn = Journal(tmp_path)
    torn.append([_pending(key_id, "r1"), _pending(key_id, "r2")])
    torn.release()
    with torn.path.open("ab") as file:
        file.write(journal.encode(_pending(key_id, "r3"))[:40])  # the write the crash interrupted
    with caplog.at_level(logging.ERROR):
        assert asyncio.run(_store_orphans(db_url, tmp_path)) == 2
    assert "cut short" in caplog.text
    assert _count(db_url) == 2
    assert not torn.path.exists()


def test_an_event_the_database_refuses_does_not_hold_back_the_journal(
    db_url: str, tmp_path: Path, key_id: int
) -> None:
    """A client that no longer exists fails its foreign key: that event alone is refused, the journal is
    recorded as stored, and every other event is in the trail."""
    refused = dataclasses.replace(_pending(key_id, "gone"), client_id=999_999, target_id="999999")
    held = Journal(tmp_path)
    held.append([_pending(key_id, "r1"), refused, _pending(key_id, "r2")])
    held.release()
    assert asyncio.run(_store_orphans(db_url, tmp_path)) == 2
    assert _count(db_url) == 2
    assert fetchval(db_url, "SELECT events FROM audit_read_journals WHERE id = $1", held.id) == 3


def test_the_app_role_cannot_rewrite_which_journals_were_stored(db_url: str) -> None:
    async def attempt(conn: asyncpg.Connection) -> None:
        await conn.execute("INSERT INTO audit_read_journals (id, events) VALUES ('j', 1)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM audit_read_journals")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE audit_read_journals SET events = 0")

    with_conn(db_url, attempt, as_owner=False)


def test_a_journal_that_cannot_be_read_is_set_aside_and_the_others_are_stored(
    db_url: str, tmp_path: Path, key_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A line in the middle that is not an event (not a torn last write) is no journal this code wrote: the
    file is renamed for a person to look at, never retried each tick, and the other journals go on."""
    bad = Journal(tmp_path)
    bad.append([_pending(key_id, "r1")])
    bad.release()
    with bad.path.open("ab") as file:
        file.write(b'{"not": "an event"}\n' + journal.encode(_pending(key_id, "r2")))
    good = Journal(tmp_path)
    good.append([_pending(key_id, "r3")])
    good.release()
    with caplog.at_level(logging.ERROR):
        assert asyncio.run(_store_orphans(db_url, tmp_path)) == 1
    assert "cannot be read" in caplog.text
    assert f"{bad.path.name}.unreadable" in caplog.text  # where it was put, for the person who looks
    assert not bad.path.exists()
    assert bad.path.with_name(bad.path.name + ".unreadable").exists()
    assert not good.path.exists()
    assert _count(db_url) == 1
    assert asyncio.run(_store_orphans(db_url, tmp_path)) == 0  # not looked at again


def _fsync_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_room(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal.os, "fsync", no_room)


def test_an_append_that_fails_leaves_the_journal_as_it_was(
    tmp_path: Path, key_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills mid-append must not leave a torn line, which the next append would bury mid-file
    and make the whole journal unreadable."""
    kept = Journal(tmp_path)
    kept.append([_pending(key_id, "r1"), _pending(key_id, "r2")])
    before = kept.path.read_bytes()
    with monkeypatch.context() as patch:
        _fsync_fails(patch)
        with pytest.raises(OSError, match="No space"):
            kept.append([_pending(key_id, "r3")])
    assert kept.path.read_bytes() == before
    kept.append([_pending(key_id, "r4")])
    kept.release()
    [orphan] = journal.orphans(tmp_path)
    assert [e.request_id for e in orphan.events()] == ["r1", "r2", "r4"]
    orphan.release()


def test_a_journal_that_took_nothing_is_removed_once_the_reads_are_stored(
    db_url: str, tmp_path: Path, key_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flush failed and so did its journal write: the events waited in memory only. When they are
    stored, the empty journal goes too, never left to be found as an orphan."""
    who = Principal(key_id=key_id, firm_id=1, advisor_id=None, scopes=frozenset(), name="journal", owner="t")

    async def run() -> int:
        away = await create_pool(db_url, min_size=0, max_size=1)
        await away.close()  # every acquire fails, as with the primary gone
        back = await create_pool(db_url, min_size=1, max_size=2)
        try:
            reads = ReadRecorder(away, tmp_path)
            reads.note(who, 1, "context", "r1")
            with monkeypatch.context() as patch:
                _fsync_fails(patch)
                with pytest.raises(Exception):  # noqa: B017, PT011  (whatever a closed pool says)
                    await reads.flush()
            assert reads.depth == 1  # still waiting, in memory
            reads.pool = back
            return await reads.flush()
        finally:
            await back.close()

    assert asyncio.run(run()) == 1
    assert _count(db_url) == 1
    assert not list(tmp_path.glob("*.jsonl"))
