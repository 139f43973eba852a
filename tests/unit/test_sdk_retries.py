"""The SDK's policy without a server: which failures are retried (and with the same Idempotency-Key), how
long it waits, how errors map to exceptions, and where the key and URL come from. Answers come from an
httpx.MockTransport playing a script of responses and network failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from wealthgate.client import (
    AsyncWealthgateClient,
    Conflict,
    ConnectionFailed,
    Forbidden,
    Invalid,
    MissingApiKey,
    NotFound,
    RetryPolicy,
    ServerError,
    Trade,
    Unauthorized,
    WealthgateClient,
    WealthgateError,
)

NOW = RetryPolicy(attempts=4, base_delay=0, max_delay=0)  # retries without sleeping
TRADE: list[Trade] = [{"side": "buy", "symbol": "AAPL", "quantity": "1"}]
IN_PROGRESS = {
    "type": "urn:wealthgate:problem:conflict",
    "title": "Conflict",
    "status": 409,
    "detail": "a request with this Idempotency-Key is still in progress; retry later",
}
Step = httpx.Response | type[httpx.TransportError]


class Script:
    """Answers requests with `steps` in order (a response, or a network error raised), recording each."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0)
        if isinstance(step, httpx.Response):
            return step
        raise step("scripted failure", request=request)

    def keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.requests]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def client(script: Script, policy: RetryPolicy = NOW) -> WealthgateClient:
    return WealthgateClient("wg_1_1_test", retry=policy, transport=httpx.MockTransport(script))


def created(rec_id: int = 7) -> httpx.Response:
    return httpx.Response(201, json={"id": rec_id, "client_id": 1, "status": "proposed", "verdict": {}})


def propose(wg: WealthgateClient) -> dict[str, Any]:
    return wg.propose_recommendation(1, trades=TRADE, rationale="why", agent_name="test")


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503), httpx.Response(502), httpx.Response(504), httpx.ReadError, httpx.ReadTimeout,
     httpx.RemoteProtocolError, httpx.ConnectError, httpx.Response(409, json=IN_PROGRESS)],
)  # fmt: skip
def test_a_keyed_write_is_retried_with_the_same_key(failure: Step) -> None:
    script = Script(failure, failure, created())
    assert propose(client(script))["id"] == 7
    keys = script.keys()
    assert len(keys) == 3
    assert keys[0] is not None
    assert keys[0].startswith("sdk-")
    assert len(set(keys)) == 1
    assert {b["idempotency_key"] for b in script.bodies()} == {keys[0]}


def test_the_callers_own_idempotency_key_is_used_for_every_try() -> None:
    script = Script(httpx.ReadError, created())
    with client(script) as wg:
        wg.propose_recommendation(1, trades=TRADE, rationale="r", agent_name="a", idempotency_key="mine-1")
    assert script.keys() == ["mine-1", "mine-1"]
    assert [b["idempotency_key"] for b in script.bodies()] == ["mine-1", "mine-1"]


def test_each_logical_call_gets_its_own_key() -> None:
    script = Script(created(1), created(2))
    with client(script) as wg:
        propose(wg)
        propose(wg)
    assert len(set(script.keys())) == 2


@pytest.mark.parametrize("failure", [httpx.ReadError, httpx.ReadTimeout, httpx.Response(503)])
def test_a_tool_write_is_retried_under_the_same_key(failure: Step) -> None:
    """The tool face passes the Idempotency-Key on to the REST twin, so record_note is retried safely."""
    script = Script(failure, httpx.Response(200, json={"status": "stored", "audit_event_id": 1}))
    with client(script) as wg:
        assert wg.record_note(1, event_type="note", payload="p")["audit_event_id"] == 1
    assert len(script.requests) == 2
    assert len(set(script.keys())) == 1


@pytest.mark.parametrize("failure", [httpx.ReadError, httpx.ReadTimeout, httpx.Response(503)])
def test_an_unknown_tool_is_not_retried_once_it_may_have_arrived(failure: Step) -> None:
    script = Script(failure, httpx.Response(404, json={"status": 404, "detail": "no tool"}))
    with client(script) as wg, pytest.raises((ConnectionFailed, ServerError)) as raised:
        wg.call("no_such_tool", {})
    assert len(script.requests) == 1
    if isinstance(raised.value, ConnectionFailed):
        assert "may have been applied" in str(raised.value)


def test_an_unkeyed_write_that_never_left_is_retried() -> None:
    script = Script(httpx.ConnectError, httpx.Response(201, json={"status": "stored", "audit_event_id": 1}))
    with client(script) as wg:
        assert wg.record_note(1, event_type="note", payload="p")["audit_event_id"] == 1
    assert len(script.requests) == 2


def test_retries_are_bounded() -> None:
    script = Script(*[httpx.ReadTimeout] * 4)
    with client(script) as wg, pytest.raises(ConnectionFailed, match="after 4 tries"):
        wg.get_risk(1)
    assert len(script.requests) == 4


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, Invalid), (401, Unauthorized), (403, Forbidden), (404, NotFound), (409, Conflict), (422, Invalid),
     (500, ServerError), (503, ServerError), (429, WealthgateError)],
)  # fmt: skip
def test_errors_map_to_exceptions_carrying_the_problem(status: int, kind: type[WealthgateError]) -> None:
    problem = {"type": "about:blank", "title": "T", "status": status, "detail": f"detail {status}",
               "errors": [{"field": "f", "message": "m"}], "request_id": "rid"}  # fmt: skip
    script = Script(*[httpx.Response(status, json=problem)] * 4)
    with client(script) as wg, pytest.raises(kind) as raised:
        wg.get_client_context(40)
    error = raised.value
    assert type(error) is kind
    assert (error.status, error.detail, error.title, error.request_id) == (
        status,
        f"detail {status}",
        "T",
        "rid",
    )
    assert error.problem == problem
    assert error.errors == [{"field": "f", "message": "m"}]
    assert len(script.requests) == (4 if status == 503 else 1)  # a read survives an unavailable service


def test_a_rate_limited_call_is_retried_after_a_short_retry_after_only() -> None:
    """A 429 did nothing, so even an unkeyed write is tried again, after the server's Retry-After; a wait
    beyond the policy's max_delay (a daily quota) is the caller's to decide."""
    limited = {"status": 429, "detail": "rate limited"}
    stored = {"status": "stored", "audit_event_id": 1}
    policy = RetryPolicy(attempts=3, base_delay=0, max_delay=0.01)
    script = Script(
        httpx.Response(429, json=limited, headers={"Retry-After": "0"}), httpx.Response(201, json=stored)
    )
    with client(script, policy) as wg:
        assert wg.record_note(1, event_type="note", payload="p")["audit_event_id"] == 1
    assert len(script.requests) == 2
    script = Script(httpx.Response(429, json=limited, headers={"Retry-After": "3600"}))
    with client(script, policy) as wg, pytest.raises(WealthgateError, match="rate limited"):
        wg.record_note(1, event_type="note", payload="p")
    assert len(script.requests) == 1


def test_a_conflict_that_is_not_in_progress_is_not_retried() -> None:
    script = Script(httpx.Response(409, json={"status": 409, "detail": "already approved"}), created())
    with client(script) as wg, pytest.raises(Conflict, match="already approved"):
        propose(wg)
    assert len(script.requests) == 1


def test_a_non_json_error_still_maps() -> None:
    script = Script(httpx.Response(502, text="Bad gateway from the proxy"))
    with client(script, RetryPolicy(attempts=1)) as wg, pytest.raises(ServerError) as raised:
        wg.get_drift(1)
    assert raised.value.status == 502
    assert raised.value.detail == "Bad gateway from the proxy"


def test_backoff_grows_with_jitter_and_stays_bounded() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.5, max_delay=3.0)
    for retry in range(10):
        ceiling = min(3.0, 0.5 * 2**retry)
        waits = {policy.delay(retry) for _ in range(50)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jittered
    assert policy.delay(0, hint=2.0) == 2.0  # Retry-After honoured ...
    assert policy.delay(0, hint=60.0) == 3.0  # ... but bounded


def test_the_async_client_shares_the_policy() -> None:
    script = Script(httpx.ReadError, httpx.Response(409, json=IN_PROGRESS), created())

    async def run() -> dict[str, Any]:
        transport = httpx.MockTransport(script)
        async with AsyncWealthgateClient("wg_1_1_test", retry=NOW, transport=transport) as wg:
            return await wg.propose_recommendation(1, trades=TRADE, rationale="r", agent_name="a")

    assert asyncio.run(run())["id"] == 7
    assert len(set(script.keys())) == 1
    assert len(script.requests) == 3


Make = Callable[[httpx.BaseTransport], WealthgateClient]


def sent_with(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], make: Make) -> httpx.Request:
    for name in ("WEALTHGATE_API_KEY", "FASTAPI_WEALTH_API_KEY", "WEALTHGATE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    script = Script(httpx.Response(200, json={"format": "openai", "tools": []}))
    with make(httpx.MockTransport(script)) as wg:
        assert wg.tools("openai") == []
    return script.requests[0]


def from_env(transport: httpx.BaseTransport) -> WealthgateClient:
    return WealthgateClient(transport=transport)


def test_the_key_and_url_come_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    both = {
        "WEALTHGATE_API_KEY": "wg_env",
        "FASTAPI_WEALTH_API_KEY": "wg_guide",
        "WEALTHGATE_URL": "http://h:1/",
    }
    sent = sent_with(
        monkeypatch, both, lambda t: WealthgateClient("wg_arg", base_url="http://arg:2", transport=t)
    )
    assert sent.headers["authorization"] == "Bearer wg_arg"
    assert str(sent.url) == "http://arg:2/tools?format=openai"
    sent = sent_with(monkeypatch, both, from_env)
    assert sent.headers["authorization"] == "Bearer wg_env"
    assert str(sent.url) == "http://h:1/tools?format=openai"
    sent = sent_with(monkeypatch, {"FASTAPI_WEALTH_API_KEY": "wg_guide"}, from_env)
    assert sent.headers["authorization"] == "Bearer wg_guide"
    assert str(sent.url) == "http://127.0.0.1:8000/tools?format=openai"
    with pytest.raises(MissingApiKey, match="WEALTHGATE_API_KEY"):
        sent_with(monkeypatch, {"WEALTHGATE_API_KEY": " "}, from_env)
    assert "wg_arg" not in repr(WealthgateClient("wg_arg").connection)


def test_both_clients_send_back_the_furthest_read_after_position_they_were_answered() -> None:
    """`WealthGate-Read-After` (docs/scaling.md): kept at its furthest, sent with every later request, on a
    retry too; an answer without it (or with nonsense) changes nothing. The server side is tested with real
    replicas (tests/integration/test_replicas.py)."""
    answers = iter(
        [
            httpx.Response(201, json={}, headers={"WealthGate-Read-After": "5000"}),
            httpx.Response(503, json={}),  # retried: the retry carries the position too
            httpx.Response(200, json={}, headers={"WealthGate-Read-After": "4000"}),  # older: kept at 5000
            httpx.Response(200, json={}, headers={"WealthGate-Read-After": "nonsense"}),
            httpx.Response(200, json={}, headers=[(b"WealthGate-Read-After", b"\xb2")]),  # "²": not a number
            httpx.Response(200, json={}),
        ]
    )
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("WealthGate-Read-After"))
        return next(answers)

    with WealthgateClient("wg_1_1_x", transport=httpx.MockTransport(answer), retry=NOW) as sync:
        sync.request("POST", "/accounts/1/transactions", json={})
        sync.request("GET", "/clients/1/context")  # 503, then 200 with 4000
        sync.request("GET", "/clients/1/context")
        sync.request("GET", "/clients/1/context")
    assert seen == [None, "5000", "5000", "5000", "5000"]

    async def run() -> list[str | None]:
        heard: list[str | None] = []

        def answer(request: httpx.Request) -> httpx.Response:
            heard.append(request.headers.get("WealthGate-Read-After"))
            return httpx.Response(200, json={}, headers={"WealthGate-Read-After": str(7 * len(heard))})

        async with AsyncWealthgateClient(
            "wg_1_1_x", transport=httpx.MockTransport(answer), retry=NOW
        ) as client:
            for _ in range(3):
                await client.request("GET", "/clients/1/context")
        return heard

    assert asyncio.run(run()) == [None, "7", "14"]
