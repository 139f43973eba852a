"""Migrations run under an advisory lock: processes starting together on one empty database migrate once and
all succeed (before: one died with an IntegrityError), and an upgrade waits while another holds the lock."""

from __future__ import annotations

import subprocess
import threading
import time

import psycopg

from tests.e2e.process import WEALTHGATE, env
from tests.support import fetchval
from wealthgate.db import urls
from wealthgate.db.migrate import MIGRATION_LOCK, drift, upgrade

HANG_GUARD = 120


def test_four_processes_migrate_one_empty_database_together(empty_db_url: str) -> None:
    starts = [
        subprocess.Popen(
            [WEALTHGATE, "db", "upgrade"],
            env=env(DATABASE_URL=empty_db_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [(p.wait(HANG_GUARD), p.stderr.read() if p.stderr else "") for p in starts]
    assert outcomes == [(0, "")] * 4
    assert fetchval(empty_db_url, "SELECT count(*) FROM alembic_version") == 1
    assert drift(empty_db_url) == []


def test_an_upgrade_waits_for_the_lock_holder(empty_db_url: str) -> None:
    done = threading.Event()
    failures: list[BaseException] = []

    def migrate() -> None:
        try:
            upgrade(empty_db_url)
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)
        finally:
            done.set()

    with psycopg.connect(urls.plain(empty_db_url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        worker = threading.Thread(target=migrate)
        worker.start()
        waiting = (
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        deadline = time.monotonic() + HANG_GUARD
        while holder.execute(waiting).fetchone() != (1,):
            assert time.monotonic() < deadline, "the upgrade never asked for the lock"
            assert not done.is_set(), f"the upgrade ran without waiting for the lock: {failures}"
            time.sleep(0.05)
        assert fetchval(empty_db_url, "SELECT to_regclass('alembic_version') IS NULL"), "nothing migrated yet"
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        worker.join(HANG_GUARD)
    assert failures == []
    assert drift(empty_db_url) == []
