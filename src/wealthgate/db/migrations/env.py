"""Alembic environment: online migrations over psycopg 3, metadata from every domain package."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from wealthgate.db import urls
from wealthgate.db.models import metadata

config = context.config
if not config.get_main_option("sqlalchemy.url"):
    # Run by hand through alembic.ini: the database comes from DATABASE_URL.
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL to the database Alembic should use")
    config.set_main_option("sqlalchemy.url", urls.sqlalchemy(url).replace("%", "%%"))


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
