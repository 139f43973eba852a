"""The per-key limits and the authentication back-off counted in a shared store (docs/limits.md,
WEALTHGATE_RATE_LIMIT_STORAGE), a real Redis: two hosts (two apps with homes of their own, so without the
store each would count alone in its own shared file) share one budget per key and one back-off; a store that
goes away fails closed (503 with Retry-After), never serves without limits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests import redis_server
from tests.conftest import Keys
from wealthgate.api.app import create_app
from wealthgate.auth import keys as key_format
from wealthgate.settings import Settings

auth = Keys.auth


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[redis_server.Redis]:
    with redis_server.running(tmp_path) as server:
        yield server


@contextmanager
def host(settings: Settings, home: Path, address: str = "192.0.2.1", **changes: Any) -> Iterator[TestClient]:
    """One host of the service (its own home, hence its own shared counters file), its requests coming from
    `address`."""
    changed = settings.model_copy(update={"home": home, **changes})
    app = create_app(changed)
    with TestClient(app, raise_server_exceptions=False, client=(address, 40000)) as client:
        yield client


def four_reads(settings: Settings, tmp_path: Path, key: str, **changes: Any) -> list[int]:
    """Reads by one key, alternating between two hosts, at 3 a minute."""
    limits = {"rate_limit_read": "3/minute", **changes}
    with host(settings, tmp_path / "a", **limits) as a, host(settings, tmp_path / "b", **limits) as b:
        return [h.get("/clients", headers=auth(key)).status_code for h in (a, b, a, b)]


def test_two_hosts_share_one_budget_per_key(
    settings: Settings, keys: Keys, redis: redis_server.Redis, tmp_path: Path
) -> None:
    assert four_reads(settings, tmp_path, keys.agent, rate_limit_storage=redis.uri) == [200, 200, 200, 429]


def test_without_the_store_each_host_counts_alone(settings: Settings, keys: Keys, tmp_path: Path) -> None:
    """The control: what the store changes (two hosts, two budgets: docs/limits.md)."""
    assert four_reads(settings, tmp_path, keys.agent) == [200, 200, 200, 200]


def test_wrong_secrets_on_one_host_block_the_key_on_the_other(
    settings: Settings, keys: Keys, redis: redis_server.Redis, tmp_path: Path
) -> None:
    """A guesser spreading its attempts over hosts is counted once: the key id is blocked everywhere, even
    for its right secret from an address that never failed; another key from that address is served."""
    parsed = key_format.parse(keys.agent)
    assert parsed is not None
    wrong = key_format.format_key(parsed.firm_id, parsed.key_id, key_format.new_secret())
    guarded = {"rate_limit_storage": redis.uri, "auth_max_failures": 3}
    with (
        host(settings, tmp_path / "a", "203.0.113.7", **guarded) as a,
        host(settings, tmp_path / "b", "198.51.100.9", **guarded) as b,
    ):
        guesses = [a.get("/clients", headers=auth(wrong)).status_code for _ in range(3)]
        right_secret_elsewhere = b.get("/clients", headers=auth(keys.agent))
        another_key = b.get("/clients", headers=auth(keys.reader))
    assert guesses == [401, 401, 401]
    assert right_secret_elsewhere.status_code == 429
    assert right_secret_elsewhere.json()["type"] == "urn:wealthgate:problem:authentication-backed-off"
    assert another_key.status_code == 200


def test_a_store_that_goes_away_fails_closed(
    settings: Settings, keys: Keys, redis: redis_server.Redis, tmp_path: Path
) -> None:
    with host(settings, tmp_path / "a", rate_limit_storage=redis.uri) as api:
        assert api.get("/clients", headers=auth(keys.agent)).status_code == 200
        redis.stop()
        refused = api.get("/clients", headers=auth(keys.agent))
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
