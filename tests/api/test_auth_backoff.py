"""Failed authentication backs off per key id and per client address (docs/limits.md): after
`auth_max_failures` failures within the window, attempts are answered 429 with Retry-After without the
secret being checked; blocks double when the threshold is reached again; crossing the threshold is one audit
event; a success clears the key's count. The windows are moved on by the counters' clock, not by sleeping."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from tests.conftest import Keys
from tests.support import fetch
from wealthgate.api.app import create_app
from wealthgate.auth import keys as key_format
from wealthgate.settings import Settings

WINDOW = 60
MAX_FAILURES = 10
MCP_ACCEPT = {"Accept": "application/json, text/event-stream"}
auth = Keys.auth


@pytest.fixture
def guarded(settings: Settings) -> Callable[..., Any]:
    @contextmanager
    def make(**changes: Any) -> Iterator[TestClient]:
        changed = settings.model_copy(
            update={"auth_max_failures": MAX_FAILURES, "auth_failure_window_seconds": WINDOW, **changes}
        )
        with TestClient(create_app(changed), raise_server_exceptions=False) as client:
            yield client

    return make


class Clock:
    """The shared counters' clock, moved on by hand."""

    def __init__(self, api: TestClient) -> None:
        self.shared = api.app.state.throttle.counters.shared  # type: ignore[attr-defined]
        self.now = self.shared.clock()
        self.shared.clock = lambda: self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wrong_secret(key: str) -> str:
    """The same firm and key id with another secret."""
    parsed = key_format.parse(key)
    assert parsed is not None
    return key_format.format_key(parsed.firm_id, parsed.key_id, key_format.new_secret())


def from_address(api: TestClient, address: str, path: str, key: str) -> httpx.Response:
    """GET `path` from the client address `address` (in the app's own event loop)."""

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get(path, headers=auth(key))

    return api.portal.call(get)  # type: ignore[union-attr]


def failures(reason: str) -> float:
    return REGISTRY.get_sample_value("wealthgate_auth_failures_total", {"reason": reason}) or 0.0


def backoff_events(db_url: str) -> list[Any]:
    return fetch(
        db_url,
        "SELECT firm_id, target_id, actor, details FROM audit_events"
        " WHERE action = 'api_key.authentication_backed_off' ORDER BY id",
    )


def test_wrong_secrets_for_a_real_key_back_off(guarded: Any, keys: Keys, db_url: str) -> None:
    wrong = wrong_secret(keys.agent)
    invalid, backed_off = failures("invalid"), failures("backed_off")
    with guarded() as api:
        clock = Clock(api)
        answers = [api.get("/clients", headers=auth(wrong)) for _ in range(400)]
        codes = [r.status_code for r in answers]
        assert codes == [401] * MAX_FAILURES + [429] * (400 - MAX_FAILURES)
        refused = answers[-1]
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:wealthgate:problem:authentication-backed-off"
        assert 1 <= int(refused.headers["Retry-After"]) <= WINDOW
        assert re.search(r"retry in \d+ seconds?", refused.json()["detail"])

        # one audit event for the threshold, in the key's firm, not one per attempt
        events = backoff_events(db_url)
        assert len(events) == 1
        event = events[0]
        parsed = key_format.parse(keys.agent)
        assert parsed is not None
        assert (event["firm_id"], event["target_id"]) == (parsed.firm_id, str(parsed.key_id))
        assert event["details"]["key_exists"] is True
        assert event["details"]["strike"] == 1
        assert event["details"]["subjects"] == ["key", "address"]
        assert event["actor"] == {"type": "anonymous", "address": "testclient"}

        # the right secret, from an address that never failed, is refused while the key is blocked: the
        # secret is not even looked at (the block is on the key id)
        fresh = from_address(api, "203.0.113.9", "/clients", keys.agent)
        assert fresh.status_code == 429
        # another key from that fresh address is fine: only the key id and the guessing address are blocked
        assert from_address(api, "203.0.113.9", "/clients", keys.reader).status_code == 200
        # ... while the guessing address is blocked for every key
        assert api.get("/clients", headers=auth(keys.reader)).status_code == 429

        # after the window (the first block lasts one window) the right key works again, from anywhere
        clock.advance(WINDOW + 1)
        assert from_address(api, "203.0.113.9", "/clients", keys.agent).status_code == 200
        assert api.get("/clients", headers=auth(keys.agent)).status_code == 200
    assert failures("invalid") == invalid + MAX_FAILURES
    assert failures("backed_off") >= backed_off + 400 - MAX_FAILURES


def test_blocks_double_until_a_success_clears_the_key(guarded: Any, keys: Keys, db_url: str) -> None:
    wrong = wrong_secret(keys.agent)

    def guess_until_blocked(address: str) -> int:
        """Wrong secrets from `address` until refused; the refusal's Retry-After."""
        for _ in range(MAX_FAILURES):
            assert from_address(api, address, "/clients", wrong).status_code == 401
        refused = from_address(api, address, "/clients", wrong)
        assert refused.status_code == 429
        return int(refused.headers["Retry-After"])

    with guarded() as api:
        clock = Clock(api)
        assert guess_until_blocked("198.51.100.1") == WINDOW
        clock.advance(WINDOW + 1)
        # the key id reaches the threshold again (from other addresses): twice as long
        assert guess_until_blocked("198.51.100.2") == 2 * WINDOW
        clock.advance(2 * WINDOW + 1)
        # a success clears the key's count and strikes: the next block is one window again
        assert from_address(api, "198.51.100.3", "/clients", keys.agent).status_code == 200
        assert guess_until_blocked("198.51.100.4") == WINDOW
    assert [e["details"]["strike"] for e in backoff_events(db_url)] == [1, 2, 1]


def test_a_key_of_no_firm_is_counted_but_not_audited(guarded: Any, keys: Keys, db_url: str) -> None:
    stranger = key_format.format_key(987_654, 1, key_format.new_secret())
    with guarded() as api:
        codes = [api.get("/clients", headers=auth(stranger)).status_code for _ in range(MAX_FAILURES + 1)]
    assert codes == [401] * MAX_FAILURES + [429]
    assert backoff_events(db_url) == []


def test_mcp_shares_the_back_off(guarded: Any, keys: Keys) -> None:
    wrong = wrong_secret(keys.agent)
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    with guarded() as api:
        codes = [
            api.post("/mcp", json=message, headers={**auth(wrong), **MCP_ACCEPT}).status_code
            for _ in range(MAX_FAILURES + 1)
        ]
        assert codes == [401] * MAX_FAILURES + [429]
        # the REST routes see the same block (one count per key id, whichever face)
        blocked = from_address(api, "203.0.113.20", "/clients", keys.agent)
        assert blocked.status_code == 429
        assert "Retry-After" in blocked.headers
