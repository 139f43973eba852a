"""The SDK and the example portfolio review agent against a real `wealthgate serve` process on the demo book:
a write whose answer is lost on the wire is stored once; the agent proposes recommendations and notes the
rest."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import AGENT, REPO
from tests.e2e.process import Server, env, free_port
from tests.support import fetch, fetchval, make_key
from wealthgate.client import NotFound, RetryPolicy, Trade, WealthgateClient

pytestmark = pytest.mark.e2e
AGENT_SCRIPT = REPO / "examples" / "portfolio_review_agent.py"


class LoseAnswers(httpx.BaseTransport):
    """Real HTTP to the server; for `path`, the first `drops` answers are read and thrown away, and the SDK is
    told the connection was reset, as when a proxy or the network fails after the server committed."""

    def __init__(self, path: str, drops: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.path, self.drops = path, drops
        self.answers: list[httpx.Response] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path != self.path:
            return response
        response.read()
        self.answers.append(response)
        if self.drops > 0:
            self.drops -= 1
            raise httpx.ReadError("connection reset by peer", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def served(db_url: str) -> Iterator[str]:
    port = free_port()
    server = Server("serve", "--port", str(port), "--no-access-log", DATABASE_URL=db_url)
    base = f"http://127.0.0.1:{port}"
    try:
        server.wait_healthy(base)
        yield base
    finally:
        assert server.stop() == 0


def test_the_sync_sdk_retries_a_lost_answer_into_exactly_one_record(served: str, db_url: str) -> None:
    key = make_key(db_url, 1, AGENT, name="sdk")
    before = fetchval(db_url, "SELECT count(*) FROM recommendations")
    lossy = LoseAnswers("/tools/propose_recommendation", drops=1)
    trades: list[Trade] = [{"side": "buy", "symbol": "SPY", "quantity": "3"}]
    with WealthgateClient(key, base_url=served, transport=lossy, retry=RetryPolicy(base_delay=0.05)) as wg:
        stored = wg.propose_recommendation(1, trades=trades, rationale="over the wire", agent_name="e2e")
        with pytest.raises(NotFound) as missing:
            wg.get_client_context(40)
        fetched = wg.get_recommendation(stored["id"])
    assert [a.status_code for a in lossy.answers] == [201, 201]
    assert lossy.answers[0].json() == lossy.answers[1].json() == stored
    assert fetchval(db_url, "SELECT count(*) FROM recommendations") == before + 1
    events = fetch(
        db_url,
        "SELECT actor FROM audit_events WHERE action = 'recommendation.proposed' AND target_id = $1",
        str(stored["id"]),
    )
    assert len(events) == 1
    assert fetched["rationale"] == "over the wire"
    assert missing.value.status == 404
    assert missing.value.detail == "Client not found"


REPORT = re.compile(r"^\s*(\d+)  (.{24}) (\S+(?: \S+)?)\s+(\S+)\s+(\S+)\s+(\d+|-)$")


def test_the_portfolio_review_agent_proposes_and_notes(served: str, db_url: str) -> None:
    key = make_key(db_url, 1, AGENT, name="review agent")
    before = fetchval(db_url, "SELECT coalesce(max(id), 0) FROM recommendations")
    ran = subprocess.run(
        [sys.executable, str(AGENT_SCRIPT), "--limit", "8"],
        env=env(
            WEALTHGATE_API_KEY=key, WEALTHGATE_URL=served, FASTAPI_WEALTH_API_KEY=None, OPENAI_BASE_URL=None
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.strip().splitlines()
    assert lines[0].split() == ["client", "name", "decision", "verdict", "status", "recommendation"]
    rows = [REPORT.match(line) for line in lines[1:-1]]
    assert all(rows), ran.stdout
    report = {int(m[1]): (m[2].strip(), m[3], m[4], m[5], m[6]) for m in rows if m}
    assert sorted(report) == list(range(1, 9))  # the first page of the book, in id order
    assert report[1][0] == "Alice Chen"

    proposed = {cid: int(r[4]) for cid, r in report.items() if r[4] != "-"}
    assert proposed, ran.stdout
    stored = fetch(
        db_url,
        "SELECT id, client_id, status, rationale, agent_name FROM recommendations WHERE id > $1 ORDER BY id",
        before,
    )
    assert {r["client_id"]: r["id"] for r in stored} == proposed
    for row in stored:
        name, decision, verdict, status, _ = report[row["client_id"]]
        assert (decision, status) == ("proposed", row["status"])
        assert verdict in ("pass", "needs_review")
        assert name in row["rationale"]
        assert "Proposed trades" in row["rationale"]
        assert row["agent_name"] == "portfolio-review-agent"

    noted = sorted(cid for cid, r in report.items() if r[3] == "noted")
    assert sorted(set(report) - set(proposed)) == noted
    assert [
        r["client_id"]
        for r in fetch(
            db_url,
            "SELECT client_id FROM audit_events WHERE action = 'agent.note' AND actor->>'key_name' = $1 "
            "ORDER BY client_id",
            "review agent",
        )
    ] == noted
    assert lines[-1] == (
        f"reviewed 8 clients: {len(proposed)} recommendations proposed, {len(noted)} notes recorded"
    )
