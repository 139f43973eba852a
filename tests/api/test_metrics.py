"""`/metrics`: Prometheus text labelled by route template (never the raw path), the pool and read-audit
gauges sampled from the live objects, the checkpoint age read from the database, the counters other
slices increment, and multiprocess mode summing several processes' files (real workers:
tests/e2e/test_metrics_workers.py)."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Keys
from tests.support import with_conn
from wealthgate.audit import keyring
from wealthgate.audit.reads import ReadRecorder
from wealthgate.audit.timer import checkpoint_all
from wealthgate.auth.principal import Principal
from wealthgate.db.pool import create_pool
from wealthgate.observability import metrics
from wealthgate.settings import Settings

CONTEXT = "/clients/{client_id}/context"


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(api: TestClient) -> Samples:
    answer = api.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def requests_of(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], route: str, status: str
) -> float:
    key = ("wealthgate_http_requests_total", (("method", "GET"), ("route", route), ("status", status)))
    return samples.get(key, 0.0)


def test_requests_are_counted_by_route_template_and_status(api: TestClient, keys: Keys) -> None:
    before = scrape(api)
    for client_id in (1, 2, 3):
        assert api.get(f"/clients/{client_id}/context", headers=Keys.auth(keys.agent)).status_code == 200
    assert api.get("/clients/999999/context", headers=Keys.auth(keys.agent)).status_code == 404
    assert api.get("/clients/1/context").status_code == 401
    assert api.get("/no/such/path").status_code == 404
    after = scrape(api)

    assert requests_of(after, CONTEXT, "200") - requests_of(before, CONTEXT, "200") == 3
    assert requests_of(after, CONTEXT, "404") - requests_of(before, CONTEXT, "404") == 1
    assert requests_of(after, CONTEXT, "401") - requests_of(before, CONTEXT, "401") == 1
    assert requests_of(after, "unmatched", "404") - requests_of(before, "unmatched", "404") == 1
    latency = (
        "wealthgate_http_request_duration_seconds_count",
        (("method", "GET"), ("route", CONTEXT), ("status", "200")),
    )
    assert after[latency] - before.get(latency, 0.0) == 3
    # bounded labels: no raw path ever becomes a label value
    routes = {dict(labels).get("route") for _name, labels in after}
    assert not any(route and ("/clients/1/" in route or "/no/such" in route) for route in routes)


def test_a_tool_call_is_one_request_and_one_access_line(
    api: TestClient, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    """The REST tool face calls its REST twin in-process: counted and logged once, as the face's request.
    Before: twice (the twin's GET as well)."""
    before = scrape(api)
    with caplog.at_level(logging.INFO, logger="wealthgate.access"):
        answer = api.post("/tools/get_client_context", json={"client_id": 1}, headers=Keys.auth(keys.agent))
    assert answer.status_code == 200, answer.text
    after = scrape(api)
    face = (
        "wealthgate_http_requests_total",
        (("method", "POST"), ("route", "/tools/{name}"), ("status", "200")),
    )
    assert after[face] - before.get(face, 0.0) == 1
    assert requests_of(after, CONTEXT, "200") == requests_of(before, CONTEXT, "200")
    lines = [r.getMessage() for r in caplog.records if r.name == "wealthgate.access"]
    served = [line for line in lines if not line.startswith("GET /metrics ")]
    assert len(served) == 1, lines
    assert served[0].startswith("POST /tools/{name} 200")


def test_plain_routes_and_odd_methods_keep_bounded_labels(api: TestClient) -> None:
    before = scrape(api)
    assert api.get("/openapi.json").status_code == 200
    assert api.request("BREW", "/healthz").status_code == 405
    after = scrape(api)
    assert requests_of(after, "/openapi.json", "200") - requests_of(before, "/openapi.json", "200") == 1
    other = (
        "wealthgate_http_requests_total",
        (("method", "OTHER"), ("route", "/healthz"), ("status", "405")),
    )
    assert after[other] - before.get(other, 0.0) == 1


def test_the_exposition_has_every_metric_and_needs_no_key(
    api: TestClient, db_url: str, settings: Settings
) -> None:
    text = api.get("/metrics").text
    for name in (
        "wealthgate_http_requests_total",
        "wealthgate_http_request_duration_seconds",
        "wealthgate_db_pool_connections_in_use",
        "wealthgate_db_pool_connections_idle",
        "wealthgate_db_pool_acquire_waiting",
        "wealthgate_read_audit_queue_depth",
        "wealthgate_read_audit_flush_lag_seconds",
        "wealthgate_audit_checkpoint_age_seconds",
        "wealthgate_rate_limit_refusals_total",
        "wealthgate_auth_failures_total",
    ):
        assert f"# HELP {name} " in text, name
    # no checkpoint yet: NaN; after one, its age in seconds
    assert math.isnan(scrape(api)[("wealthgate_audit_checkpoint_age_seconds", ())])
    with_conn(db_url, lambda c: checkpoint_all(c, keyring.installed(), settings, wait=True))
    age = scrape(api)[("wealthgate_audit_checkpoint_age_seconds", ())]
    assert 0 <= age < 60


def test_the_counters_for_limits_and_authentication_are_exported(api: TestClient) -> None:
    before = scrape(api)
    metrics.RATE_LIMIT_REFUSALS.labels("read").inc()
    metrics.AUTH_FAILURES.labels("unknown_key").inc()
    after = scrape(api)
    refusals = ("wealthgate_rate_limit_refusals_total", (("kind", "read"),))
    failures = ("wealthgate_auth_failures_total", (("reason", "unknown_key"),))
    assert after[refusals] - before.get(refusals, 0.0) == 1
    assert after[failures] - before.get(failures, 0.0) == 1


def gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


def test_pool_and_read_audit_gauges_are_sampled_from_the_live_objects(db_url: str, tmp_path: Path) -> None:
    """A pool of one connection, lent out, with a second acquirer waiting; three reads not yet flushed."""
    reader = Principal(key_id=1, firm_id=1, advisor_id=None, scopes=frozenset(), name="t", owner="t")

    async def run() -> dict[str, float]:
        pool = await create_pool(db_url, min_size=1, max_size=1)
        try:
            reads = ReadRecorder(pool, tmp_path)  # never started: the reads wait
            for _ in range(3):
                reads.note(reader, 1, "test", None)
            async with pool.acquire():
                waiter = asyncio.create_task(pool.acquire().__aenter__())
                for _ in range(100):  # let it reach the pool's queue
                    if metrics.waiting_for(pool):
                        break
                    await asyncio.sleep(0)
                metrics.sample(pool, reads)
                busy = {
                    "in_use": gauge("wealthgate_db_pool_connections_in_use"),
                    "idle": gauge("wealthgate_db_pool_connections_idle"),
                    "waiting": gauge("wealthgate_db_pool_acquire_waiting"),
                    "depth": gauge("wealthgate_read_audit_queue_depth"),
                    "lag": gauge("wealthgate_read_audit_flush_lag_seconds"),
                }
            await pool.release(await waiter)
            metrics.sample(pool, reads)
            busy["waiting_after"] = gauge("wealthgate_db_pool_acquire_waiting")
            await reads.flush()
            metrics.sample(pool, reads)
            busy["depth_after"] = gauge("wealthgate_read_audit_queue_depth")
            busy["lag_after"] = gauge("wealthgate_read_audit_flush_lag_seconds")
            return busy
        finally:
            await pool.close()

    found = asyncio.run(run())
    assert (found["in_use"], found["idle"], found["waiting"]) == (1, 0, 1)
    assert found["depth"] == 3
    assert found["lag"] > 0
    assert found["waiting_after"] == 0
    assert (found["depth_after"], found["lag_after"]) == (0, 0)


WORKER = textwrap.dedent(
    """
    import os
    import sys
    from wealthgate.observability import metrics
    assert metrics.MULTIPROCESS
    for _ in range(int(sys.argv[1])):
        metrics.observe_request("GET", "/clients/{client_id}/context", 200, 0.01)
    metrics.POOL_IN_USE.set(int(sys.argv[2]))
    print(os.getpid())
    """
)
SCRAPER = textwrap.dedent(
    """
    import sys
    from wealthgate.observability import metrics
    sys.stdout.write(metrics.render().decode())
    """
)


def test_multiprocess_mode_sums_every_process(tmp_path: Path) -> None:
    """Three processes write into one PROMETHEUS_MULTIPROC_DIR; a fourth renders what all of them counted."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    pids = [
        int(
            subprocess.run(
                [sys.executable, "-c", WORKER, str(count), str(in_use)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for count, in_use in ((3, 1), (4, 2), (5, 4))
    ]
    multiprocess.mark_process_dead(pids[2], str(tmp_path))  # as the supervisor does for a dead worker

    def render() -> Samples:
        text = subprocess.run(
            [sys.executable, "-c", SCRAPER], env=env, check=True, capture_output=True, text=True
        ).stdout
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    samples = render()
    key = ("wealthgate_http_requests_total", (("method", "GET"), ("route", CONTEXT), ("status", "200")))
    assert samples[key] == 12  # counters keep a dead worker's counts
    # livesum: the gauges of processes marked dead are gone (the live ones' 1 + 2)
    assert samples[("wealthgate_db_pool_connections_in_use", ())] == 3


def test_the_context_cache_shows_its_hits_and_misses(api: TestClient, keys: Keys) -> None:
    for _ in range(3):
        answer = api.get("/clients/1/context", headers=Keys.auth(keys.reader))
        assert answer.status_code == 200
    cache = api.app.state.context_cache  # type: ignore[attr-defined]
    samples = scrape(api)
    assert samples[("wealthgate_context_cache_reads", (("result", "miss"),))] == cache.misses >= 1
    assert samples[("wealthgate_context_cache_reads", (("result", "hit"),))] == cache.hits >= 2
    assert samples[("wealthgate_context_cache_documents", ())] == len(cache) >= 1
    assert samples[("wealthgate_context_cache_bytes", ())] == cache.bytes == len(answer.content)
