"""Writing the demo book and reference data into PostgreSQL (COPY, one transaction, idempotent)."""

from __future__ import annotations

from dataclasses import astuple, fields
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.auth.principal import operator_actor
from wealthgate.demo import book as demo_book
from wealthgate.demo.prices import load as load_prices
from wealthgate.demo.securities import SECURITIES
from wealthgate.firms.service import add_standard_models, create_advisor, create_firm
from wealthgate.people.users import create_user

IDENTITY_TABLES = (
    "firms",
    "advisors",
    "clients",
    "accounts",
    "transactions",
    "positions",
    "model_portfolios",
)


async def _copy_new(
    conn: asyncpg.Connection, table: str, columns: list[str], records: list[tuple[Any, ...]], conflict: str
) -> int:
    """COPY into a temporary twin of `table`, then insert the rows not already there. Returns rows added.
    Identifiers cannot be bind parameters: `table`, `columns` and `conflict` are this module's constants."""
    staging = f"staging_{table}"
    await conn.execute(f"CREATE TEMP TABLE {staging} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
    await conn.copy_records_to_table(staging, records=records, columns=columns)
    cols = ", ".join(columns)
    insert = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {staging} ON CONFLICT {conflict} DO NOTHING"  # noqa: S608  (identifiers from this module's constants)
    status: str = await conn.execute(insert)
    await conn.execute(f"DROP TABLE {staging}")
    return int(status.rsplit(" ", 1)[-1])


async def load_reference_data(conn: asyncpg.Connection) -> int:
    """Securities and daily prices; re-running adds only what is missing. Returns price rows added."""
    columns = [f.name for f in fields(SECURITIES[0])]
    await _copy_new(conn, "securities", columns, [astuple(s) for s in SECURITIES], "(symbol)")
    return await _copy_new(
        conn, "prices", ["symbol", "price_date", "close"], load_prices().rows(), "(symbol, price_date)"
    )


async def sync_identities(conn: asyncpg.Connection) -> None:
    """After explicit-id inserts, move each identity past the largest id so later inserts do not collide."""
    for table in IDENTITY_TABLES:
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        sync = f"SELECT setval({sequence}, coalesce(max(id), 0) + 1, false) FROM {table}"  # noqa: S608  (IDENTITY_TABLES)
        await conn.execute(sync)


async def load_demo_book(conn: asyncpg.Connection, *, operator: str) -> bool:
    """Load the demo book into an empty database. Returns False (and changes nothing) if firms exist.
    Firms, advisors and users are made by the onboarding services (their ids are the book's own)."""
    if await conn.fetchval("SELECT count(*) FROM firms"):
        return False
    await load_reference_data(conn)
    b = demo_book.build()
    for firm_id, name in demo_book.FIRMS:  # each with its model portfolios and policy v1
        await create_firm(
            conn, name=name, firm_id=firm_id, actor_for_firm=lambda f: operator_actor(f, operator)
        )
    for firm_id, advisor_id, name, email in demo_book.ADVISORS:
        await create_advisor(
            conn,
            firm_id=firm_id,
            advisor_id=advisor_id,
            name=name,
            email=email,
            actor=operator_actor(firm_id, operator),
        )
    await sync_identities(conn)
    for firm_id, email, name, role, advisor_of_user in demo_book.DEMO_USERS:
        await create_user(
            conn,
            firm_id=firm_id,
            email=email,
            name=name,
            role=role,
            advisor_id=advisor_of_user,
            password=demo_book.DEMO_PASSWORD,
            actor=operator_actor(firm_id, operator),
        )
    for table, rows in (
        ("clients", b.clients),
        ("accounts", b.accounts),
        ("transactions", b.transactions),
        ("positions", b.positions),
        ("lots", b.lots),
    ):
        columns = [f.name for f in fields(rows[0])]
        await conn.copy_records_to_table(table, records=[astuple(r) for r in rows], columns=columns)
    await sync_identities(conn)
    for firm_id, _name in demo_book.FIRMS:
        await record(
            conn,
            firm_id=firm_id,
            actor=operator_actor(firm_id, operator),
            action="demo_book.loaded",
            target_type="firm",
            target_id=firm_id,
            details={
                "clients": sum(1 for c in b.clients if c.firm_id == firm_id),
                "transactions": sum(1 for t in b.transactions if t.firm_id == firm_id),
            },
        )
    return True


async def load_model_portfolios(conn: asyncpg.Connection, firm_ids: list[int]) -> None:
    """The standard model portfolios for each firm (a new firm gets them from `firms.service.create_firm`)."""
    for firm_id in firm_ids:
        await add_standard_models(conn, firm_id)
