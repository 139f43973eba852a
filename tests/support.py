"""Small helpers shared by tests: run async work against a test database, make keys, read rows."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from wealthgate.audit import registry
from wealthgate.audit.keyring import Keyring
from wealthgate.auth.service import create_key
from wealthgate.db.pool import connect
from wealthgate.demo.load import load_demo_book
from wealthgate.firms.service import user_by_email
from wealthgate.people.users import create_user

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
    url: str,
    firm: int,
    scopes: list[str],
    *,
    advisor: int | None = None,
    name: str = "test",
    user: str | None = None,
) -> str:
    """A key's secret; with `user` (an email of the firm's user) the key acts for that person."""

    async def work(conn: asyncpg.Connection) -> str:
        async with conn.transaction():
            person = None if user is None else await user_by_email(conn, firm, user)
            created = await create_key(
                conn,
                firm_id=firm,
                scopes=scopes,
                name=name,
                owner=name,
                advisor_id=advisor,
                actor={"type": "operator", "owner": "pytest", "firm_id": firm},
                user_id=None if person is None else person.id,
            )
        return created.secret_key

    return with_conn(url, work)


def make_user(
    url: str, firm: int, email: str, role: str = "compliance", *, advisor: int | None = None
) -> int:
    """A user of the firm (no password: enough for a key to act for them); returns the id."""

    async def work(conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            made = await create_user(
                conn,
                firm_id=firm,
                email=email,
                name=email,
                role=role,
                advisor_id=advisor,
                password=None,
                actor={"type": "operator", "owner": "pytest", "firm_id": firm},
            )
        return made.id

    return with_conn(url, work)


def make_reviewer(url: str, firm: int, email: str, *, name: str | None = None) -> str:
    """A key that may review: compliance:review, acting for a new compliance user `email` of the firm."""
    make_user(url, firm, email)
    return make_key(url, firm, ["compliance:review"], name=name or email, user=email)


def mcp_tool_call(api: Any, key: str, name: str, arguments: Any, **headers: str) -> Any:
    """`tools/call` of `name` over the MCP endpoint (streamable HTTP at /mcp) of a TestClient `api`, with
    `key` and any extra `headers`; the HTTP answer (200 asserted: an MCP error travels inside it)."""
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    accept = {"Accept": "application/json, text/event-stream"}
    answer = api.post("/mcp", json=message, headers={"Authorization": f"Bearer {key}", **accept, **headers})
    assert answer.status_code == 200, answer.text
    return answer


def load_demo(url: str, ring: Keyring, operator: str) -> None:
    """Register `ring` and load the demo book into the migrated database at `url`, in one transaction."""

    async def load(conn: asyncpg.Connection) -> None:
        await registry.ensure(conn, ring)
        async with conn.transaction():
            await load_demo_book(conn, operator=operator)

    with_conn(url, load)
