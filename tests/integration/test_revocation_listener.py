"""The revocation listener on a real PostgreSQL (auth/revocations.py): while its session is lost the key cache
is not used, it keeps trying to listen again, it notices a session cut without a close (its ping), and it
never caches a key read before a revocation it heard."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg

from tests.support import with_conn
from wealthgate.auth.authenticate import KeyCache
from wealthgate.auth.principal import Principal
from wealthgate.auth.revocations import RevocationListener
from wealthgate.db.pool import connect

PRINCIPAL = Principal(
    key_id=7, firm_id=1, advisor_id=None, scopes=frozenset({"clients:read"}), name="k", owner="tests"
)


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.02)


async def _terminate(superuser: asyncpg.Connection, victim: asyncpg.Connection) -> None:
    pid = victim.get_server_pid()
    assert await superuser.fetchval("SELECT pg_terminate_backend($1)", pid) is True


def _scenario(db_url: str, work: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
    with_conn(db_url, work)  # `work` gets a superuser's connection: the adversary with psql


def test_a_lost_session_bypasses_the_cache_until_the_listener_is_back(db_url: str) -> None:
    async def work(superuser: asyncpg.Connection) -> None:
        cache = KeyCache(ttl=3600)
        sessions: list[asyncpg.Connection] = []
        database_away = False

        async def listen() -> asyncpg.Connection:
            if database_away:
                raise OSError("connection refused")
            sessions.append(await connect(db_url))
            return sessions[-1]

        listener = RevocationListener(listen, cache, retry_seconds=0.05, check_seconds=60)
        await listener.start()
        try:
            cache.put(b"key", PRINCIPAL, cache.generation)
            assert cache.get(b"key") is PRINCIPAL
            database_away = True
            await _terminate(superuser, sessions[0])
            await _until(lambda: not cache.listening, "the lost session noticed")
            assert cache.get(b"key") is None, (
                "nothing served from the cache while revocations cannot be heard"
            )
            cache.put(b"key", PRINCIPAL, cache.generation)
            assert cache.get(b"key") is None, "nor kept"
            await asyncio.sleep(0.3)  # several retries, all refused
            assert not listener.up
            database_away = False
            await _until(lambda: cache.listening, "listening again")
            assert len(sessions) == 2
            assert listener.up
            cache.put(b"key", PRINCIPAL, cache.generation)
            assert cache.get(b"key") is PRINCIPAL  # cached again
            # the new session hears revocations
            await superuser.execute("SELECT pg_notify('wealthgate_keys', '1:7')")
            await _until(lambda: cache.get(b"key") is None, "the revocation heard by the new session")
        finally:
            await listener.close()
        assert sessions[1].is_closed()
        assert cache.listening, "closing the service is not losing the listener"

    _scenario(db_url, work)


def test_a_session_cut_without_a_close_is_found_by_the_ping(db_url: str) -> None:
    async def work(superuser: asyncpg.Connection) -> None:
        cache = KeyCache(ttl=3600)
        sessions: list[asyncpg.Connection] = []

        async def listen() -> asyncpg.Connection:
            sessions.append(await connect(db_url))
            return sessions[-1]

        listener = RevocationListener(listen, cache, retry_seconds=0.05, check_seconds=0.1)
        await listener.start()
        try:
            # As if the close never reached this side (a network cut): only the ping can tell.
            sessions[0].remove_termination_listener(listener._on_termination)
            await _terminate(superuser, sessions[0])
            await _until(
                lambda: len(sessions) == 2 and cache.listening, "the ping found it, and it listens again"
            )
            assert listener.up
        finally:
            await listener.close()

    _scenario(db_url, work)


def test_a_key_read_before_a_revocation_was_heard_is_not_cached() -> None:
    """A lookup began, the key's revocation was heard, then the lookup's answer arrived: not kept."""
    cache = KeyCache(ttl=3600)
    began = cache.generation
    cache.on_revocation(None, 0, "wealthgate_keys", "1:7")
    cache.put(b"key", PRINCIPAL, began)
    assert cache.get(b"key") is None
    cache.put(b"key", PRINCIPAL, cache.generation)
    assert cache.get(b"key") is PRINCIPAL
