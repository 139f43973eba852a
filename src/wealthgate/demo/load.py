"""Writing the demo book and reference data into PostgreSQL (COPY, one transaction, idempotent)."""

from __future__ import annotations

from dataclasses import astuple, fields
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.db.sql import Sql
from wealthgate.demo import book as demo_book
from wealthgate.demo.prices import load as load_prices
from wealthgate.demo.securities import SECURITIES
from wealthgate.suitability.policies import ensure_default

IDENTITY_TABLES = (
    "firms",
    "advisors",
    "clients",
    "accounts",
    "transactions",
    "positions",
    "model_portfolios",
)
_MODEL = Sql(
    "INSERT INTO model_portfolios (firm_id, risk_level, name)"
    " VALUES (:firm_id, :risk_level, :name) RETURNING id"
)
_WEIGHT = Sql(
    "INSERT INTO model_portfolio_weights (firm_id, model_portfolio_id, asset_class, target_weight, band)"
    " VALUES (:firm_id, :model_id, :asset_class, :target_weight::numeric, :band::numeric)"
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
    """Load the demo book into an empty database. Returns False (and changes nothing) if firms exist."""
    if await conn.fetchval("SELECT count(*) FROM firms"):
        return False
    await load_reference_data(conn)
    b = demo_book.build()
    await conn.copy_records_to_table("firms", records=list(demo_book.FIRMS), columns=["id", "name"])
    await conn.copy_records_to_table(
        "advisors", records=list(demo_book.ADVISORS), columns=["firm_id", "id", "name", "email"]
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
    await load_model_portfolios(conn, [firm_id for firm_id, _ in demo_book.FIRMS])
    await sync_identities(conn)
    for firm_id, _name in demo_book.FIRMS:
        operator_of_firm = {"type": "operator", "owner": operator, "firm_id": firm_id}
        await ensure_default(conn, firm_id, actor=operator_of_firm)  # policy v1, bands from the models
        await record(
            conn,
            firm_id=firm_id,
            actor=operator_of_firm,
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
    for firm_id in firm_ids:
        for risk, weights in demo_book.MODELS.items():
            name = f"{risk.replace('_', ' ').capitalize()} model"
            model_id: int = await _MODEL.fetchval(conn, firm_id=firm_id, risk_level=risk, name=name)
            await conn.executemany(
                _WEIGHT.text,
                [
                    _WEIGHT.args(
                        firm_id=firm_id, model_id=model_id, asset_class=cls, target_weight=tw, band=band
                    )
                    for cls, (tw, band) in weights.items()
                ],
            )
