"""Readiness: may this worker be sent traffic? Four checks, each named in the answer with a reason.

- `database`: a pooled connection answers within `TIMEOUT` seconds.
- `migrations`: the database's Alembic revision is this release's head (neither behind: a migration was not
  run; nor ahead: a newer release migrated it and this one may misread it).
- `read_audit_backlog`: reads noted in memory and not yet written stay within
  `WEALTHGATE_READY_MAX_READ_AUDIT_BACKLOG` (a backlog means the audit trail is falling behind).
- `audit_checkpoint_age`: with the checkpoint timer on, the newest signed checkpoint is younger than
  `WEALTHGATE_READY_MAX_CHECKPOINT_AGE_SECONDS` (before the first one, the service's own uptime counts);
  skipped when the timer is off (`WEALTHGATE_AUDIT_CHECKPOINT_SECONDS=0`).
- `replicas`: with `WEALTHGATE_READ_REPLICA_URLS`, each replica's state as this worker's monitor last saw it
  (up, lag, skipped and why); `ok` while at least one serves reads, `failing` when none does (the primary
  then serves every read: not a reason to take the worker out of service). Skipped without replicas.

`status` is `ready` (200) when every check passes; `degraded` (200) when the primary alone fails while a
replica serves reads (docs/scaling.md: agent reads go on, their audit records wait in the bounded buffer,
writes answer 503), so a load balancer keeps sending reads; `not_ready` (503) otherwise.

Liveness (`/healthz`) asks none of this: a worker whose database is away is alive and will recover, and
restarting it would not help.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from functools import lru_cache
from typing import Literal, Protocol, cast

import asyncpg
from alembic.script import ScriptDirectory
from pydantic import BaseModel, Field

from wealthgate import __version__
from wealthgate.audit.queries import checkpoint_age
from wealthgate.db.migrate import alembic_config
from wealthgate.db.replicas import Replica
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


class ReplicaState(BaseModel):
    name: str = Field(description="replica-1, replica-2...: in the order of WEALTHGATE_READ_REPLICA_URLS")
    up: bool
    lag_seconds: float | None = Field(description="Behind the primary (null: unknown)")
    serving: bool = Field(description="Up and within WEALTHGATE_REPLICA_MAX_LAG_SECONDS: it takes reads")
    problem: str | None


class ReplicasCheck(Check):
    replicas: list[ReplicaState] = Field(default_factory=list)


class ReadinessChecks(BaseModel):
    database: Check
    migrations: Check
    read_audit_backlog: Check
    audit_checkpoint_age: Check
    replicas: ReplicasCheck


class Readiness(BaseModel):
    status: Literal["ready", "degraded", "not_ready"]
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


class _Router(Protocol):
    replicas: list[Replica]
    max_lag_seconds: float

    def serves(self, replica: Replica) -> bool: ...


def _replicas(router: _Router | None) -> ReplicasCheck:
    if router is None:
        return ReplicasCheck(status="skipped", reason="no read replicas (WEALTHGATE_READ_REPLICA_URLS)")
    behind = f"more than {router.max_lag_seconds:g} s behind"
    states = [
        ReplicaState(
            name=r.name,
            up=r.up,
            lag_seconds=r.lag_seconds if math.isfinite(r.lag_seconds) else None,
            serving=router.serves(r),
            problem=r.problem or (None if router.serves(r) else behind),
        )
        for r in router.replicas
    ]
    serving = sum(s.serving for s in states)
    reason = f"{serving} of {len(states)} replicas serve reads"
    return ReplicasCheck(status="ok" if serving else "failing", reason=reason, replicas=states)


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


async def assess(
    pool: asyncpg.Pool, reads: _Reads, settings: Settings, router: _Router | None = None
) -> Readiness:
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
        replicas=_replicas(router),
    )
    others = (checks.read_audit_backlog, checkpoint)
    if database.status == "failing" and checks.replicas.status == "ok":
        # the primary is away, a replica serves reads: keep the reads coming while their audit buffer holds
        status = "not_ready" if any(c.status == "failing" for c in others) else "degraded"
    else:
        failing = any(c.status == "failing" for c in (database, migrations, *others))
        status = "not_ready" if failing else "ready"
    return Readiness(status=status, version=__version__, checks=checks)
