"""The async SDK against the real app in-process (httpx.ASGITransport, real pool, real database): a write
whose answer is lost after it committed is retried with the same Idempotency-Key and stored once; errors
arrive as typed exceptions carrying the problem details."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from tests.conftest import Keys
from tests.support import fetchval
from wealthgate.api.app import create_app
from wealthgate.client import (
    AsyncWealthgateClient,
    Invalid,
    NotFound,
    RetryPolicy,
    Trade,
    Unauthorized,
)
from wealthgate.settings import Settings
from wealthgate.tools.catalog import TOOLS

T = TypeVar("T")
BASE = "http://wealthgate.test"
FAST = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05)
TRADES: list[Trade] = [{"side": "buy", "symbol": "SPY", "quantity": "2"}]


class LoseAnswers(httpx.AsyncBaseTransport):
    """Passes every request to the app, which runs it to the end (and commits); then, `drops` times for
    `path`, throws the answer away and reports the connection reset instead."""

    def __init__(self, inner: httpx.AsyncBaseTransport, path: str, drops: int = 1) -> None:
        self.inner, self.path, self.drops = inner, path, drops
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if request.url.path != self.path:
            return response
        self.exchanges.append((request, response))
        if self.drops > 0:
            self.drops -= 1
            raise httpx.ReadError("connection reset before the answer arrived", request=request)
        return response


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncBaseTransport]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app)


def with_app(settings: Settings, work: Callable[[httpx.AsyncBaseTransport], Awaitable[T]]) -> T:
    async def run() -> T:
        async with running(settings) as transport:
            return await work(transport)

    return asyncio.run(run())


def count(db_url: str, sql: str, *args: Any) -> int:
    return int(fetchval(db_url, sql, *args))


def test_a_write_retried_after_a_dropped_response_creates_exactly_one_record(
    settings: Settings, keys: Keys, db_url: str
) -> None:
    before = count(db_url, "SELECT count(*) FROM recommendations")
    lossy: list[LoseAnswers] = []

    async def work(app: httpx.AsyncBaseTransport) -> dict[str, Any]:
        lossy.append(LoseAnswers(app, "/tools/propose_recommendation", drops=2))
        async with AsyncWealthgateClient(keys.agent, base_url=BASE, transport=lossy[0], retry=FAST) as wg:
            return await wg.propose_recommendation(
                1, trades=TRADES, rationale="lost answers", agent_name="pytest"
            )

    stored = with_app(settings, work)
    exchanges = lossy[0].exchanges
    assert len(exchanges) == 3  # two answers lost, the third one arrived
    keys_sent = {r.headers["idempotency-key"] for r, _ in exchanges}
    assert len(keys_sent) == 1
    key = keys_sent.pop()
    assert {orjson.loads(r.content)["idempotency_key"] for r, _ in exchanges} == {key}
    # every try reached the app; the first created the record, the retries got its answer replayed
    assert [a.status_code for _, a in exchanges] == [201, 201, 201]
    assert exchanges[0][1].json() == exchanges[2][1].json() == stored
    assert stored["client_id"] == 1
    assert count(db_url, "SELECT count(*) FROM recommendations") == before + 1
    assert count(db_url, "SELECT count(*) FROM recommendations WHERE rationale = 'lost answers'") == 1
    assert (
        count(
            db_url,
            "SELECT count(*) FROM audit_events WHERE action = 'recommendation.proposed' AND target_id = $1",
            str(stored["id"]),
        )
        == 1
    )
    assert count(db_url, "SELECT count(*) FROM idempotency_keys WHERE key = $1", key) == 1


def test_without_the_key_the_same_loss_would_have_written_twice(
    settings: Settings, keys: Keys, db_url: str
) -> None:
    """The companion: a retry that does not reuse the key (a fresh key per try) creates a second record."""

    async def work(app: httpx.AsyncBaseTransport) -> None:
        async with AsyncWealthgateClient(keys.agent, base_url=BASE, transport=app, retry=FAST) as wg:
            for _ in range(2):
                await wg.propose_recommendation(1, trades=TRADES, rationale="naive", agent_name="pytest")

    with_app(settings, work)
    assert count(db_url, "SELECT count(*) FROM recommendations WHERE rationale = 'naive'") == 2


def test_errors_are_typed_and_carry_the_problem(settings: Settings, keys: Keys) -> None:
    async def work(app: httpx.AsyncBaseTransport) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with AsyncWealthgateClient(keys.agent, base_url=BASE, transport=app, retry=FAST) as wg:
            with pytest.raises(NotFound) as missing:
                await wg.get_client_context(40)
            seen["missing"] = missing.value
            seen["twin"] = await wg.request("GET", "/clients/1/context")
            with pytest.raises(NotFound) as twin_missing:
                await wg.request("GET", "/clients/40/context")
            seen["twin_missing"] = twin_missing.value
            with pytest.raises(Invalid) as invalid:
                await wg.get_risk(1, window=3)
            seen["invalid"] = invalid.value
            seen["anthropic"] = await wg.tools("anthropic")
            seen["context"] = await wg.call("get_client_context", {"client_id": 1})
        async with AsyncWealthgateClient(keys.reader, base_url=BASE, transport=app) as reader:
            with pytest.raises(NotFound) as hidden:
                await reader.record_note(1, event_type="note", payload="p")
            seen["hidden"] = hidden.value
        async with AsyncWealthgateClient("wg_1_1_" + "x" * 43, base_url=BASE, transport=app) as bad:
            with pytest.raises(Unauthorized) as unauthorized:
                await bad.list_clients()
            seen["unauthorized"] = unauthorized.value
        return seen

    seen = with_app(settings, work)
    missing = seen["missing"]
    assert missing.status == 404
    assert missing.detail == seen["twin_missing"].detail == "Client not found"
    assert missing.problem["status"] == 404
    assert missing.request_id
    assert seen["invalid"].status == 422
    assert "window" in {e["field"] for e in seen["invalid"].errors}
    assert {t["name"] for t in seen["anthropic"]} == set(TOOLS.names())
    assert seen["context"]["client"]["name"] == seen["twin"]["client"]["name"] == "Alice Chen"
    assert "no tool named 'record_note'" in seen["hidden"].detail
    assert seen["unauthorized"].status == 401
