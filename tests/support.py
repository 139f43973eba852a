"""Small helpers shared by tests: run async work against a test database, make keys, read rows."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from wealthgate.auth.service import create_key
from wealthgate.db.pool import connect

T = TypeVar("T")


def with_conn(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]], *, as_owner: bool = True) -> T:
    """Run `work` on one connection; tests act as the database owner (a DBA) unless told otherwise."""

    async def run() -> T:
        conn = await connect(url, as_owner=as_owner)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def fetchval(url: str, sql: str, *args: Any) -> Any:
    return with_conn(url, lambda c: c.fetchval(sql, *args))


def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    return with_conn(url, lambda c: c.fetch(sql, *args))


def execute(url: str, sql: str, *args: Any) -> str:
    return with_conn(url, lambda c: c.execute(sql, *args))


def make_key(
    url: str, firm: int, scopes: list[str], *, advisor: int | None = None, name: str = "test"
) -> str:
    async def work(conn: asyncpg.Connection) -> str:
        async with conn.transaction():
            created = await create_key(
                conn,
                firm_id=firm,
                scopes=scopes,
                name=name,
                owner=name,
                advisor_id=advisor,
                actor={"type": "operator", "owner": "pytest", "firm_id": firm},
            )
        return created.secret_key

    return with_conn(url, work)
