"""The read path through a real PgBouncer in transaction mode (docs/scaling.md, "Connection pooling").

PgBouncer (Debian's package, 1.18: no tracking of prepared statements) sits in front of the test's own
database with two server connections, and the app runs with `database_pooled=True` (no statement cache, no
session state) and `database_direct_url` for what needs a session (the LISTEN of revocations, the checkpoint
timer's lock). It logs in as a role whose sessions start as `wealthgate_app` (`ALTER ROLE ... SET role`), so
least privilege holds on every server connection the pooler opens. With `database_pooled` off the same app
fails here: asyncpg's cached named statements are not on the server connection the next transaction gets
("prepared statement __asyncpg_stmt_N__ does not exist").
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import asyncpg
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from tests import pgbouncer
from tests.conftest import Keys
from tests.support import fetch, fetchval
from wealthgate.api.app import create_app
from wealthgate.audit.timer import make_checkpoints_once
from wealthgate.cli.common import connection, migrate, run_db
from wealthgate.db.pool import APP_ROLE, PooledRoleError
from wealthgate.settings import Settings, get_settings

POOL_SIZE = 2  # server connections PgBouncer may open for the app's login
APP_CONNECTIONS = 4  # the app's own pool: more client connections than server ones

READS = (
    "/clients/1/context",
    "/clients/1/portfolio",
    "/clients",
    "/clients/1/transactions",
    "/securities?q=apple",
)


def _admin(db_url: str, statement: sql.Composable) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[call-overload]


@pytest.fixture
def pooled_login(db_url: str) -> Iterator[str]:
    """A login role that is the app role: a member of it, and every session starts as it. Roles belong to
    the server, so each test has its own."""
    name = f"wg_pooled_{uuid.uuid4().hex[:10]}"
    role = sql.Identifier(name)
    _admin(db_url, sql.SQL("CREATE ROLE {} LOGIN").format(role))
    _admin(db_url, sql.SQL("GRANT {} TO {}").format(sql.Identifier(APP_ROLE), role))
    _admin(db_url, sql.SQL("ALTER ROLE {} SET role = {}").format(role, sql.Literal(APP_ROLE)))
    yield name
    _admin(db_url, sql.SQL("DROP ROLE IF EXISTS {}").format(role))


@pytest.fixture
def bouncer(db_url: str, pooled_login: str) -> Iterator[pgbouncer.Bouncer]:
    if pgbouncer.binary() is None:
        if os.geteuid() == 0 and Path("/etc/debian_version").exists():
            pytest.fail(
                "PgBouncer is missing but installable here: run `make pgbouncer` (apt-get install pgbouncer)"
            )
        pytest.skip(
            "PgBouncer is not installed and cannot be installed here (needs root on Debian: make pgbouncer)"
        )
    with pgbouncer.running(db_url, [pooled_login, "postgres"], pool_size=POOL_SIZE) as running:
        yield running


def _settings(url: str, db_url: str, tmp_path: Path, **more: Any) -> Settings:
    return Settings(
        database_url=url,
        database_pooled=True,
        database_direct_url=db_url,
        home=tmp_path / "home",
        auth_cache_seconds=0,
        db_pool_min=APP_CONNECTIONS,  # all four open at start: four clients of PgBouncer, for certain
        db_pool_max=APP_CONNECTIONS,
        audit_checkpoint_seconds=0,
        **more,
    )


@pytest.fixture
def pooled_api(
    bouncer: pgbouncer.Bouncer, pooled_login: str, db_url: str, tmp_path: Path
) -> Iterator[TestClient]:
    app = create_app(_settings(bouncer.url(pooled_login), db_url, tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _get(client: TestClient, path: str, key: str) -> tuple[int, Any]:
    r = client.get(path, headers=Keys.auth(key))
    return r.status_code, r.json()


def _transactions(bouncer: pgbouncer.Bouncer) -> int:
    """Transactions PgBouncer has carried to the test's database so far."""
    return sum(int(s["total_xact_count"]) for s in bouncer.show("STATS") if s["database"] == bouncer.dbname)


def _our_pool(bouncer: pgbouncer.Bouncer, show: str, user: str) -> list[dict[str, Any]]:
    return [r for r in bouncer.show(show) if r["database"] == bouncer.dbname and r["user"] == user]


def test_agent_reads_through_pgbouncer_answer_as_without_it(
    api: TestClient, pooled_api: TestClient, keys: Keys, bouncer: pgbouncer.Bouncer, pooled_login: str
) -> None:
    before = _transactions(bouncer)
    for path in READS:
        direct = _get(api, path, keys.agent)
        assert direct[0] == 200, direct
        assert _get(pooled_api, path, keys.agent) == direct, path
    # the pooled answers did go through PgBouncer, as its login, on at most its two server connections
    assert _transactions(bouncer) - before >= len(READS)
    assert len(_our_pool(bouncer, "CLIENTS", pooled_login)) == APP_CONNECTIONS
    assert 1 <= len(_our_pool(bouncer, "SERVERS", pooled_login)) <= POOL_SIZE


def test_writes_through_pgbouncer_are_read_back(
    api: TestClient, pooled_api: TestClient, keys: Keys, db_url: str
) -> None:
    held = fetchval(
        db_url, "SELECT quantity FROM positions WHERE firm_id = 1 AND account_id = 1 AND symbol = 'AAPL'"
    )
    buy = {"trade_date": "2018-04-12", "type": "buy", "symbol": "AAPL", "quantity": "10", "price": "172.44"}
    posted = pooled_api.post("/accounts/1/transactions", json=buy, headers=Keys.auth(keys.admin))
    assert posted.status_code == 201, posted.text
    status, portfolio = _get(pooled_api, "/clients/1/portfolio", keys.agent)
    assert status == 200
    [aapl] = [h for h in portfolio["holdings"] if h["account_id"] == 1 and h["symbol"] == "AAPL"]
    assert Decimal(aapl["quantity"]) == held + 10

    proposal = {
        "client_id": 1,
        "trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}],
        "rationale": "Add a little fixed income.",
        "agent": {"name": "test-agent", "model": None},
    }
    headers = {**Keys.auth(keys.agent), "Idempotency-Key": str(uuid.uuid4())}
    made = pooled_api.post("/recommendations", json=proposal, headers=headers)
    assert made.status_code == 201, made.text
    path = f"/recommendations/{made.json()['id']}"
    status, read = _get(pooled_api, path, keys.agent)
    assert status == 200
    assert read["id"] == made.json()["id"]
    assert read["trades"] == made.json()["trades"]
    assert (status, read) == _get(api, path, keys.agent)  # the same as read directly
    # both writes were audited in the database behind the pooler
    actions = {r["action"] for r in fetch(db_url, "SELECT action FROM audit_events WHERE firm_id = 1")}
    assert {"transaction.posted", "recommendation.proposed"} <= actions


def test_many_concurrent_requests_share_two_server_connections(
    api: TestClient,
    bouncer: pgbouncer.Bouncer,
    pooled_login: str,
    db_url: str,
    tmp_path: Path,
    keys: Keys,
) -> None:
    expected = {path: _get(api, path, keys.agent) for path in READS}
    reads_before = fetchval(db_url, "SELECT count(*) FROM audit_events WHERE action = 'client.read'")
    paths = [READS[i % len(READS)] for i in range(150)]
    app = create_app(_settings(bouncer.url(pooled_login), db_url, tmp_path))
    with (
        TestClient(app, raise_server_exceptions=False) as pooled,
        ThreadPoolExecutor(max_workers=8) as threads,
    ):
        answers = list(threads.map(lambda p: (p, _get(pooled, p, keys.agent)), paths))
        assert len(_our_pool(bouncer, "CLIENTS", pooled_login)) == APP_CONNECTIONS
        assert 1 <= len(_our_pool(bouncer, "SERVERS", pooled_login)) <= POOL_SIZE
    assert all(answer == expected[path] for path, answer in answers)
    # the audit records of those reads were written through the pooler too (flushed when the app stopped)
    per_client = sum(p.startswith("/clients/1/") for p in paths)
    reads_after = fetchval(db_url, "SELECT count(*) FROM audit_events WHERE action = 'client.read'")
    assert reads_after - reads_before >= per_client


def test_the_audit_export_streams_through_pgbouncer(
    api: TestClient, pooled_api: TestClient, keys: Keys, db_url: str
) -> None:
    """The export reads with a cursor, a named prepared statement even without a statement cache."""

    until = fetchval(db_url, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")

    def events(client: TestClient) -> list[Any]:
        r = client.get("/audit/export", params={"to": until}, headers=Keys.auth(keys.compliance))
        assert r.status_code == 200, r.text
        return [doc for doc in map(json.loads, r.text.splitlines()) if doc["kind"] == "event"]

    direct = events(api)
    assert direct
    assert events(pooled_api) == direct
    assert events(pooled_api) == direct  # twice: the first cursor's statement closed on another connection


def test_every_transaction_runs_as_the_app_role_on_shared_server_connections(
    pooled_api: TestClient, pooled_login: str
) -> None:
    """Each of the app's four client connections runs a transaction while all four are held: PgBouncer
    hands them its two server connections in turn, and on each the role is the app role, which may not
    rewrite the audit trail."""
    pool = cast(asyncpg.Pool, pooled_api.app.state.pool)  # type: ignore[attr-defined]

    async def probe() -> list[tuple[int, int, str, str, str]]:
        held = [await pool.acquire() for _ in range(APP_CONNECTIONS)]
        seen = []
        try:
            for conn in held:
                async with conn.transaction():
                    row = await conn.fetchrow(
                        "SELECT pg_backend_pid(), current_user::text, session_user::text"
                    )
                    assert row is not None
                    pid, current, session = row
                    try:
                        async with conn.transaction():  # a savepoint: the refusal leaves the outer one usable
                            await conn.execute("UPDATE audit_events SET action = action WHERE false")
                        refused = "allowed"
                    except asyncpg.InsufficientPrivilegeError:
                        refused = "refused"
                seen.append((id(conn), pid, current, session, refused))  # four held: four connections
        finally:
            for conn in held:
                await pool.release(conn)
        return seen

    seen = pooled_api.portal.call(probe)  # type: ignore[union-attr]
    assert len({client for client, *_ in seen}) == APP_CONNECTIONS
    assert len({pid for _, pid, *_ in seen}) <= POOL_SIZE  # so one server connection served several clients
    assert {(current, session, refused) for _, _, current, session, refused in seen} == {
        (APP_ROLE, pooled_login, "refused")
    }


def test_what_needs_a_session_uses_the_direct_url(pooled_api: TestClient, db_url: str) -> None:
    """The LISTEN of revocations and the checkpoint timer (a session advisory lock around one transaction per
    firm) run on the direct URL: a round of the timer makes its checkpoints as the direct login and leaves no
    lock behind (not counted on PgBouncer's side: housekeeping may run a transaction through it meanwhile)."""
    state = pooled_api.app.state  # type: ignore[attr-defined]
    assert state.session_pool is not state.pool
    checkpoints = fetchval(db_url, "SELECT count(*) FROM audit_checkpoints")

    async def one_round() -> tuple[str, int]:
        made = await make_checkpoints_once(state.session_pool, state.settings)
        return str(await state.session_pool.fetchval("SELECT session_user::text")), made

    session_user, made = pooled_api.portal.call(one_round)  # type: ignore[union-attr]
    assert session_user == "postgres"
    assert made >= 1
    assert fetchval(db_url, "SELECT count(*) FROM audit_checkpoints") == checkpoints + made
    assert fetchval(db_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0
    listening = fetch(
        db_url,
        "SELECT usename FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'",
    )
    assert [r["usename"] for r in listening] == ["postgres"]


def test_a_pooled_login_that_is_not_the_app_role_is_refused(
    bouncer: pgbouncer.Bouncer, db_url: str, tmp_path: Path
) -> None:
    """Without the role default (here: the owner logs in through the pooler) some transactions would run with
    the owner's rights; the service does not start."""
    app = create_app(_settings(bouncer.url("postgres"), db_url, tmp_path))
    with pytest.raises(PooledRoleError, match="not wealthgate_app"), TestClient(app):
        pass


def test_pooled_without_a_direct_url_is_refused(
    bouncer: pgbouncer.Bouncer, pooled_login: str, db_url: str, tmp_path: Path
) -> None:
    settings = _settings(bouncer.url(pooled_login), db_url, tmp_path).model_copy(
        update={"database_direct_url": None}
    )
    with pytest.raises(ValueError, match="DATABASE_DIRECT_URL"), TestClient(create_app(settings)):
        pass


def test_without_database_pooled_the_same_app_breaks_behind_pgbouncer(
    bouncer: pgbouncer.Bouncer, pooled_login: str, db_url: str, tmp_path: Path, keys: Keys
) -> None:
    """What the tests above owe to `database_pooled`: with it off, a statement asyncpg prepared and cached in
    one transaction is gone in the next (another server connection, or the reset after each transaction),
    and already the start-up (the keyring's registration) fails."""
    settings = _settings(bouncer.url(pooled_login), db_url, tmp_path).model_copy(
        update={"database_pooled": False}
    )
    with pytest.raises(asyncpg.InvalidSQLStatementNameError), TestClient(create_app(settings)):
        pass


def test_migrations_and_the_cli_connect_directly(
    bouncer: pgbouncer.Bouncer,
    pooled_login: str,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the service's environment (a pooled DATABASE_URL), migrations and CLI commands use the direct URL:
    the migration lock is a session lock, and the CLI's connection caches statements. Nothing of theirs
    reaches PgBouncer, and no advisory lock is left behind."""
    for name, value in {
        "WEALTHGATE_DATABASE_URL": bouncer.url(pooled_login),
        "WEALTHGATE_DATABASE_POOLED": "true",
        "WEALTHGATE_DATABASE_DIRECT_URL": db_url,
        "WEALTHGATE_HOME": str(tmp_path / "home"),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        before = _transactions(bouncer)

        async def who(url: str) -> str:
            async with connection(url) as conn:
                return str(await conn.fetchval("SELECT session_user::text"))

        migrate(bouncer.url(pooled_login))
        assert run_db(get_settings(), who) == "postgres"
        assert _transactions(bouncer) == before
    finally:
        get_settings.cache_clear()
    assert fetchval(db_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0
