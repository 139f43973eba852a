"""Agent reads on a real streaming replica (db/replicas.py): routing, read-your-writes with the replica's
replay paused, the lag bound, a replica that goes down, and a primary that goes down while reads continue
(their audit records buffered, written when it returns; refused with 503 once the buffer is full).

The replica is built with the embedded PostgreSQL's own binaries (tests/replication.py): `pg_basebackup -R`
from a primary of the module's own, a second server on a socket directory of its own. To tell which server
answered, a change is made on the primary directly (as a DBA would, through no key) while the replica's
replay is paused: a read that shows it came from the primary, one that does not from the replica."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from tests.replication import Replication, build
from tests.support import execute, fetchval, make_key, mcp_tool_call
from wealthgate.api.app import create_app
from wealthgate.audit.journal import journal_dir
from wealthgate.client import WealthgateClient
from wealthgate.db.pool import connect
from wealthgate.db.replicas import ReadRouter
from wealthgate.settings import Settings

CLIENT = 1  # Alice Chen, firm 1
ORIGINAL = "Alice Chen"


@pytest.fixture(scope="module")
def replication(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replication]:
    pair = build(tmp_path_factory.mktemp("replication"))
    yield pair
    pair.close()


def _settings(pair: Replication, home: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": pair.primary_url,
        "read_replica_urls": [pair.standby_url],
        "home": home,
        "auth_cache_seconds": 0,  # every request looks its key up: through a primary outage too
        "db_pool_min": 1,
        "db_pool_max": 4,
        "audit_checkpoint_seconds": 0,
        "replica_check_seconds": 0.05,
        "replica_wait_ms": 100,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def paused(replication: Replication) -> Iterator[Replication]:
    """The replica caught up, the client's name as loaded, then replay paused; resumed afterwards."""
    execute(replication.primary_url, "UPDATE clients SET name = $1 WHERE id = $2", ORIGINAL, CLIENT)
    replication.wait_replayed()
    replication.pause_replay()
    yield replication
    replication.resume_replay()
    execute(replication.primary_url, "UPDATE clients SET name = $1 WHERE id = $2", ORIGINAL, CLIENT)
    replication.wait_replayed()


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _name(api: TestClient, key: str) -> str:
    answer = api.get(f"/clients/{CLIENT}/context", headers=_bearer(key))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["client"]["name"])


def _router(api: TestClient) -> ReadRouter:
    router: ReadRouter = api.app.state.router  # type: ignore[attr-defined]
    return router


def _check(api: TestClient) -> None:
    """One monitor round now (as the monitor does every replica_check_seconds)."""
    api.portal.call(_router(api).check)  # type: ignore[union-attr]


def _deposit(api: TestClient, key: str, account_id: int, amount: str) -> None:
    body = {"trade_date": "2026-12-01", "type": "deposit", "amount": amount}
    answer = api.post(f"/accounts/{account_id}/transactions", json=body, headers=_bearer(key))
    assert answer.status_code == 201, answer.text


def _cash(api: TestClient, key: str, account_id: int) -> str:
    answer = api.get(f"/clients/{CLIENT}/context", headers=_bearer(key))
    assert answer.status_code == 200, answer.text
    return next(a["cash"] for a in answer.json()["accounts"] if a["id"] == account_id)


def _routed(server: str, reason: str) -> float:
    """Reads routed so far in this process to `server` for `reason` (the metric /metrics exposes)."""
    found = REGISTRY.get_sample_value("wealthgate_read_routes_total", {"server": server, "reason": reason})
    return found or 0.0


def _account(pair: Replication) -> int:
    return int(fetchval(pair.primary_url, "SELECT min(id) FROM accounts WHERE client_id = $1", CLIENT))


def test_agent_reads_go_to_the_replica_and_writes_to_the_primary(paused: Replication, home: Path) -> None:
    reader = make_key(paused.primary_url, 1, ["clients:read"], name="replica-reader")
    execute(paused.primary_url, "UPDATE clients SET name = 'Alice Primary' WHERE id = $1", CLIENT)
    with TestClient(create_app(_settings(paused, home)), raise_server_exceptions=False) as api:
        # the key never wrote: the replica serves it, and the replica has not replayed the DBA's change yet
        assert _name(api, reader) == ORIGINAL
        for path in (f"/clients/{CLIENT}/portfolio", "/clients", f"/clients/{CLIENT}/transactions"):
            assert api.get(path, headers=_bearer(reader)).status_code == 200
        assert _routed("replica", "current") >= 4
        assert 'wealthgate_replica_up{replica="replica-1"} 1.0' in api.get("/metrics").text
        ready = api.get("/readyz").json()
        assert ready["status"] == "ready"
        assert ready["checks"]["replicas"]["replicas"][0]["serving"] is True
    paused.resume_replay()
    paused.wait_replayed()
    with TestClient(create_app(_settings(paused, home)), raise_server_exceptions=False) as api:
        assert _name(api, reader) == "Alice Primary"  # replayed: the replica now has it


def test_a_key_reads_its_own_write_while_replay_is_paused(paused: Replication, home: Path) -> None:
    writer = make_key(paused.primary_url, 1, ["admin", "clients:read"], name="replica-writer")
    other = make_key(paused.primary_url, 1, ["clients:read"], name="replica-other")
    account = _account(paused)
    with TestClient(create_app(_settings(paused, home)), raise_server_exceptions=False) as api:
        before = _cash(api, writer, account)
        _deposit(api, writer, account, "1000.00")
        behind = _routed("primary", "behind")
        after = _cash(api, writer, account)  # the replica cannot have it (paused): the primary answers
        assert after != before
        assert _routed("primary", "behind") == behind + 1  # after waiting replica_wait_ms for it in vain
        assert _cash(api, other, account) == before  # another key that never wrote still reads the replica
        paused.resume_replay()
        paused.wait_replayed()
        _check(api)
        current = _routed("replica", "current")
        assert _cash(api, writer, account) == after  # caught up: the replica serves the writer again
        assert _routed("replica", "current") == current + 1
        paused.pause_replay()


def test_read_your_writes_holds_across_the_workers_of_a_host(paused: Replication, home: Path) -> None:
    """Two app instances sharing one home (as the workers of `wealthgate serve --workers 2` do): a write
    through one is seen by the key's next read through the other (the marks file is shared)."""
    writer = make_key(paused.primary_url, 1, ["admin", "clients:read"], name="replica-writer-2")
    account = _account(paused)
    with (
        TestClient(create_app(_settings(paused, home)), raise_server_exceptions=False) as first,
        TestClient(create_app(_settings(paused, home)), raise_server_exceptions=False) as second,
    ):
        before = _cash(second, writer, account)  # served by the replica
        _deposit(first, writer, account, "250.00")
        assert _cash(second, writer, account) != before


def test_a_write_is_read_back_on_another_host_with_its_read_after_position(
    paused: Replication, tmp_path: Path
) -> None:
    """Two hosts (two homes: two marks files). The write's answer carries `WealthGate-Read-After`; a read
    on the other host that sends it back sees the write. Without it the other host only knows its own
    marks: the replica serves the read within the lag bound (the documented per-host guarantee)."""
    writer = make_key(paused.primary_url, 1, ["admin", "clients:read"], name="replica-two-hosts")
    account = _account(paused)
    with (
        TestClient(create_app(_settings(paused, tmp_path / "a")), raise_server_exceptions=False) as host_a,
        TestClient(create_app(_settings(paused, tmp_path / "b")), raise_server_exceptions=False) as host_b,
    ):
        before = _cash(host_b, writer, account)
        body = {"trade_date": "2026-12-01", "type": "deposit", "amount": "75.00"}
        wrote = host_a.post(f"/accounts/{account}/transactions", json=body, headers=_bearer(writer))
        assert wrote.status_code == 201, wrote.text
        position = wrote.headers["WealthGate-Read-After"]
        assert int(position) > 0
        assert _cash(host_b, writer, account) == before  # host b never saw the write: the paused replica
        behind = _routed("primary", "behind")
        carried = host_b.get(
            f"/clients/{CLIENT}/context", headers={**_bearer(writer), "WealthGate-Read-After": position}
        )
        assert carried.status_code == 200, carried.text
        assert next(a["cash"] for a in carried.json()["accounts"] if a["id"] == account) != before
        assert _routed("primary", "behind") == behind + 1  # waited for the replica in vain, then the primary
        for bad in ("-1", "12ab", "1" * 20, "١٢"):  # (Arabic-Indic digits: digits, not ASCII ones)
            refused = host_b.get(
                f"/clients/{CLIENT}/context",
                headers={**_bearer(writer), "WealthGate-Read-After": bad.encode()},
            )
            assert refused.status_code == 422, (bad, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert "WealthGate-Read-After" in refused.text


def test_a_made_up_read_after_position_is_cut_to_the_primarys_present(
    replication: Replication, home: Path
) -> None:
    """A position no write ever had does not make the read wait in vain and fall to the primary: past the
    primary's present it stands for the present, which a caught-up replica has replayed."""
    reader = make_key(replication.primary_url, 1, ["clients:read"], name="replica-made-up")
    replication.wait_replayed()
    with TestClient(create_app(_settings(replication, home)), raise_server_exceptions=False) as api:
        _check(api)
        on_replica = _routed("replica", "current") + _routed("replica", "waited")
        behind = _routed("primary", "behind")
        made_up = {**_bearer(reader), "WealthGate-Read-After": "9" * 19}
        assert api.get(f"/clients/{CLIENT}/context", headers=made_up).status_code == 200
        assert _routed("replica", "current") + _routed("replica", "waited") == on_replica + 1
        assert _routed("primary", "behind") == behind


def test_the_sdk_reads_its_writes_on_another_host(paused: Replication, tmp_path: Path) -> None:
    """The SDK keeps the furthest `WealthGate-Read-After` it was answered and sends it: its writes go to
    one host and its reads to another (a load balancer's choice), and it reads what it wrote."""
    writer = make_key(paused.primary_url, 1, ["admin", "clients:read"], name="replica-sdk")
    account = _account(paused)
    with (
        TestClient(create_app(_settings(paused, tmp_path / "a")), raise_server_exceptions=False) as host_a,
        TestClient(create_app(_settings(paused, tmp_path / "b")), raise_server_exceptions=False) as host_b,
    ):
        balancer = _WritesToOneReadsToOther(host_a._transport, host_b._transport)
        with (
            WealthgateClient(writer, transport=balancer) as sdk,
            WealthgateClient(writer, transport=balancer) as fresh,
        ):
            before = _sdk_cash(sdk, account)
            body = {"trade_date": "2026-12-01", "type": "deposit", "amount": "30.00"}
            sdk.request("POST", f"/accounts/{account}/transactions", json=body)
            assert sdk.read_after.position > 0
            assert _sdk_cash(sdk, account) != before
            assert _sdk_cash(fresh, account) == before  # a client that never wrote: the replica serves it
            # a read tool through the tool face on the other host: the face passes the position on
            told = sdk.call("get_client_context", {"client_id": CLIENT})
            assert next(a["cash"] for a in told["accounts"] if a["id"] == account) != before
        assert balancer.sent == {"writes": 1, "reads": 4}


class _WritesToOneReadsToOther(httpx.BaseTransport):
    """A load balancer in front of two hosts: reads (GETs, and tool calls, all reads here) to one, writes to
    the other."""

    def __init__(self, writes: httpx.BaseTransport, reads: httpx.BaseTransport) -> None:
        self.writes, self.reads, self.sent = writes, reads, {"writes": 0, "reads": 0}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        read = request.method == "GET" or request.url.path.startswith("/tools/")
        side = "reads" if read else "writes"
        self.sent[side] += 1
        answer = (self.reads if side == "reads" else self.writes).handle_request(request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.read())


def _sdk_cash(sdk: WealthgateClient, account: int) -> str:
    context = sdk.request("GET", f"/clients/{CLIENT}/context")
    return str(next(a["cash"] for a in context["accounts"] if a["id"] == account))


def test_a_replica_too_far_behind_is_skipped(paused: Replication, home: Path) -> None:
    reader = make_key(paused.primary_url, 1, ["clients:read"], name="replica-lag")
    settings = _settings(paused, home, replica_max_lag_seconds=0.2)
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        assert _name(api, reader) == ORIGINAL  # replay is paused but nothing is pending: 0 s behind
        execute(paused.primary_url, "UPDATE clients SET name = 'Alice Lagged' WHERE id = $1", CLIENT)
        deadline = time.monotonic() + 10
        while _router(api).replicas[0].lag_seconds <= 0.2:  # the monitor sees the replica fall behind
            assert time.monotonic() < deadline, "the replica's lag never passed the bound"
            _check(api)
        assert _name(api, reader) == "Alice Lagged"  # skipped: the primary answers
        replicas = api.get("/readyz").json()["checks"]["replicas"]
        assert replicas["status"] == "failing"
        assert replicas["replicas"][0]["serving"] is False
        assert "behind" in replicas["replicas"][0]["problem"]
        assert api.get("/readyz").status_code == 200  # the primary serves every read: still ready


def test_a_replica_that_is_down_is_skipped(replication: Replication, home: Path) -> None:
    reader = make_key(replication.primary_url, 1, ["clients:read"], name="replica-down")
    with TestClient(create_app(_settings(replication, home)), raise_server_exceptions=False) as api:
        assert _name(api, reader) == ORIGINAL
        replication.stop_standby()
        try:
            assert _name(api, reader) == ORIGINAL  # the primary answers (the replica failed, or is seen down)
            _check(api)
            assert _router(api).replicas[0].up is False
            ready = api.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"]["replicas"]["replicas"][0]["up"] is False
            assert 'wealthgate_replica_up{replica="replica-1"} 0.0' in api.get("/metrics").text
        finally:
            replication.start_standby()
        _check(api)
        assert _router(api).replicas[0].up is True


class _DiesOnAcquire:
    """A replica's real pool whose next connection's server session ends as it is handed out: a superuser
    terminates the backend (from another thread, the event loop held, so the client cannot notice before it
    sends its statement), as a failover or a crash would under a read. Everything else is the real pool."""

    def __init__(self, pool: Any, standby_url: str) -> None:
        self.pool, self.standby_url, self.armed = pool, standby_url, True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)

    async def acquire(self) -> Any:
        conn = await self.pool.acquire()
        if self.armed:
            self.armed = False
            pid = conn.get_server_pid()
            ends = threading.Thread(target=self._terminate, args=(pid,))
            ends.start()
            ends.join()
        return conn

    def _terminate(self, pid: int) -> None:
        assert fetchval(self.standby_url, "SELECT pg_terminate_backend($1)", pid) is True
        gone = "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $1"
        while not fetchval(self.standby_url, gone, pid):
            time.sleep(0.01)


@pytest.mark.parametrize("path", ["context", "portfolio"])  # a statement alone, and a read-only transaction
def test_a_read_whose_replica_fails_during_it_is_served_by_the_primary(
    paused: Replication, home: Path, path: str
) -> None:
    """The replica's session ends under a read: the read runs again on the primary, audited once and counted
    against the rate limit once. Before: a 503."""
    name = f"replica-cut-{path}"
    reader = make_key(paused.primary_url, 1, ["clients:read"], name=name)
    execute(paused.primary_url, "UPDATE clients SET name = 'Alice Primary' WHERE id = $1", CLIENT)
    # an hour's window, so the counts left are exact
    settings = _settings(paused, home, replica_check_seconds=60, rate_limit_read="1000/hour")
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        first = api.get(f"/clients/{CLIENT}/context", headers=_bearer(reader))
        assert (
            first.json()["client"]["name"] == ORIGINAL
        )  # the replica (replay paused before the DBA's change)
        replica = _router(api).replicas[0]
        replica.pool = _DiesOnAcquire(replica.pool, paused.standby_url)  # type: ignore[assignment]
        failed_before = _routed("primary", "replica_failed")
        answer = api.get(f"/clients/{CLIENT}/{path}", headers=_bearer(reader))
        assert answer.status_code == 200, answer.text
        assert not replica.pool.armed  # type: ignore[attr-defined]
        limits = (first.headers["RateLimit"], answer.headers["RateLimit"])
        assert limits == ('"read";r=999;t=3600', '"read";r=998;t=3600')
        if path == "context":
            assert answer.json()["client"]["name"] == "Alice Primary"  # the primary's answer
        assert _routed("primary", "replica_failed") == failed_before + 1
        assert replica.up is False  # it went away: skipped until the monitor finds it answering
        replica.pool = replica.pool.pool  # type: ignore[attr-defined]
        api.portal.call(api.app.state.reads.flush)  # type: ignore[attr-defined]
    assert _read_events(paused.primary_url, name) == 2  # each read audited once


def test_a_real_recovery_conflict_is_the_replicas_fault(replication: Replication) -> None:
    """A statement on the replica cancelled by replay (the primary vacuumed away rows its snapshot still
    sees; SQLSTATE 40001, "conflict with recovery") is classified as the replica's fault, so the service runs
    the read again on the primary (the test above). Produced for real: the standby cancels at once
    (max_standby_streaming_delay = 0), a statement holds its snapshot in pg_sleep, and the primary deletes and
    vacuums under it. The unit test of `replica_at_fault` only names the code."""
    from wealthgate.db.replicas import replica_at_fault

    async def on_standby(statements: str) -> None:
        conn = await connect(replication.standby_url, as_owner=True)
        try:
            await conn.execute(statements)
        finally:
            await conn.close()

    async def conflict() -> BaseException | None:
        await on_standby("ALTER SYSTEM SET max_standby_streaming_delay = 0")
        await on_standby("SELECT pg_reload_conf()")
        reader = await connect(replication.standby_url, as_owner=True)
        try:
            held = asyncio.create_task(reader.fetchval("SELECT count(*) FROM conflict_probe, pg_sleep(20)"))
            await asyncio.sleep(0.5)  # the statement has its snapshot, seeing the rows
            await asyncio.to_thread(execute, replication.primary_url, "DELETE FROM conflict_probe")
            await asyncio.to_thread(execute, replication.primary_url, "VACUUM conflict_probe")
            try:
                await asyncio.wait_for(held, timeout=15)
            except Exception as exc:  # what is raised is what is checked
                return exc
            return None
        finally:
            reader.terminate()
            await on_standby("ALTER SYSTEM RESET max_standby_streaming_delay")
            await on_standby("SELECT pg_reload_conf()")

    execute(replication.primary_url, "CREATE TABLE IF NOT EXISTS conflict_probe (id int)")
    execute(replication.primary_url, "INSERT INTO conflict_probe SELECT generate_series(1, 1000)")
    replication.wait_replayed()
    try:
        raised = asyncio.run(conflict())
    finally:
        execute(replication.primary_url, "DROP TABLE conflict_probe")
    assert raised is not None, "the standby let the statement finish: no recovery conflict happened"
    assert getattr(raised, "sqlstate", None) == "40001", repr(raised)
    assert "conflict with recovery" in str(raised)
    assert replica_at_fault(raised)


def _read_events(url: str, key_name: str) -> int:
    return int(
        fetchval(
            url,
            "SELECT count(*) FROM audit_events WHERE action = 'client.read' AND actor->>'key_name' = $1",
            key_name,
        )
    )


def test_reads_go_on_through_a_primary_outage_and_their_audit_waits(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Its own primary and replica: this test stops the primary. Built in a short directory: the primary's
    socket lives in its data directory, and under this test's own `tmp_path` the socket's path passed Unix's
    107 bytes once pytest's run directory reached pytest-100."""
    pair = build(tmp_path_factory.mktemp("outage"))
    try:
        reader = make_key(
            pair.primary_url, 1, ["clients:read", "recommendations:write"], name="outage-reader"
        )
        pair.wait_replayed()  # the key is on the replica too
        settings = _settings(pair, tmp_path / "home", read_audit_buffer_max=5)
        with TestClient(create_app(settings), raise_server_exceptions=False) as api:
            reads = api.app.state.reads  # type: ignore[attr-defined]
            api.portal.call(reads.stop)  # type: ignore[union-attr]  # flushes come from the test, below
            pair.stop_primary()
            _check(api)
            assert _name(api, reader) == ORIGINAL  # served by the replica, the primary away
            ready = api.get("/readyz")
            assert ready.status_code == 200  # reads are served: keep the traffic coming
            assert ready.json()["status"] == "degraded"
            assert ready.json()["checks"]["database"]["status"] == "failing"
            for _ in range(4):
                assert _name(api, reader) == ORIGINAL  # served by the replica, the primary away
            assert reads.depth == 5  # their audit records wait
            with pytest.raises(Exception):  # noqa: B017, PT011  (whatever the driver says of a server gone)
                api.portal.call(reads.flush)  # type: ignore[union-attr]
            journals = journal_dir(settings.home, settings.database_url)
            [journaled] = journals.glob("*.jsonl")  # the failed flush put them on disk, for a crash to spare
            assert len(journaled.read_bytes().splitlines()) == 5
            refused = api.get(f"/clients/{CLIENT}/context", headers=_bearer(reader))
            assert refused.status_code == 503  # the buffer is full: refused, never served unaudited
            assert refused.headers["retry-after"] == str(settings.retry_after_seconds)
            assert refused.json()["type"] == "urn:wealthgate:problem:audit-buffer-full"
            assert "client" not in refused.json()
            note = {"client_id": CLIENT, "event_type": "portfolio_review", "payload": "during the outage"}
            write = api.post("/audit/recommendation", json=note, headers=_bearer(reader))
            assert write.status_code == 503
            assert "retry-after" in write.headers
            pair.start_primary()
            assert api.portal.call(reads.flush) == 5  # type: ignore[union-attr]
            assert _read_events(pair.primary_url, "outage-reader") == 5
            assert not journaled.exists()  # stored, and recorded as stored in the same transaction
            recorded = fetchval(
                pair.primary_url, "SELECT events FROM audit_read_journals WHERE id = $1", journaled.stem
            )
            assert recorded == 5
            dated = "SELECT count(*) FROM audit_events WHERE details ? 'served_at' AND actor->>'key_name'=$1"
            assert fetchval(pair.primary_url, dated, "outage-reader") == 5  # they say when they were served
            assert _name(api, reader) == ORIGINAL
            _check(api)
            assert api.get("/readyz").json()["status"] == "ready"
    finally:
        pair.close()


def _mcp_call(api: TestClient, key: str, tool: str, arguments: dict[str, Any]) -> Any:
    result = mcp_tool_call(api, key, tool, arguments).json()["result"]
    assert not result.get("isError"), result
    return result["structuredContent"]


@pytest.mark.parametrize("face", ["rest", "mcp"])
def test_a_write_through_a_tool_face_is_read_back(paused: Replication, home: Path, face: str) -> None:
    """An agent proposes through a tool (REST /tools/{name} or MCP), then reads the recommendation back with
    replay paused: from a replica that has not replayed it, the read would be a 404."""
    agent = make_key(paused.primary_url, 1, ["clients:read", "recommendations:write"], name=f"tools-{face}")
    proposal = {
        "client_id": CLIENT,
        "trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}],
        "rationale": "Bonds.",
        "agent_name": "replica-test",
        "agent_model": "m",
    }
    with TestClient(create_app(_settings(paused, home)), raise_server_exceptions=False) as api:
        if face == "rest":
            posted = api.post("/tools/propose_recommendation", json=proposal, headers=_bearer(agent))
            assert posted.status_code in (200, 201), posted.text
            rec_id = posted.json()["id"]
            read = api.post(
                "/tools/get_recommendation", json={"recommendation_id": rec_id}, headers=_bearer(agent)
            )
            assert read.status_code == 200, read.text
            assert read.json()["id"] == rec_id
        else:
            rec_id = _mcp_call(api, agent, "propose_recommendation", proposal)["id"]
            assert _mcp_call(api, agent, "get_recommendation", {"recommendation_id": rec_id})["id"] == rec_id
