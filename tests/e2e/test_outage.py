"""A database outage, for real: `wealthgate demo --workers 2` on a PostgreSQL of the test's own, which the
test stops mid-run and starts again. While it is down every answer is a 503 problem with `Retry-After`
(never a 500), liveness stays up and readiness names the database; the SDK waits as told and its read
succeeds once the database is back; then both workers answer again without a restart."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.process import Server, free_port
from wealthgate.client import RetryPolicy, WealthgateClient
from wealthgate.db.embedded import EmbeddedPostgres
from wealthgate.db.server import EMBEDDED_DBNAME, ensure_database

pytestmark = pytest.mark.e2e
RETRY_AFTER = "2"


class Recording(httpx.BaseTransport):
    """Real HTTP; notes each answer's status, Retry-After and time, and says when the first 503 came."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[tuple[int, str | None, float]] = []
        self.unavailable = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.seen.append((response.status_code, response.headers.get("retry-after"), time.monotonic()))
        if response.status_code == 503:
            self.unavailable.set()
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    pgdata = tmp_path / "pgdata"
    pg = EmbeddedPostgres(pgdata)
    ensure_database(pg.url, EMBEDDED_DBNAME)
    yield pgdata, pg.url_for(EMBEDDED_DBNAME)
    EmbeddedPostgres(pgdata).stop()  # attaches to (or starts) the server again, then stops it


def test_an_outage_answers_503_with_retry_after_and_recovers(own_database: tuple[Path, str]) -> None:
    pgdata, url = own_database
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Server(
        "demo",
        "--port",
        str(port),
        "--workers",
        "2",
        DATABASE_URL=url,
        WEALTHGATE_RETRY_AFTER_SECONDS=RETRY_AFTER,
        WEALTHGATE_AUDIT_CHECKPOINT_SECONDS="0",
    )
    statuses: list[int] = []
    try:
        key = server.wait_for_line("WEALTHGATE_API_KEY=").split("=", 1)[1]
        server.wait_healthy(base)
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{base}/clients/1/context", headers=auth).status_code == 200
        assert httpx.get(f"{base}/readyz").status_code == 200

        EmbeddedPostgres(pgdata).stop()  # this process's handle is the last one: PostgreSQL stops

        # Requests for longer than the key cache (5 s), so both the cached-key path (the read's connection
        # fails) and the authentication path (the key lookup fails) meet the outage; fresh connections
        # reach both workers.
        deadline = time.monotonic() + 6
        problems: list[httpx.Response] = []
        while time.monotonic() < deadline:
            for path in ("/clients/1/context", "/clients", "/clients/2/context"):
                answer = httpx.get(f"{base}{path}", headers=auth)
                statuses.append(answer.status_code)
                if answer.status_code == 503:
                    problems.append(answer)
        assert set(statuses) == {503}, f"statuses during the outage: {sorted(set(statuses))}"
        sample = problems[-1]
        assert sample.headers["retry-after"] == RETRY_AFTER
        assert sample.headers["content-type"] == "application/problem+json"
        body: dict[str, Any] = sample.json()
        assert (body["status"], body["type"]) == (503, "urn:wealthgate:problem:unavailable")
        assert body["request_id"] == sample.headers["x-request-id"]

        assert httpx.get(f"{base}/healthz").status_code == 200  # alive: restarting would not help
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["database"]["status"] == "failing"
        assert checks["migrations"]["status"] == "skipped"

        # The SDK, asked for a read during the outage, waits as told and gets its answer once it is over.
        recording = Recording()
        result: dict[str, Any] = {}
        policy = RetryPolicy(attempts=30, base_delay=0.25, max_delay=3.0)

        def read() -> None:
            with WealthgateClient(key, base_url=base, retry=policy, transport=recording) as wg:
                result["context"] = wg.get_client_context(1)

        reader = threading.Thread(target=read)
        reader.start()
        assert recording.unavailable.wait(timeout=30), "the SDK never met the outage"
        EmbeddedPostgres(pgdata)  # PostgreSQL starts again on the same data directory and socket
        reader.join(timeout=120)
        assert not reader.is_alive()
        assert result["context"]["client"]["id"] == 1
        seen = recording.seen
        assert seen[-1][0] == 200
        assert {status for status, _, _ in seen[:-1]} == {503}
        for (_, retry_after, sent), (_, _, next_sent) in itertools.pairwise(seen):
            assert retry_after == RETRY_AFTER
            assert next_sent - sent >= float(RETRY_AFTER)  # Retry-After honoured: a lower bound

        # Both workers answer again: 20 fresh connections in a row succeed (never a 500 on the way).
        after: list[int] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and after[-20:] != [200] * 20:
            after.append(httpx.get(f"{base}/clients/1/context", headers=auth).status_code)
        assert after[-20:] == [200] * 20
        assert set(after) <= {200, 503}
        assert httpx.get(f"{base}/readyz").status_code == 200
    finally:
        assert server.stop() == 0
    assert "Internal Server Error" not in "".join(server.output)
