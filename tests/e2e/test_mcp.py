"""MCP with the official client against real processes: streamable HTTP at /mcp of `wealthgate serve`, and
`wealthgate mcp` on stdio (in-process on the database, and as a proxy to a running server)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from mcp import ClientSession, StdioServerParameters, stdio_client, types
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from mcp.types import CallToolResult

from tests.e2e.process import WEALTHGATE, Server, cli, env, free_port
from tests.support import fetchval, make_key

pytestmark = pytest.mark.e2e

AGENT = ["clients:read", "recommendations:write"]
WRITERS = {"propose_recommendation", "record_note"}


@pytest.fixture
def server(db_url: str) -> Iterator[tuple[str, Server]]:
    """`wealthgate serve` (two workers) on the test database: its base URL and the process (a test may stop
    it early: a clean shutdown writes every batched read and tool call, the explicit flush of a process)."""
    port = free_port()
    process = Server("serve", "--port", str(port), "--workers", "2", DATABASE_URL=db_url)
    base = f"http://127.0.0.1:{port}"
    try:
        process.wait_healthy(base)
        yield base, process
    finally:
        assert process.stop() == 0


@pytest.fixture
def served(server: tuple[str, Server]) -> str:
    return server[0]


@asynccontextmanager
async def over_http(base: str, key: str) -> AsyncIterator[ClientSession]:
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http,
        streamable_http_client(f"{base}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@asynccontextmanager
async def over_stdio(**environment: str | None) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=WEALTHGATE, args=["mcp"], env=env(**environment))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def names(session: ClientSession) -> set[str]:
    return {t.name for t in (await session.list_tools()).tools}


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert block.type == "text"
    return block.text


def detail_of(base: str, key: str, path: str) -> str:
    response = httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404
    detail: str = response.json()["detail"]
    return detail


async def alice(session: ClientSession) -> None:
    """Alice's context as structured content (plus its JSON as text), which also passes the official
    client's check against the tool's output schema."""
    raw = await session.send_request(
        types.CallToolRequest(
            params=types.CallToolRequestParams(name="get_client_context", arguments={"client_id": 1})
        ),
        types.CallToolResult,
    )
    assert not raw.is_error, text_of(raw)
    assert isinstance(raw.structured_content, dict)
    assert raw.structured_content["client"]["name"] == "Alice Chen"
    assert json.loads(text_of(raw)) == raw.structured_content
    checked = await session.call_tool("get_client_context", {"client_id": 1})
    assert checked.structured_content == raw.structured_content


async def refusal(session: ClientSession, detail: str) -> None:
    """Another firm's client: a tool error whose text is the REST problem's detail."""
    other_firms = await session.call_tool("get_client_context", {"client_id": 40})
    assert other_firms.is_error
    assert text_of(other_firms) == detail
    assert other_firms.structured_content is None


def audited(db_url: str, sql: str, *args: Any) -> int:
    """Tool calls are audited in batches: count them once the process that noted them has stopped (a clean
    shutdown writes what is waiting), not by polling."""
    n: int = fetchval(db_url, sql, *args)
    return n


def test_mcp_over_streamable_http(served: str, server: tuple[str, Server], db_url: str) -> None:
    agent = make_key(db_url, 1, AGENT, name="mcp-agent")
    reader = make_key(db_url, 1, ["clients:read"], name="mcp-reader")
    detail = detail_of(served, agent, "/clients/40/context")

    async def scenario() -> dict[str, Any]:
        async with over_http(served, agent) as session:
            listed = (await session.list_tools()).tools
            assert len(listed) == 14
            context = next(t for t in listed if t.name == "get_client_context")
            assert context.input_schema["required"] == ["client_id"]
            assert context.output_schema is not None
            assert context.annotations is not None
            assert context.annotations.read_only_hint is True
            await refusal(session, detail)
            proposed = await session.call_tool(
                "propose_recommendation",
                {
                    "client_id": 1,
                    "trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}],
                    "rationale": "Top up the bond sleeve.",
                    "agent_name": "mcp-test",
                },
            )
            assert not proposed.is_error, text_of(proposed)
            assert isinstance(proposed.structured_content, dict)
            recommendation: dict[str, Any] = proposed.structured_content
            await alice(session)
        async with over_http(served, reader) as session:
            visible = await names(session)
            assert "get_client_context" in visible
            assert not visible & WRITERS
            refused = await session.call_tool(
                "record_note", {"client_id": 1, "event_type": "note", "payload": "x"}
            )
            assert refused.is_error
            assert text_of(refused) == "no tool named 'record_note' is available to this key"
        return recommendation

    recommendation = asyncio.run(scenario())
    assert server[1].stop() == 0  # a clean shutdown writes the batched tool calls
    assert recommendation["client_id"] == 1
    assert fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'recommendation.proposed' AND target_id = $1",
        str(recommendation["id"]),
    )
    assert audited(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'tool.called' AND client_id = 1"
        " AND details->>'tool' = 'propose_recommendation' AND details->>'face' = 'mcp-http'"
        " AND actor->>'key_name' = 'mcp-agent'",
    )
    assert audited(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'tool.called' AND details->>'face' = 'mcp-http'"
        " AND details->>'client_id' = '40' AND details->>'outcome' = 'error'",
    )
    assert audited(  # a tool outside the key's scopes: refused, and recorded all the same
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'tool.called' AND details->>'face' = 'mcp-http'"
        " AND details->>'tool' = 'record_note' AND details->>'outcome' = 'refused'"
        " AND details->>'status' = '404' AND actor->>'key_name' = 'mcp-reader' AND request_id IS NOT NULL",
    )


def test_mcp_over_http_needs_a_valid_key(served: str) -> None:
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    for extra in ({}, {"Authorization": "Bearer wg_1_1_" + "x" * 43}):
        response = httpx.post(f"{served}/mcp", json=hello, headers=headers | extra)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["x-request-id"]
    document = httpx.get(f"{served}/openapi.json")
    assert document.status_code == 200
    assert "/mcp" not in document.json()["paths"]


def test_mcp_over_stdio_in_process(api: TestClient, db_url: str) -> None:
    agent = make_key(db_url, 1, AGENT, name="mcp-stdio")
    reader = make_key(db_url, 1, ["clients:read"], name="mcp-stdio-reader")
    refused = api.get("/clients/40/context", headers={"Authorization": f"Bearer {agent}"})
    assert refused.status_code == 404

    async def scenario() -> None:
        async with over_stdio(DATABASE_URL=db_url, WEALTHGATE_API_KEY=agent) as session:
            assert len(await names(session)) == 14
            await refusal(session, refused.json()["detail"])
            await alice(session)
        async with over_stdio(DATABASE_URL=db_url, FASTAPI_WEALTH_API_KEY=reader) as session:
            visible = await names(session)
            assert "get_client_context" in visible
            assert not visible & WRITERS
            invalid = await session.call_tool("get_risk", {"client_id": 1, "window": 5})
            assert invalid.is_error

    asyncio.run(scenario())
    assert audited(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'tool.called' AND client_id = 1"
        " AND details->>'face' = 'mcp-stdio' AND actor->>'key_name' = 'mcp-stdio'",
    )
    assert audited(  # invalid arguments: refused, and recorded all the same, under a request id of its own
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'tool.called' AND details->>'face' = 'mcp-stdio'"
        " AND details->>'outcome' = 'refused' AND details->>'status' = '422'"
        " AND actor->>'key_name' = 'mcp-stdio-reader' AND request_id IS NOT NULL",
    )


def test_mcp_over_stdio_as_a_proxy(served: str, server: tuple[str, Server], db_url: str) -> None:
    agent = make_key(db_url, 1, AGENT, name="mcp-proxy")
    detail = detail_of(served, agent, "/clients/40/context")

    async def scenario() -> None:
        async with over_stdio(WEALTHGATE_URL=served, WEALTHGATE_API_KEY=agent) as session:
            assert len(await names(session)) == 14
            await refusal(session, detail)
            unknown = await session.call_tool("../clients/1/context", {})  # refused by the proxy itself
            assert unknown.is_error
            assert text_of(unknown) == "no tool named '../clients/1/context' is available to this key"
            made_up = await session.call_tool("getClientContext", {"client_id": 1})  # refused by the server
            assert made_up.is_error
            assert text_of(made_up) == "no tool named 'getClientContext' is available to this key"
            await alice(session)

    asyncio.run(scenario())
    assert server[1].stop() == 0  # a clean shutdown writes the batched tool calls
    # the server records the face it saw (its REST tool face) and keeps the proxy's claim beside it
    assert audited(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'tool.called' AND client_id = 1"
        " AND details->>'face' = 'rest' AND details->>'client_face' = 'mcp-stdio'"
        " AND actor->>'key_name' = 'mcp-proxy'",
    )
    assert audited(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'tool.called' AND details->>'face' = 'rest'"
        " AND details->>'client_face' = 'mcp-stdio' AND details->>'tool' = 'getClientContext'"
        " AND details->>'outcome' = 'refused' AND actor->>'key_name' = 'mcp-proxy'",
    )
    assert not fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE details->>'face' = 'mcp-stdio'"
        " AND actor->>'key_name' = 'mcp-proxy'",
    )


def test_stdio_refuses_to_start_without_a_valid_key(db_url: str, served: str) -> None:
    missing = cli("mcp", DATABASE_URL=db_url, WEALTHGATE_API_KEY=None, FASTAPI_WEALTH_API_KEY=None)
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert "error: set WEALTHGATE_API_KEY" in missing.stderr
    bad = "wg_1_1_" + "x" * 43
    for where in ({"DATABASE_URL": db_url}, {"WEALTHGATE_URL": served}):
        invalid = cli("mcp", WEALTHGATE_API_KEY=bad, **where)
        assert invalid.returncode == 1
        assert invalid.stdout == ""
        assert "the API key is invalid or revoked" in invalid.stderr


def test_stdio_writes_nothing_but_the_protocol(db_url: str, tmp_path: Path) -> None:
    """Every line on stdout is a JSON-RPC message, from start-up to the client closing stdin; a refusal on the
    embedded PostgreSQL (started, migrated, released) leaves stdout empty."""
    agent = make_key(db_url, 1, AGENT, name="mcp-wire")
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "wire-test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_clients"}},
    ]
    proc = subprocess.Popen(
        [WEALTHGATE, "mcp"],
        env=env(DATABASE_URL=db_url, WEALTHGATE_API_KEY=agent),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
        proc.stdin.flush()
        lines = [proc.stdout.readline() for _ in range(3)]  # three requests, three answers
        proc.stdin.close()  # how a client ends the session
        lines += proc.stdout.readlines()
        assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        watchdog.cancel()
        proc.kill()
    answers = {m["id"]: m for m in map(json.loads, lines)}
    assert set(answers) == {1, 2, 3}
    assert answers[1]["result"]["serverInfo"]["name"] == "wealthgate"
    assert len(answers[2]["result"]["tools"]) == 14
    assert "result" in answers[3], answers[3]
    assert answers[3]["result"]["structuredContent"]["items"][0]["name"] == "Alice Chen"

    embedded = cli("mcp", WEALTHGATE_HOME=str(tmp_path / "home"), DATABASE_URL=None, WEALTHGATE_API_KEY=agent)
    assert embedded.returncode == 1
    assert embedded.stdout == ""
    assert embedded.stderr.strip().endswith("error: the API key is invalid or revoked")


def test_sigterm_ends_a_stdio_server_cleanly(db_url: str) -> None:
    """A client may stop the server with SIGTERM while stdin is still open: it exits 0, not killed mid-way,
    having flushed the batched audit events and closed its pool."""
    agent = make_key(db_url, 1, AGENT, name="mcp-sigterm")
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "sigterm-test", "version": "0"},
        },
    }
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_clients"}}
    proc = subprocess.Popen(
        [WEALTHGATE, "mcp"],
        env=env(DATABASE_URL=db_url, WEALTHGATE_API_KEY=agent),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdin is not None
        assert proc.stdout is not None
        for message in (hello, {"jsonrpc": "2.0", "method": "notifications/initialized"}, call):
            proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()
        answers = [json.loads(proc.stdout.readline()) for _ in range(2)]
        assert answers[1]["id"] == 2
        assert "result" in answers[1], answers[1]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    assert fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'tool.called' AND details->>'face' = 'mcp-stdio'"
        " AND actor->>'key_name' = 'mcp-sigterm'",
    )
