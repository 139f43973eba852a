"""Which PostgreSQL to use: DATABASE_URL when set, otherwise the embedded server in WEALTHGATE_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from wealthgate.db import urls
from wealthgate.db.embedded import start
from wealthgate.db.reach import environment_setting, is_connection_failure, name_source, reaching, unreachable
from wealthgate.settings import Settings

EMBEDDED_DBNAME = "wealthgate"


def ensure_database(server_url: str, dbname: str) -> None:
    """Create `dbname` on the server behind `server_url` unless it exists."""
    with reaching(server_url):
        conn = psycopg.connect(urls.plain(server_url), autocommit=True)
    with conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


@contextmanager
def _named(url: str) -> Iterator[str]:
    """Yield `url`; psycopg (Alembic's driver) failing to connect to it in the block is one
    `DatabaseUnreachable` line naming the host and the setting, not a three-line driver message."""
    try:
        yield url
    except Exception as exc:
        if is_connection_failure(exc):
            raise unreachable(url, exc) from None
        raise


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield a libpq URL for the configured database, starting (and later releasing) the embedded one. A
    connection that cannot be made to it names the setting it came from and the host (db/reach.py)."""
    if settings.database_url:
        url = urls.plain(settings.database_url)
        name_source(url, environment_setting())
        with _named(url):
            yield url
        return
    pg = start(settings.pgdata)
    try:
        name_source(pg.url, "the embedded PostgreSQL in WEALTHGATE_HOME")
        ensure_database(pg.url, EMBEDDED_DBNAME)
        url = pg.url_for(EMBEDDED_DBNAME)
        name_source(url, "the embedded PostgreSQL in WEALTHGATE_HOME")
        with _named(url):
            yield url
    finally:
        pg.stop()
