"""Readiness: may this worker be sent traffic? Four checks, each named in the answer with a reason.

- `database`: a pooled connection answers within `TIMEOUT` seconds.
- `migrations`: the database's Alembic revision is this release's head (neither behind: a migration was not
  run; nor ahead: a newer release migrated it and this one may misread it).
- `read_audit_backlog`: reads noted in memory and not yet written stay within
  `WEALTHGATE_READY_MAX_READ_AUDIT_BACKLOG` (a backlog means the audit trail is falling behind).
- `audit_checkpoint_age`: with the checkpoint timer on, the newest signed checkpoint is younger than
  `WEALTHGATE_READY_MAX_CHECKPOINT_AGE_SECONDS` (before the first one, the service's own uptime counts);
  skipped when the timer is off (`WEALTHGATE_AUDIT_CHECKPOINT_SECONDS=0`).

Liveness (`/healthz`) asks none of this: a worker whose database is away is alive and will recover, and
restarting it would not help.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import lru_cache
from typing import Literal, Protocol, cast

import asyncpg
from alembic.script import ScriptDirectory
from pydantic import BaseModel, Field

from wealthgate import __version__
from wealthgate.audit.queries import checkpoint_age
from wealthgate.db.migrate import alembic_config
from wealthgate.settings import Settings

log = logging.getLogger(__name__)
TIMEOUT = 2.0  # seconds for the database check (orchestrators' probe timeouts should be longer)
STARTED = time.monotonic()  # this process's start, for "no checkpoint yet" (module import is start-up)


class Check(BaseModel):
    status: Literal["ok", "failing", "skipped"]
    reason: str = Field(description="Why the check passed, failed or was skipped, with the figures")
    value: float | None = Field(
        default=None, description="What was measured (events waiting; checkpoint age in seconds), if anything"
    )
    limit: float | None = Field(default=None, description="The bound `value` must not exceed")


class ReadinessChecks(BaseModel):
    database: Check
    migrations: Check
    read_audit_backlog: Check
    audit_checkpoint_age: Check


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    version: str
    checks: ReadinessChecks


class Liveness(BaseModel):
    status: Literal["ok"]
    version: str


class _Reads(Protocol):
    @property
    def depth(self) -> int: ...
    @property
    def flush_lag_seconds(self) -> float: ...


@lru_cache(maxsize=1)
def expected_heads() -> frozenset[str]:
    """This release's Alembic head(s), read once from the migration scripts."""
    return frozenset(ScriptDirectory.from_config(alembic_config("postgresql://")).get_heads())


def _judged(reason: str, value: float, limit: float) -> Check:
    return Check(status="failing" if value > limit else "ok", reason=reason, value=value, limit=limit)


def _migrations(found: set[str], expected: frozenset[str]) -> Check:
    want = ", ".join(sorted(expected))
    if found == expected:
        return Check(status="ok", reason=f"database at revision {want}")
    have = ", ".join(sorted(found)) or "none (not migrated)"
    reason = f"database at revision {have}, this release expects {want}"
    return Check(status="failing", reason=reason)


def _backlog(reads: _Reads, limit: int) -> Check:
    depth, lag = reads.depth, reads.flush_lag_seconds
    return _judged(f"{depth} read events waiting (limit {limit}), oldest {lag:.1f} s", depth, limit)


def _checkpoint(settings: Settings, age: float | None, now: float) -> Check:
    if settings.audit_checkpoint_seconds <= 0:
        reason = "the checkpoint timer is off (WEALTHGATE_AUDIT_CHECKPOINT_SECONDS=0)"
        return Check(status="skipped", reason=reason)
    limit = settings.ready_max_checkpoint_age_seconds
    if age is None:  # before the first checkpoint, give the timer the same bound from this process's start
        uptime = now - STARTED
        reason = f"no checkpoint yet, {uptime:.0f} s after start (limit {limit:.0f} s)"
        return Check(status="failing" if uptime > limit else "ok", reason=reason, limit=limit)
    return _judged(f"newest checkpoint {age:.0f} s old (limit {limit:.0f} s)", age, limit)


async def assess(pool: asyncpg.Pool, reads: _Reads, settings: Settings) -> Readiness:
    expected = await asyncio.to_thread(expected_heads)  # the first call parses the scripts: off the loop
    unknown = Check(status="skipped", reason="the database cannot be reached")
    migrations = unknown
    checkpoint = _checkpoint(settings, None, 0.0) if settings.audit_checkpoint_seconds <= 0 else unknown
    try:
        async with pool.acquire(timeout=TIMEOUT) as proxy:
            conn = cast(asyncpg.Connection, proxy)
            rows = await conn.fetch("SELECT version_num FROM alembic_version", timeout=TIMEOUT)
            age = await checkpoint_age(conn)
        database = Check(status="ok", reason="a pooled connection answered")
        migrations = _migrations({r["version_num"] for r in rows}, expected)
        checkpoint = _checkpoint(settings, age, time.monotonic())
    except asyncpg.UndefinedTableError:  # no alembic_version: never migrated
        database = Check(status="ok", reason="a pooled connection answered")
        migrations = _migrations(set(), expected)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:  # TimeoutError is an OSError
        # The body is public (no key): the class only; the message (host, port) goes to the log.
        log.warning("readiness: the database cannot be reached: %r", exc)
        database = Check(status="failing", reason=f"the database cannot be reached ({type(exc).__name__})")
    checks = ReadinessChecks(
        database=database,
        migrations=migrations,
        read_audit_backlog=_backlog(reads, settings.ready_max_read_audit_backlog),
        audit_checkpoint_age=checkpoint,
    )
    failing = any(
        c.status == "failing" for c in (database, migrations, checks.read_audit_backlog, checkpoint)
    )
    return Readiness(status="not_ready" if failing else "ready", version=__version__, checks=checks)
