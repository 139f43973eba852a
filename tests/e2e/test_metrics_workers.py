"""`/metrics` under `wealthgate serve --workers 2`: whichever worker answers a scrape, it reports every
worker's counts (prometheus-client's multiprocess mode in the directory the supervisor hands them)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.process import Server, free_port

pytestmark = pytest.mark.e2e
REQUESTS = 40


def readyz_count(text: str) -> float:
    """Answered `/readyz` requests: a route nothing but this test calls (the start-up wait polls `/healthz`,
    and a count is taken just after its answer is sent, so a scrape at once may miss the last one)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "wealthgate_http_requests_total" and sample.labels == {
                "method": "GET",
                "route": "/readyz",
                "status": "200",
            }:
                return sample.value
    return 0.0


def test_every_scrape_sums_all_workers(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    shared = tmp_path / "metrics"
    server = Server(
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
        DATABASE_URL=db_url,
        PROMETHEUS_MULTIPROC_DIR=str(shared),
    )
    try:
        server.wait_healthy(base)
        for _ in range(REQUESTS):  # a fresh connection each: the kernel spreads them over both workers
            assert httpx.get(f"{base}/readyz").status_code == 200
        writers = {path.stem.rsplit("_", 1)[-1] for path in shared.glob("counter_*.db")}
        assert len(writers) >= 2, f"one worker took every connection: {sorted(writers)}"
        # the last answer's count is written just after it is sent: the first scrapes may precede it
        seen = [readyz_count(httpx.get(f"{base}/metrics").text) for _ in range(50)]
        assert REQUESTS in seen, seen
        for _ in range(6):  # then each scrape, answered by either worker, counts all of them
            assert readyz_count(httpx.get(f"{base}/metrics").text) == REQUESTS
    finally:
        assert server.stop() == 0
