"""Agent reads served by streaming replicas, without a key ever missing its own writes (docs/scaling.md).

`ReadRouter` holds a pool per replica (`WEALTHGATE_READ_REPLICA_URLS`) beside the primary's, and a monitor
that asks each replica every `WEALTHGATE_REPLICA_CHECK_SECONDS` where its replay stands. A read goes to a
replica that is up and within `WEALTHGATE_REPLICA_MAX_LAG_SECONDS`, round robin, else to the primary.

Read-your-writes. After a request of a key that may have written, `mark_write` takes the primary's WAL insert
position (past the commit record of anything the request committed) and keeps it as the key's mark in a file
shared by the host's workers (db/write_marks.py). A read of that key goes to a replica only when the replica
has replayed past the mark: known from the monitor's last look, or asked of the replica itself, waiting up to
`WEALTHGATE_REPLICA_WAIT_MS`; past that the primary serves it. A snapshot a hot standby takes after replaying
a commit sees that commit, so the read sees the write.

Lag. A replica at the primary's position is 0 s behind; one short of it is as far behind as the age of the
last transaction it replayed. With the primary away, the lag is left where it was last seen (nothing new can
be committed to fall behind on), so reads keep being served by replicas through a primary outage (their
audit records wait in the read recorder's bounded buffer, audit/reads.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from wealthgate.db.pool import create_pool
from wealthgate.db.reach import unavailable
from wealthgate.db.write_marks import WriteMarks
from wealthgate.errors import Unavailable

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 1.0  # seconds a replica (or the primary) has to answer the monitor
POLL_SECONDS = 0.002  # while a read waits for a replica to replay its key's write
Server = Literal["primary", "replica"]
# What a server that is away (or going away) raises; anything else is let through as the bug it is.
AWAY = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)

_REPLICA_STATE = """
SELECT pg_is_in_recovery() AS standby,
       coalesce(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0)::bigint AS replayed,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS replayed_age
"""
_REPLAYED = "SELECT coalesce(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0)::bigint"
# The end of the last record inserted in the primary's WAL: past the commit of anything committed before.
# `pg_current_wal_insert_lsn()` points past the page header when the insert position is at a page's start
# (24 bytes; 40 at a segment's start) where no record can end, and a standby's replay position is the end of
# the last record it replayed: an idle primary would leave a mark no standby ever reaches. So the header is
# taken off (a record cannot end 24 or 40 bytes into a page: there is no data before its header's end).
PRIMARY_POSITION = """
SELECT CASE WHEN p % seg = 40 THEN p - 40 WHEN p % blk = 24 THEN p - 24 ELSE p END
FROM (SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint AS p,
             current_setting('wal_block_size')::bigint AS blk,
             pg_size_bytes(current_setting('wal_segment_size')) AS seg) AS here
"""
SYSTEM_ID = "SELECT system_identifier FROM pg_control_system()"


class ReplicaFailed(Unavailable):
    """A read failed because of the replica serving it: the replica went away mid-read, or cancelled the
    statement for a conflict with recovery (SQLSTATE 40001 on a standby). The route runs the read again on
    the primary (api/routing.py); were it ever not caught, a 503 like any server away."""


def replica_at_fault(exc: BaseException) -> bool:
    """Whether a read on a replica failed because of the replica, not of the read itself."""
    return unavailable(exc) or str(getattr(exc, "sqlstate", "")) == "40001"


@dataclass(slots=True)
class Replica:
    """One replica as this worker last saw it."""

    name: str  # "replica-1": what logs, metrics and /readyz call it (never the URL: it may hold a password)
    pool: asyncpg.Pool
    up: bool = False
    replayed: int = 0  # WAL position replayed (bytes)
    lag_seconds: float = math.inf
    problem: str | None = "not checked yet"

    def lost(self, exc: BaseException) -> None:
        """It failed to answer: skipped until the monitor finds it answering again."""
        if self.up:
            log.warning("%s is down: %r", self.name, exc)
        self.up, self.problem = False, f"cannot be reached ({type(exc).__name__})"


@dataclass(slots=True)
class Routed:
    """Why a read went where it did (metrics label `reason`)."""

    server: Server
    reason: str
    replica: Replica | None = None
    conn: PoolConnectionProxy | None = None  # a replica connection already taken while waiting for replay


@dataclass
class ReadRouter:
    primary: asyncpg.Pool
    replicas: list[Replica]
    marks: WriteMarks
    max_lag_seconds: float
    wait_seconds: float
    check_seconds: float
    primary_position: int = 0  # the primary's WAL position at the monitor's last look (0: never seen)
    primary_up: bool = True
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _task: asyncio.Task[None] | None = None

    # ---- the monitor ----------------------------------------------------------------------------------

    async def check(self) -> None:
        """Look at the primary's position, then every replica's replay, once (the monitor's round; tests call
        it to see a change without waiting for the next round)."""
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                self.primary_position = int(await self.primary.fetchval(PRIMARY_POSITION))
            self.primary_up = True
        except AWAY:
            self.primary_up = False
        await asyncio.gather(*(self._check(r) for r in self.replicas))

    async def _check(self, replica: Replica) -> None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                row = await replica.pool.fetchrow(_REPLICA_STATE)
        except AWAY as exc:
            replica.lost(exc)
            return
        if row is None or not row["standby"]:
            # promoted, or pointed at a primary by mistake: it would take no writes' replay into account
            replica.up, replica.problem = False, "not a standby (pg_is_in_recovery() is false)"
            return
        replica.replayed = int(row["replayed"])
        if self.primary_up:
            behind = self.primary_position > replica.replayed
            age = row["replayed_age"]
            replica.lag_seconds = 0.0 if not behind else (math.inf if age is None else max(0.0, float(age)))
        if not replica.up:
            log.info("%s is up", replica.name)
        replica.up, replica.problem = True, None

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # never let the monitor die: a dead monitor would freeze every replica's state
                log.exception("replica check failed")
            await asyncio.sleep(self.check_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for replica in self.replicas:
            await replica.pool.close()
        self.marks.close()

    # ---- writes ----------------------------------------------------------------------------------------

    async def mark_write(self, firm_id: int, key_id: int) -> int:
        """After a request of this key that may have written: its reads must now see the primary's present
        (returned, for the caller to carry to other hosts)."""
        position = await self._primary_now()
        self.marks.mark(firm_id, key_id, position)
        return position

    async def _primary_now(self) -> int:
        """The primary's WAL position now; the router's figure is raised to it (a read carrying a position
        no further than that is then known to be a real one, without asking again)."""
        now = int(await self.primary.fetchval(PRIMARY_POSITION))
        self.primary_position = max(self.primary_position, now)
        return now

    # ---- reads -----------------------------------------------------------------------------------------

    def serves(self, replica: Replica) -> bool:
        """Whether `replica` takes reads: up, and within the lag bound."""
        return replica.up and replica.lag_seconds <= self.max_lag_seconds

    def usable(self) -> list[Replica]:
        """Replicas that serve reads, in this read's round-robin order."""
        found = [r for r in self.replicas if self.serves(r)]
        if len(found) > 1:
            start = next(self._turn) % len(found)
            found = found[start:] + found[:start]
        return found

    @contextlib.asynccontextmanager
    async def reading(
        self, firm_id: int, key_id: int | None, acquire_seconds: float, *, at_least: int = 0
    ) -> AsyncIterator[tuple[asyncpg.Connection, Routed]]:
        """A connection for one read of this key: a replica's when one is usable and has replayed the key's
        last write, else the primary's, within `acquire_seconds` (then TimeoutError: a 503). The caller
        starts the transaction."""
        async with asyncio.timeout(acquire_seconds):
            routed = await self._route(firm_id, key_id, at_least)
            pool = self.primary if routed.replica is None else routed.replica.pool
            conn = routed.conn
            if conn is None:
                try:
                    conn = await pool.acquire()
                except AWAY as exc:
                    if routed.replica is None:
                        raise
                    routed.replica.lost(exc)
                    routed, pool = Routed("primary", "replica_failed"), self.primary
                    conn = await pool.acquire()
        try:
            yield cast(asyncpg.Connection, conn), routed
        except AWAY as exc:
            if routed.replica is None or not replica_at_fault(exc):
                raise
            if unavailable(exc):
                routed.replica.lost(exc)
            why = f"{routed.replica.name} failed during the read ({type(exc).__name__})"
            raise ReplicaFailed(why) from exc
        finally:
            await pool.release(conn)

    async def _route(self, firm_id: int, key_id: int | None, at_least: int) -> Routed:
        candidates = self.usable()
        if not candidates:
            return Routed("primary", "no_replica")
        if at_least > self.primary_position:  # past the monitor's last look: a fresh write, or a made-up one
            at_least = await self._no_further_than_the_primary(at_least)
        need = max(at_least, 0 if key_id is None else self.marks.get(firm_id, key_id))
        for replica in candidates:
            if replica.replayed >= need:
                return Routed("replica", "current", replica)
        return await self._wait_for(candidates[0], need)

    async def _no_further_than_the_primary(self, position: int) -> int:
        """A position a caller sent (`WealthGate-Read-After`), cut to the primary's present: every real
        write's is at most that, and a made-up one beyond it must not make every read wait in vain (with the
        replica polled meanwhile) and fall to the primary. The primary away, or not answering within the
        replica wait bound: left as it is."""
        try:
            async with asyncio.timeout(self.wait_seconds):
                now = await self._primary_now()
        except AWAY:  # (TimeoutError is an OSError)
            return position
        return min(position, now)

    async def _wait_for(self, replica: Replica, need: int) -> Routed:
        """Ask the replica itself (the monitor's figure may be old) and wait up to `wait_seconds` for it to
        replay past `need`; the primary otherwise."""
        deadline = time.monotonic() + self.wait_seconds
        try:
            conn = await replica.pool.acquire()
        except AWAY as exc:
            replica.lost(exc)
            return Routed("primary", "replica_failed")
        try:
            while True:
                replayed = int(await conn.fetchval(_REPLAYED))
                replica.replayed = max(replica.replayed, replayed)
                if replayed >= need:
                    return Routed("replica", "waited", replica, conn)
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(POLL_SECONDS)
        except AWAY as exc:
            replica.lost(exc)
        await replica.pool.release(conn)
        return Routed("primary", "behind")


class KeyLookups:
    """Where API keys are looked up (auth/authenticate.py): the primary, and while it cannot be reached a
    usable replica, so a primary outage does not turn every agent read into a 503 once the key cache
    expires. No revocation can commit while the primary is away; one committed before is on a replica
    within its lag."""

    def __init__(self, router: ReadRouter) -> None:
        self.router = router

    async def fetchrow(self, query: str, *args: object) -> asyncpg.Record | None:
        try:
            return await self.router.primary.fetchrow(query, *args)
        except AWAY as exc:
            replicas = self.router.usable()
            if not replicas or not unavailable(exc):
                raise
            return await replicas[0].pool.fetchrow(query, *args)


async def open_router(
    primary: asyncpg.Pool,
    replica_urls: list[str],
    marks_path: Path,
    *,
    pool_max: int,
    max_lag_seconds: float,
    wait_seconds: float,
    check_seconds: float,
) -> ReadRouter:
    """The router of this worker: a pool per replica (connections opened on first use, so a replica that is
    down at start-up is only skipped), the host's write marks, one check done and the monitor started."""
    system_id = int(await primary.fetchval(SYSTEM_ID))
    replicas = [
        Replica(f"replica-{i}", await create_pool(url, min_size=0, max_size=pool_max))
        for i, url in enumerate(replica_urls, start=1)
    ]
    router = ReadRouter(
        primary=primary,
        replicas=replicas,
        marks=WriteMarks(marks_path, system_id),
        max_lag_seconds=max_lag_seconds,
        wait_seconds=wait_seconds,
        check_seconds=check_seconds,
    )
    await router.check()
    router.start()
    return router
