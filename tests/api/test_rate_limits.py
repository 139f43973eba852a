"""Per-key rate limits (docs/limits.md): reads and writes counted apart, per key, answered 429 problem+json
with Retry-After and the IETF RateLimit headers; tool calls count as their tool's kind over REST and MCP (a
refused MCP call is a tool error saying when to retry); the counters of one host are shared by its worker
processes (two real processes share one budget); a `limits` storage URI is used when set.

Windows are a minute long, so no test depends on how fast it runs."""

from __future__ import annotations

import asyncio
import multiprocessing
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from tests.conftest import Keys
from tests.support import mcp_tool_call
from wealthgate.api.app import create_app
from wealthgate.settings import Settings
from wealthgate.throttling.counters import of_storage
from wealthgate.throttling.rates import RateLimits
from wealthgate.throttling.shared import SharedCounters

auth = Keys.auth


@pytest.fixture
def limited(settings: Settings) -> Callable[..., Any]:
    """An app whose settings differ from the suite's by `changes` (the suite's are generous)."""

    @contextmanager
    def make(**changes: Any) -> Iterator[TestClient]:
        with TestClient(create_app(settings.model_copy(update=changes)), raise_server_exceptions=False) as c:
            yield c

    return make


def refusals(kind: str) -> float:
    return REGISTRY.get_sample_value("wealthgate_rate_limit_refusals_total", {"kind": kind}) or 0.0


def assert_rate_limited(r: Any, *, policy: str) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:wealthgate:problem:rate-limited"
    assert body["status"] == 429
    assert body["limit"]["policy"] == policy
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 60
    assert body["retry_after"] == retry
    assert f"retry in {retry} second" in body["detail"]
    assert re.fullmatch(rf'"{policy}";r=0;t=\d+', r.headers["RateLimit"])


def test_reads_over_the_limit_get_429_with_the_ratelimit_headers(limited: Any, keys: Keys) -> None:
    before = refusals("read")
    with limited(rate_limit_read="3/minute", rate_limit_write="100/minute") as api:
        answers = [api.get("/clients", headers=auth(keys.agent)) for _ in range(4)]
        assert [r.status_code for r in answers[:3]] == [200, 200, 200]
        for n, r in enumerate(answers[:3]):
            assert r.headers["RateLimit-Policy"] == '"read";q=3;w=60'
            found = re.fullmatch(rf'"read";r={2 - n};t=(\d+)', r.headers["RateLimit"])
            assert found is not None, r.headers["RateLimit"]
            assert 1 <= int(found[1]) <= 60, r.headers["RateLimit"]  # never past the window
        assert_rate_limited(answers[3], policy="read")
        assert answers[3].headers["RateLimit-Policy"] == '"read";q=3;w=60'
        # per key: another key of the same firm has its own budget
        assert api.get("/clients", headers=auth(keys.reader)).status_code == 200
        # writes are counted apart: the key may still write
        note = {"client_id": 1, "event_type": "note", "payload": "still allowed"}
        assert api.post("/audit/recommendation", json=note, headers=auth(keys.agent)).status_code == 200
    assert refusals("read") == before + 1


def test_writes_have_their_own_limit(limited: Any, keys: Keys) -> None:
    note = {"client_id": 1, "event_type": "note", "payload": "hello"}
    with limited(rate_limit_read="100/minute", rate_limit_write="2/minute") as api:
        writes = [api.post("/audit/recommendation", json=note, headers=auth(keys.agent)) for _ in range(3)]
        assert [r.status_code for r in writes[:2]] == [200, 200]
        assert_rate_limited(writes[2], policy="write")
        assert writes[2].headers["RateLimit-Policy"] == '"write";q=2;w=60'
        assert api.get("/clients", headers=auth(keys.agent)).status_code == 200
        # nothing was stored for the refused write
        events = api.get(
            "/audit/events", params={"action": "agent.note"}, headers=auth(keys.compliance)
        ).json()
        assert len(events["items"]) == 2


def test_several_limits_of_one_kind_are_all_enforced(limited: Any, keys: Keys) -> None:
    with limited(rate_limit_read="100/second;2/minute") as api:
        answers = [api.get("/clients", headers=auth(keys.agent)) for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert answers[0].headers["RateLimit-Policy"] == '"read-1s";q=100;w=1, "read-60s";q=2;w=60'
        assert re.fullmatch(r'"read-60s";r=1;t=\d+', answers[0].headers["RateLimit"])
        assert_rate_limited(answers[2], policy="read-60s")


def test_a_rest_tool_call_counts_once_as_its_tools_kind(limited: Any, keys: Keys) -> None:
    """`list_clients` is a read: a POST to /tools/list_clients spends the read budget, once (its twin, called
    in-process, is not counted again), and leaves the write budget alone."""
    with limited(rate_limit_read="2/minute", rate_limit_write="1/minute") as api:
        calls = [api.post("/tools/list_clients", json={}, headers=auth(keys.agent)) for _ in range(3)]
        assert [r.status_code for r in calls] == [200, 200, 429]
        assert_rate_limited(calls[2], policy="read")
        note = {"client_id": 1, "event_type": "note", "payload": "x"}
        assert api.post("/tools/record_note", json=note, headers=auth(keys.agent)).status_code == 200
        again = api.post("/tools/record_note", json=note, headers=auth(keys.agent))
        assert_rate_limited(again, policy="write")


def test_mcp_tool_calls_count_against_the_same_limits(limited: Any, keys: Keys) -> None:
    with limited(rate_limit_read="2/minute", rate_limit_write="100/minute") as api:
        first = mcp_tool_call(api, keys.agent, "list_clients", {})
        assert not first.json()["result"].get("isError")
        assert first.headers["RateLimit-Policy"] == '"read";q=2;w=60'
        # REST reads and MCP reads share the key's one budget
        assert api.get("/clients", headers=auth(keys.agent)).status_code == 200
        refused = mcp_tool_call(api, keys.agent, "list_clients", {})
        result = refused.json()["result"]
        assert result["isError"] is True
        text = result["content"][0]["text"]
        assert "rate limit" in text
        assert re.search(r"retry in \d+ seconds?", text)
        # a write tool is a write: still allowed
        note = {"client_id": 1, "event_type": "note", "payload": "over mcp"}
        wrote = mcp_tool_call(api, keys.agent, "record_note", note).json()["result"]
        assert not wrote.get("isError"), wrote


def _spend(path: str, key_id: int, attempts: int, start: Any, results: Any) -> None:
    """In its own process: open the host's counter file, wait for the other, try `attempts` reads of a key."""
    counters = of_storage(SharedCounters(path=Path(path)))
    rates = RateLimits(counters, read="50/minute", write="1/minute")
    start.wait()

    async def spend() -> int:
        return sum([(await rates.charge("read", 1, key_id)).allowed for _ in range(attempts)])

    try:
        results.put(asyncio.run(spend()))
    finally:
        counters.close()


def test_two_processes_share_one_budget_per_key(tmp_path: Path) -> None:
    """Two OS processes (as two workers) each try 40 reads for one key limited to 50 a minute: together they
    are allowed exactly 50. Counters in each process's own memory would allow 80."""
    path = tmp_path / "counters"
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_spend, args=(str(path), 7, 40, start, results)) for _ in range(2)]
    for w in workers:
        w.start()
    allowed = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    assert sum(allowed) == 50
    # another key's budget is untouched
    counters = of_storage(SharedCounters(path=path))
    try:
        verdict = asyncio.run(RateLimits(counters, read="50/minute", write="1/minute").charge("read", 1, 8))
        assert verdict.allowed
        assert verdict.remaining == 49
    finally:
        counters.close()


@pytest.mark.parametrize("uri", ["memory://", "async+memory://"])
def test_a_limits_storage_uri_is_used_when_set(limited: Any, keys: Keys, uri: str, tmp_path: Path) -> None:
    with limited(rate_limit_read="2/minute", rate_limit_storage=uri, home=tmp_path / "elsewhere") as api:
        codes = [api.get("/clients", headers=auth(keys.agent)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert not (tmp_path / "elsewhere" / "run").exists()  # no shared file: the storage holds the counts


def test_a_bad_limit_notation_stops_the_start(limited: Any) -> None:
    with pytest.raises(ValueError, match="couldn't parse rate limit string"), limited(rate_limit_read="lots"):
        pass


def test_the_shared_table_reuses_ended_windows_and_forgets_the_oldest_when_full(tmp_path: Path) -> None:
    table = SharedCounters(path=tmp_path / "small", slots=8)  # one bucket
    now = [1000.0]
    table.clock = lambda: now[0]
    try:
        for n in range(8):
            assert table.hit(f"k{n}", 10 + n) == (1, 1000.0 + 10 + n)
        assert table.hit("k0", 10) == (2, 1010.0)  # a live counter keeps its window
        assert table.hit("k8", 100) == (1, 1100.0)  # full: the window ending first (k0's) is forgotten
        assert table.get("k0") == 0
        assert table.get("k1") == 1
        now[0] = 1012.5  # k1 and k2 have ended
        assert table.get("k1") == 0
        assert table.hit("k1", 10) == (1, 1022.5)  # an ended window starts anew
        table.clear("k3")
        assert table.get("k3") == 0
        assert table.get("k8") == 1
    finally:
        table.close()
    with pytest.raises(RuntimeError, match="not a wealthgate counter file"):
        SharedCounters(path=tmp_path / "small", slots=16)
