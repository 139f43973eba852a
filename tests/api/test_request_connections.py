"""The typed connection dependencies (api/deps.py) as a route sees them, on the real pool of a real app.

`ReadConn` must be one read-only REPEATABLE READ transaction (every statement of a response sees one snapshot,
even while another connection commits in between); `WriteConn` must commit when the route returns, before
the response is sent, and roll back everything when the route raises.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from tests.support import fetch
from wealthgate.api import deps
from wealthgate.api.app import create_app
from wealthgate.api.deps import DbPool, ReadConn, WriteConn
from wealthgate.errors import Conflict
from wealthgate.settings import Settings

probe = APIRouter()


@probe.get("/probe/read")
async def read(conn: ReadConn, pool: DbPool) -> dict[str, Any]:
    first = await conn.fetchval("SELECT count(*) FROM firms")
    # another connection commits a new row between the two reads of this request
    async with pool.acquire() as other:
        await other.execute("INSERT INTO firms (name) VALUES ('probe ' || gen_random_uuid())")
    second = await conn.fetchval("SELECT count(*) FROM firms")
    settings = await conn.fetchrow(
        "SELECT current_setting('transaction_isolation') AS isolation,"
        " current_setting('transaction_read_only') AS read_only"
    )
    try:
        await conn.execute("CREATE TEMP TABLE probe_write (x int)")
        writable = True
    except asyncpg.ReadOnlySQLTransactionError:
        writable = False
    return {"first": first, "second": second, **dict(settings or {}), "writable": writable}


@probe.get("/probe/hold")
async def hold(pool: DbPool) -> dict[str, Any]:
    """Take every connection of the pool, then ask for a ReadConn as a route would: the wait is bounded."""
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        async for _conn in deps._read_conn(pool):
            return {"got": True}
    finally:
        for conn in held:
            await pool.release(conn)
    return {"got": False}


@probe.post("/probe/write")
async def write(conn: WriteConn, fail: bool = False) -> dict[str, Any]:
    await conn.execute("INSERT INTO firms (name) VALUES ($1)", f"probe firm {'failing' if fail else 'ok'}")
    if fail:
        raise Conflict("the route failed after writing")
    return {"in_transaction": conn.is_in_transaction()}


def _app(settings: Settings) -> TestClient:
    app = create_app(settings)
    app.include_router(probe)
    return TestClient(app, raise_server_exceptions=False)


def test_a_read_is_one_read_only_repeatable_read_snapshot(settings: Settings) -> None:
    with _app(settings) as api:
        answer = api.get("/probe/read").json()
    assert answer["isolation"] == "repeatable read"
    assert answer["read_only"] == "on"
    assert answer["first"] == answer["second"], "a row committed mid-request must not appear in the response"
    assert answer["writable"] is False


def test_a_write_commits_when_the_route_returns_and_rolls_back_when_it_raises(
    settings: Settings, db_url: str
) -> None:
    def probe_firms() -> int:
        return int(fetch(db_url, "SELECT count(*) FROM firms WHERE name LIKE 'probe firm %'")[0][0])

    with _app(settings) as api:
        ok = api.post("/probe/write")
        assert ok.status_code == 200
        assert ok.json() == {"in_transaction": True}
        assert probe_firms() == 1  # committed by the time the response arrived
        failed = api.post("/probe/write", params={"fail": "true"})
        assert failed.status_code == 409
        assert failed.headers["content-type"].startswith("application/problem+json")
    assert probe_firms() == 1, "the failed route's insert must be rolled back"


def test_a_request_that_cannot_get_a_connection_answers_503_instead_of_hanging(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pool with nothing to lend (a database that stopped answering holds every connection): after
    ACQUIRE_SECONDS the request is a 503 problem with Retry-After, and the pool lends again afterwards."""
    monkeypatch.setattr(deps, "ACQUIRE_SECONDS", 0.2)
    with _app(settings) as api:
        r = api.get("/probe/hold")
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert int(r.headers["retry-after"]) >= 1
        assert api.get("/probe/read").status_code == 200
