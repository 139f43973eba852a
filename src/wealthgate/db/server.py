"""Which PostgreSQL to use: DATABASE_URL when set, otherwise the embedded server in WEALTHGATE_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from wealthgate.db import urls
from wealthgate.db.embedded import start
from wealthgate.settings import Settings

EMBEDDED_DBNAME = "wealthgate"


def ensure_database(server_url: str, dbname: str) -> None:
    """Create `dbname` on the server behind `server_url` unless it exists."""
    with psycopg.connect(urls.plain(server_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield a libpq URL for the configured database, starting (and later releasing) the embedded one."""
    if settings.database_url:
        yield urls.plain(settings.database_url)
        return
    pg = start(settings.pgdata)
    try:
        ensure_database(pg.url, EMBEDDED_DBNAME)
        yield pg.url_for(EMBEDDED_DBNAME)
    finally:
        pg.stop()
