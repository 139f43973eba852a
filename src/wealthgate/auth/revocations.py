"""Revocations reaching this worker's key cache: a LISTEN session on `REVOCATIONS`, kept up.

Each worker caches keys for `auth_cache_seconds` (auth/authenticate.py); a revocation commits with a NOTIFY,
and the listener forgets the revoked key at once. A listener that has lost its session (the database
restarted, a superuser terminated its backend, a network cut) would miss notifications, so while it is down
the cache is bypassed (`KeyCache.listening`): every request looks its key up, and a revocation is refused at
once, as when the listener is up. The listener reconnects every `retry_seconds`; back, it empties the cache
(it may have missed revocations while away) and the cache serves again.

A lost session is seen at once when its connection closes (asyncpg's termination listener), and within
`check_seconds` otherwise (a ping: a cut that leaves the socket open).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from wealthgate.auth.authenticate import REVOCATIONS, KeyCache
from wealthgate.errors import Unavailable

log = logging.getLogger(__name__)

_AWAY = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)  # a session lost, or not had
REVOCATION_LISTENER = "wealthgate-revocations"  # the listener's application_name (pg_stat_activity)
Connect = Callable[[], Awaitable[asyncpg.Connection]]


class RevocationListener:
    def __init__(
        self, connect: Connect, cache: KeyCache, *, retry_seconds: float = 1.0, check_seconds: float = 5.0
    ) -> None:
        self._connect = connect
        self.cache = cache
        self.retry_seconds = retry_seconds
        self.check_seconds = check_seconds
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def up(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def start(self) -> None:
        """Listen (a database that cannot be reached fails the start-up, as any other); then keep at it."""
        await self._listen()
        self._task = asyncio.create_task(self._keep())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.remove_termination_listener(self._on_termination)  # a closing service is not a lost listener
            await conn.close()

    async def _listen(self) -> None:
        conn = await self._connect()
        try:
            await conn.add_listener(REVOCATIONS, self.cache.on_revocation)
        except BaseException:
            await conn.close()
            raise
        conn.add_termination_listener(self._on_termination)
        self._conn = conn
        self._lost.clear()
        self.cache.clear()  # revocations made while no session listened were not heard
        self.cache.listening = True

    def _on_termination(self, conn: object) -> None:
        if conn is self._conn:  # not a connection given up on already
            self._down("its connection closed")

    def _down(self, why: str) -> None:
        if self.cache.listening:
            log.warning(
                "revocation listener lost (%s): keys are looked up on every request until it is back", why
            )
        self.cache.listening = False
        self.cache.clear()
        self._lost.set()

    async def _keep(self) -> None:
        while True:
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lost.wait(), timeout=self.check_seconds)
                if not self._lost.is_set():
                    await self._ping()
                    continue
                await self._reconnect()
            except Exception:  # a bug must not end the keeping: the cache stays bypassed until it listens
                log.exception("revocation listener: unexpected failure; trying again")
                self._down("an unexpected failure")
                await asyncio.sleep(self.retry_seconds)

    async def _ping(self) -> None:
        conn = self._conn
        try:
            if conn is None or conn.is_closed():
                raise ConnectionError("closed")
            await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout=self.check_seconds)
        except _AWAY as exc:
            self._down(f"{type(exc).__name__}")

    async def _reconnect(self) -> None:
        old, self._conn = self._conn, None
        if old is not None:
            old.remove_termination_listener(self._on_termination)
            old.terminate()  # closed already, or cut off: nothing to wait for
        while True:
            try:
                await self._listen()
            except (*_AWAY, Unavailable) as exc:  # Unavailable: what connect() raises for a database away
                log.debug("revocation listener: reconnecting failed (%r); retrying", exc)
                await asyncio.sleep(self.retry_seconds)
                continue
            log.info("revocation listener back: keys are cached again")
            return
