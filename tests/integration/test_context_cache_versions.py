"""Migration 0011's stamps, as the service role sees them, and the context cache against them: bumped in the
writing transaction (once per transaction, once per client for a bulk statement), left alone by a change that
changes nothing, and a cached read that always equals the uncached statement in the same snapshot (a property
test over random writes), also with a writer committing between concurrent reads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import with_conn
from wealthgate.auth.principal import Principal
from wealthgate.clients import service
from wealthgate.clients.context_cache import RenderedContexts
from wealthgate.db.pool import connect, create_pool

FIRM = 1  # the demo book: firm 1 has clients 1..; accounts 1 and 2 belong to clients of firm 1
READER = Principal(key_id=None, firm_id=FIRM, advisor_id=None, scopes=frozenset(), name="t", owner="t")


def as_app(db_url: str, work: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    """`work` on a connection set up like the service's (SET ROLE wealthgate_app): the triggers must work
    with the role's privileges."""
    return with_conn(db_url, work, as_owner=False)


async def version(conn: asyncpg.Connection, client_id: int) -> int:
    found: int = await conn.fetchval(
        "SELECT version FROM client_versions WHERE firm_id = $1 AND client_id = $2", FIRM, client_id
    )
    return found


async def shared(conn: asyncpg.Connection) -> int:
    found: int = await conn.fetchval("SELECT epoch FROM context_epoch")
    return found


def test_every_client_has_a_version_and_new_clients_get_one(db_url: str) -> None:
    async def work(conn: asyncpg.Connection) -> None:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM clients c LEFT JOIN client_versions v"
                " ON v.firm_id = c.firm_id AND v.client_id = c.id WHERE v.version IS NULL"
            )
            == 0
        )
        new_id = await conn.fetchval(
            "INSERT INTO clients (firm_id, advisor_id, name, date_of_birth, risk_tolerance,"
            " investment_objective, time_horizon, liquidity_needs, annual_income, net_worth,"
            " liquid_net_worth, tax_status, investment_experience) SELECT firm_id, advisor_id, 'New',"
            " date_of_birth, risk_tolerance, investment_objective, time_horizon, liquidity_needs,"
            " annual_income, net_worth, liquid_net_worth, tax_status, investment_experience"
            " FROM clients WHERE firm_id = 1 AND id = 1"
            " RETURNING id"
        )
        assert await version(conn, new_id) > await version(conn, 1)

    as_app(db_url, work)


def test_a_transaction_bumps_a_client_once_and_a_bulk_statement_each_client(db_url: str) -> None:
    async def work(conn: asyncpg.Connection) -> None:
        owners = await conn.fetch("SELECT id, client_id FROM accounts WHERE firm_id = 1 ORDER BY id LIMIT 40")
        clients = sorted({r["client_id"] for r in owners})
        assert len(clients) >= 2
        before = {c: await version(conn, c) for c in clients}
        async with conn.transaction():
            await conn.execute(
                "UPDATE accounts SET cash_balance = cash_balance + 1 WHERE firm_id = 1 AND id = ANY($1)",
                [r["id"] for r in owners],
            )
            during = {c: await version(conn, c) for c in clients}
            assert all(during[c] > before[c] for c in clients)  # each bumped by the one statement
            await conn.execute(
                "UPDATE accounts SET cash_balance = cash_balance - 1 WHERE firm_id = 1 AND id = ANY($1)",
                [r["id"] for r in owners],
            )
            assert {c: await version(conn, c) for c in clients} == during  # not again in this transaction
        async with conn.transaction():
            await conn.execute("UPDATE clients SET name = name WHERE firm_id = 1 AND id = $1", clients[0])
        assert await version(conn, clients[0]) > during[clients[0]]  # a new transaction bumps again
        assert await version(conn, clients[1]) == during[clients[1]]  # and only the client it touched

    as_app(db_url, work)


def test_a_rolled_back_change_leaves_the_stamp(db_url: str) -> None:
    async def work(conn: asyncpg.Connection) -> None:
        before = await version(conn, 1)
        tx = conn.transaction()
        await tx.start()
        await conn.execute("UPDATE clients SET name = 'X' WHERE firm_id = 1 AND id = 1")
        assert await version(conn, 1) != before
        await tx.rollback()
        assert await version(conn, 1) == before

    as_app(db_url, work)


def test_securities_bump_the_shared_epoch_only_when_something_changes(db_url: str) -> None:
    async def work(conn: asyncpg.Connection) -> None:
        start = await shared(conn)
        await conn.execute("UPDATE securities SET sector = sector WHERE symbol = 'AAPL'")
        await conn.execute("INSERT INTO prices VALUES ('AAPL', '1985-01-02', 1.5)")  # a back-fill
        assert await shared(conn) == start
        await conn.execute("INSERT INTO prices VALUES ('AAPL', '2018-04-12', 175.5)")  # a new last price
        moved = await shared(conn)
        assert moved > start
        await conn.execute("UPDATE securities SET name = name || ' Inc' WHERE symbol = 'AAPL'")
        assert await shared(conn) > moved

    as_app(db_url, work)


def test_model_portfolios_bump_their_firm_only(db_url: str) -> None:
    async def epochs(conn: asyncpg.Connection) -> dict[int, int]:
        return {r["firm_id"]: r["models"] for r in await conn.fetch("SELECT * FROM firm_context_epochs")}

    async def work(conn: asyncpg.Connection) -> None:
        before = await epochs(conn)
        assert {1, 2} <= set(before)
        await conn.execute("UPDATE model_portfolio_weights SET band = band WHERE firm_id = 2")
        after = await epochs(conn)
        assert after[2] > before[2]
        assert after[1] == before[1]

    as_app(db_url, work)


def test_a_truncate_bumps_the_shared_epoch(db_url: str) -> None:
    async def work(conn: asyncpg.Connection) -> None:
        start = await shared(conn)
        await conn.execute("TRUNCATE model_portfolio_weights")
        assert await shared(conn) > start

    with_conn(db_url, work)  # as the owner: the service role may not TRUNCATE


async def cached_and_uncached(
    conn: asyncpg.Connection, cache: RenderedContexts, client_id: int, summary: bool
) -> tuple[bytes, bytes]:
    """The cached read and the full statement, in one read-only REPEATABLE READ snapshot (as ReadConn)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        cached = await service.context_document(conn, READER, client_id, summary=summary, cache=cache)
        plain = await service.context_json(conn, READER, client_id, summary=summary)
    return cached, plain.encode()


WRITES = {
    "cash": "UPDATE accounts SET cash_balance = cash_balance + 7 WHERE firm_id = 1 AND client_id = $1",
    "position": "UPDATE positions SET quantity = quantity + 1 WHERE firm_id = 1 AND client_id = $1",
    "profile": "UPDATE clients SET liquidity_needs ="
    " CASE liquidity_needs WHEN 'low' THEN 'high' ELSE 'low' END WHERE firm_id = 1 AND id = $1",
    "price": "INSERT INTO prices (symbol, price_date, close)"
    " SELECT symbol, last_price_date + 1, last_price + 1 FROM securities"
    " WHERE symbol = (SELECT min(symbol) FROM positions WHERE firm_id = 1 AND client_id = $1)",
    "model": "UPDATE model_portfolio_weights SET band = CASE WHEN band > 0.5 THEN 0.01 ELSE 0.9 END"
    " WHERE firm_id = 1 AND $1::bigint IS NOT NULL",
    "transaction": "INSERT INTO transactions (firm_id, client_id, account_id, trade_date, type, amount)"
    " SELECT firm_id, client_id, id, '2018-04-11', 'interest', 0.25 FROM accounts"
    " WHERE firm_id = 1 AND client_id = $1 ORDER BY id LIMIT 1",
}
STEPS = st.lists(
    st.tuples(st.sampled_from([*WRITES, "read"]), st.sampled_from([1, 2, 3]), st.booleans()),
    min_size=1,
    max_size=25,
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])  # one database
@given(steps=STEPS)
def test_a_cached_read_is_always_the_uncached_document(
    db_url: str, steps: list[tuple[str, int, bool]]
) -> None:
    """Random writes among reads of three clients (with and without the summary): every read through the cache
    equals the full statement in the same snapshot, and the cache is used (hits), not bypassed."""

    async def work(conn: asyncpg.Connection) -> None:
        cache = RenderedContexts(entries=4, max_bytes=2**20)
        for action, client_id, summary in steps:
            if action != "read":
                await conn.execute(WRITES[action], client_id)
            for reader in (1, 2, 3):
                cached, plain = await cached_and_uncached(conn, cache, reader, summary)
                assert cached == plain, (action, client_id, reader, summary)
        hits = cache.hits
        for reader in (1, 2, 3):  # nothing changed since the last reads: all from the cache
            cached, plain = await cached_and_uncached(conn, cache, reader, steps[-1][2])
            assert cached == plain
        assert cache.hits == hits + 3

    as_app(db_url, work)


def test_a_writer_committing_between_reads_never_leaves_a_stale_document(db_url: str) -> None:
    """Readers hammer one client through a shared cache while a writer commits cash changes; after each
    commit, a read that starts then shows the committed cash, whatever the readers stored meanwhile."""

    async def cash_of(document: bytes) -> Decimal:
        import json

        return Decimal(json.loads(document)["totals"]["cash"])

    async def run() -> None:
        pool = await create_pool(db_url, min_size=4, max_size=6)
        writer = await connect(db_url)
        cache = RenderedContexts(entries=16, max_bytes=2**20)
        done = asyncio.Event()

        async def reader() -> None:
            while not done.is_set():
                async with pool.acquire() as conn:
                    await cached_and_uncached(conn, cache, 1, False)

        async def read_now() -> bytes:
            async with pool.acquire() as conn:
                cached, plain = await cached_and_uncached(conn, cache, 1, False)
            assert cached == plain
            return cached

        try:
            readers = [asyncio.create_task(reader()) for _ in range(4)]
            for _ in range(30):
                await asyncio.sleep(0)  # let the readers run between commits
                expected = await writer.fetchval(
                    "UPDATE accounts SET cash_balance = cash_balance + 1 WHERE firm_id = 1"
                    " AND id = (SELECT min(id) FROM accounts WHERE firm_id = 1 AND client_id = 1) RETURNING"
                    " (SELECT sum(cash_balance) + 1 FROM accounts WHERE firm_id = 1 AND client_id = 1)"
                )
                assert await cash_of(await read_now()) == Decimal(expected)
            done.set()
            await asyncio.gather(*readers)
            assert cache.hits > 0
        finally:
            await writer.close()
            await pool.close()

    asyncio.run(run())
