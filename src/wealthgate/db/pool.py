"""asyncpg pools and the unit of work. Services take a connection; only the unit of work commits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
import orjson

from wealthgate.db import urls
from wealthgate.db.reach import reaching

log = logging.getLogger(__name__)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace: the same document always gives the same text (and hash)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


APP_ROLE = "wealthgate_app"
_ASSUME_ROLE = """
SELECT pg_has_role(current_user, $1, 'MEMBER') FROM pg_roles WHERE rolname = $1
"""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=canonical_json, decoder=orjson.loads, schema="pg_catalog")
    # Run with the least-privilege role (no UPDATE/DELETE/TRUNCATE on audit tables) when it exists.
    if await conn.fetchval(_ASSUME_ROLE, APP_ROLE):
        await conn.execute(f"SET ROLE {APP_ROLE}")
    else:
        log.warning(
            "role %s is missing: running with the login role's privileges (docs/operations.md)", APP_ROLE
        )


async def _init_owner(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=canonical_json, decoder=orjson.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset query (UNLISTEN, RESET ALL, ...): one round trip saved per
    request. Safe because wealthgate never changes session state on pooled connections: settings are
    `SET LOCAL`, locks are transaction-scoped, and asyncpg still rolls back any transaction left open."""


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """The service's pool; a database that cannot be reached is one `DatabaseUnreachable` line naming the
    host and the setting (db/reach.py), never the password."""
    with reaching(url):
        pool = await asyncpg.create_pool(
            urls.plain(url),
            min_size=min_size,
            max_size=max_size,
            init=_init_connection,
            reset=_keep_session,
            server_settings={"application_name": "wealthgate"},
        )
    if pool is None:  # pragma: no cover - asyncpg returns None only when used without await
        raise RuntimeError("could not create the database pool")
    return pool


async def connect(url: str, *, as_owner: bool = False) -> asyncpg.Connection:
    """One connection set up like the pool's, for the CLI; `as_owner` keeps the login role (tests)."""
    with reaching(url):
        conn = await asyncpg.connect(urls.plain(url), server_settings={"application_name": "wealthgate-cli"})
    await (_init_owner(conn) if as_owner else _init_connection(conn))
    return conn


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One transaction per use case: everything inside commits together, or nothing does."""
    async with pool.acquire() as conn, conn.transaction():
        # The pool hands out a proxy that forwards every Connection method; services are typed on Connection.
        yield cast(asyncpg.Connection, conn)
