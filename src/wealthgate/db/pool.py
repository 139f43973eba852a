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
from wealthgate.settings import Settings

log = logging.getLogger(__name__)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace: the same document always gives the same text (and hash)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


APP_ROLE = "wealthgate_app"
_ASSUME_ROLE = """
SELECT pg_has_role(current_user, $1, 'MEMBER') FROM pg_roles WHERE rolname = $1
"""


async def _codecs(conn: asyncpg.Connection) -> None:
    """JSON in and out as the service writes it (canonical) and reads it (orjson): every connection's."""
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=canonical_json, decoder=orjson.loads, schema="pg_catalog")


async def _init_connection(conn: asyncpg.Connection) -> None:
    await _codecs(conn)
    # Run with the least-privilege role (no UPDATE/DELETE/TRUNCATE on audit tables) when it exists.
    if await conn.fetchval(_ASSUME_ROLE, APP_ROLE):
        await conn.execute(f"SET ROLE {APP_ROLE}")
    else:
        log.warning(
            "role %s is missing: running with the login role's privileges (docs/operations.md)", APP_ROLE
        )


class PooledRoleError(RuntimeError):
    """The pooled URL's sessions do not run as the app role: the service refuses to start."""


_POOLED_ROLE = """
SELECT current_user::text, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)
"""


async def _init_pooled(conn: asyncpg.Connection) -> None:
    """A connection to a transaction-mode pooler (PgBouncer) changes no session state: a `SET ROLE` would
    stay on whichever server connection ran it and be missing on the others, so some transactions would run
    with the login role's rights. The login role's sessions must start as the app role instead
    (`ALTER ROLE <login> SET role = 'wealthgate_app'`: applied to every server connection the pooler opens,
    kept by `RESET ALL` and `DISCARD ALL`), or the pooler's `connect_query` must set it. This checks it,
    and refuses to start rather than run some requests without least privilege. The type codecs are
    client-side; their introspection is one unnamed statement."""
    await _codecs(conn)
    current, app_role_exists = cast(asyncpg.Record, await conn.fetchrow(_POOLED_ROLE, APP_ROLE))
    if not app_role_exists:
        log.warning(
            "role %s is missing: running with the login role's privileges (docs/operations.md)", APP_ROLE
        )
    elif current != APP_ROLE:
        raise PooledRoleError(
            f"database_pooled: sessions of the pooled database URL run as {current}, not {APP_ROLE}; give "
            f"the pooler's login role `ALTER ROLE <login> SET role = '{APP_ROLE}'` (docs/scaling.md)"
        )


def session_url(settings: Settings, url: str) -> str:
    """Where work that needs a PostgreSQL session of its own connects (the LISTEN of key revocations, the
    checkpoint timer's session advisory lock, migrations under their advisory lock, the CLI's connection
    with its statement cache): `database_direct_url` when set, else `url`. A pooled `url` without a direct
    one is refused: through a transaction-mode pooler a LISTEN hears nothing and a session lock stays held on
    a server connection nobody owns."""
    if settings.database_direct_url:
        return urls.plain(settings.database_direct_url)
    if settings.database_pooled:
        raise ValueError(
            "WEALTHGATE_DATABASE_POOLED needs WEALTHGATE_DATABASE_DIRECT_URL: a direct PostgreSQL URL for "
            "LISTEN, advisory locks and migrations (docs/scaling.md)"
        )
    return url


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset query (UNLISTEN, RESET ALL, ...): one round trip saved per
    request. Safe because wealthgate never changes session state on pooled connections: settings are
    `SET LOCAL`, locks are transaction-scoped, and asyncpg still rolls back any transaction left open."""


async def create_pool(
    url: str, *, min_size: int = 2, max_size: int = 10, pooled: bool = False
) -> asyncpg.Pool:
    """The service's pool; a database that cannot be reached is one `DatabaseUnreachable` line naming the
    host and the setting (db/reach.py), never the password.

    `pooled`: `url` is a transaction-mode pooler (PgBouncer), so consecutive transactions of one asyncpg
    connection may run on different server connections. asyncpg's statement cache (named prepared
    statements, prepared on one server connection and executed on another: "prepared statement
    __asyncpg_stmt_N__ does not exist") is off: every statement is an unnamed one, parsed, described, bound
    and executed in one exchange that the pooler keeps on one server connection (asyncpg sends Flush, not
    Sync, between describe and bind). And no session state is set (`_init_pooled`)."""
    with reaching(url):
        pool = await asyncpg.create_pool(
            urls.plain(url),
            min_size=min_size,
            max_size=max_size,
            init=_init_pooled if pooled else _init_connection,
            reset=_keep_session,
            server_settings={"application_name": "wealthgate"},
            statement_cache_size=0 if pooled else 100,  # 100: asyncpg's default
        )
    if pool is None:  # pragma: no cover - asyncpg returns None only when used without await
        raise RuntimeError("could not create the database pool")
    return pool


@asynccontextmanager
async def session_pool(pool: asyncpg.Pool, settings: Settings, url: str) -> AsyncIterator[asyncpg.Pool]:
    """The pool for work that holds session state across transactions (the checkpoint timer's session
    advisory lock): `pool` itself, unless the database URL is a pooler; then one connection at most, opened
    on the direct URL when first needed."""
    if not settings.database_pooled:
        yield pool
        return
    direct = await create_pool(session_url(settings, url), min_size=0, max_size=1)
    try:
        yield direct
    finally:
        await direct.close()


async def connect(
    url: str, *, as_owner: bool = False, application_name: str = "wealthgate-cli"
) -> asyncpg.Connection:
    """One connection set up like the pool's, for the CLI (and a worker's revocation listener); `as_owner`
    keeps the login role (tests)."""
    with reaching(url):
        conn = await asyncpg.connect(urls.plain(url), server_settings={"application_name": application_name})
    await (_codecs(conn) if as_owner else _init_connection(conn))
    return conn


@asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One transaction per use case: everything inside commits together, or nothing does."""
    async with pool.acquire() as conn, conn.transaction():
        # The pool hands out a proxy that forwards every Connection method; services are typed on Connection.
        yield cast(asyncpg.Connection, conn)
