"""Alembic, driven from code: `wealthgate db upgrade`, start-up migration, and the drift check.

Upgrades run under a PostgreSQL advisory lock (`MIGRATION_LOCK`, taken on a connection of its own), so any
number of processes may start on one database at once: the first migrates, the others wait for it and then
find the schema at head. Without it two `serve` processes on an empty database both created the first
revision's tables and one died with an IntegrityError. Advisory locks belong to one database, so separate
databases on one server never wait for each other; the lock is a session lock, released when its connection
closes, so a migrator killed mid-way frees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from wealthgate.db import urls

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_lock's key for migrations: a fixed 64-bit number ("wgmigrat" in ASCII), never to change.
MIGRATION_LOCK = int.from_bytes(b"wgmigrat", "big", signed=True)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", urls.sqlalchemy(url).replace("%", "%%"))
    return cfg


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Hold the database's migration lock (waiting for whoever holds it) for the duration of the block."""
    with psycopg.connect(urls.plain(url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; concurrent callers on one database migrate once, one at a time."""
    with migration_lock(url):
        command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    with migration_lock(url):
        command.downgrade(alembic_config(url), revision)


def drift(url: str) -> list[Any]:
    """Differences between the models and the migrated database; empty when they agree."""
    from wealthgate.db.models import metadata

    engine = create_engine(urls.sqlalchemy(url))
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()
