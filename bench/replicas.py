"""`make bench`: agent reads with a streaming replica beside the primary, and read-your-writes under load.

1. An embedded primary of the bench's own (in $WEALTHGATE_HOME/replicas/, default .bench-home/replicas/) with
   the synthetic book (BENCH_CLIENTS x BENCH_POSITIONS, as bench/context.py), and a hot standby built from it
   with the embedded binaries (tests/replication.py: pg_basebackup -R, a second server on its own socket).
2. The context read with wrk (32 connections, BENCH_SECONDS) against `wealthgate serve --workers N`, first on
   the primary alone, then with WEALTHGATE_READ_REPLICA_URLS naming the standby: req/s, p99, where reads went.
3. BENCH_PAIRS (10,000) write-then-read pairs against the replica-backed service: BENCH_AGENTS concurrent
   agents, each with its own key and client, post a deposit then read the context; a read whose cash is not
   the sum of the agent's deposits so far is a stale read. Target: 0.

Writes bench/results/replicas-<timestamp>.json. Both servers share this machine's cores, so the replica adds
no capacity here: what this measures is the routing's cost and its correctness under load.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import cast

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

import context  # noqa: E402  (bench/, beside this file)
from tests.replication import Replication, attach  # noqa: E402

from wealthgate.db.embedded import EmbeddedPostgres  # noqa: E402
from wealthgate.db.server import EMBEDDED_DBNAME, ensure_database  # noqa: E402

PAIRS = int(os.environ.get("BENCH_PAIRS", "10000"))
AGENTS = int(os.environ.get("BENCH_AGENTS", "8"))
DEPOSIT = Decimal("1.00")


def route_counts(base: str) -> dict[str, float]:
    """wealthgate_read_routes_total by server/reason, summed over the workers (multiprocess metrics)."""
    text = httpx.get(f"{base}/metrics").text
    found: dict[str, float] = {}
    for m in re.finditer(
        r'^wealthgate_read_routes_total\{reason="(\w+)",server="(\w+)"\} ([\d.e+]+)$', text, re.M
    ):
        found[f"{m.group(2)}/{m.group(1)}"] = float(m.group(3))
    return found


def difference(after: dict[str, float], before: dict[str, float]) -> dict[str, int]:
    return {k: int(v - before.get(k, 0)) for k, v in sorted(after.items()) if v - before.get(k, 0)}


@dataclass
class Agent:
    key: str
    client_id: int
    account_id: int


def agents(env: dict[str, str], url: str) -> list[Agent]:
    query = (
        "SELECT string_agg(c.id || ':' || a.id, ',') FROM (SELECT c.id FROM clients c WHERE c.firm_id = 1"
        " AND c.external_id LIKE 'synth-1-%' ORDER BY c.id LIMIT {agents:d}) c"
        " CROSS JOIN LATERAL (SELECT min(id) AS id FROM accounts a WHERE a.client_id = c.id) a"
    )
    rows = context.psql_value(url, query.format(agents=AGENTS))
    found = []
    for pair in rows.split(","):
        client_id, account_id = (int(x) for x in pair.split(":"))
        args = (
            "keys",
            "create",
            "--firm",
            "1",
            "--scope",
            "admin",
            "--scope",
            "clients:read",
            "--name",
            "rw",
        )
        key = context.run(context.WEALTHGATE, *args, env=env).strip().splitlines()[-1]
        found.append(Agent(key, client_id, account_id))
    return found


async def write_then_read(base: str, agent: Agent, pairs: int) -> tuple[int, int, list[float]]:
    """`pairs` deposits, each followed by a context read: (pairs done, stale reads, read latencies in ms)."""
    headers = {"Authorization": f"Bearer {agent.key}"}
    stale, latencies = 0, []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:

        async def cash() -> Decimal:
            started = time.perf_counter()
            answer = await http.get(f"/clients/{agent.client_id}/context")
            latencies.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            return Decimal(next(a["cash"] for a in answer.json()["accounts"] if a["id"] == agent.account_id))

        expected = await cash()
        for _ in range(pairs):
            body = {"trade_date": "2026-12-01", "type": "deposit", "amount": str(DEPOSIT)}
            posted = await http.post(f"/accounts/{agent.account_id}/transactions", json=body)
            posted.raise_for_status()
            expected += DEPOSIT
            if await cash() != expected:
                stale += 1
    return pairs, stale, latencies


async def pairs_run(base: str, found: list[Agent]) -> dict[str, object]:
    each = PAIRS // len(found)
    started = time.monotonic()
    results = await asyncio.gather(*(write_then_read(base, a, each) for a in found))
    seconds = time.monotonic() - started
    latencies = sorted(x for r in results for x in r[2])
    return {
        "pairs": sum(r[0] for r in results),
        "agents": len(found),
        "stale_reads": sum(r[1] for r in results),
        "seconds": round(seconds, 1),
        "pairs_per_second": round(sum(r[0] for r in results) / seconds, 1),
        "read_p50_ms": round(latencies[len(latencies) // 2], 2),
        "read_p99_ms": round(latencies[int(len(latencies) * 0.99)], 2),
    }


def main() -> None:
    wrk = context.ensure_wrk()
    workers = int(os.environ.get("BENCH_WORKERS", "0")) or os.cpu_count() or 2
    home = Path(os.environ.get("WEALTHGATE_HOME", REPO / ".bench-home")) / "replicas"
    root = Path(tempfile.mkdtemp(prefix="wg-bench-replicas-"))
    primary = EmbeddedPostgres(home / "pgdata")
    ensure_database(primary.url, EMBEDDED_DBNAME)
    url = primary.url_for(EMBEDDED_DBNAME)
    env = {**os.environ, "DATABASE_URL": url, "WEALTHGATE_HOME": str(home)}
    print(f"loading {context.CLIENTS} clients x {context.POSITIONS} positions (idempotent)...", flush=True)
    context.load_book(env)
    key = context.reader_key(env, firm=1)
    ids = context.synthetic_ids(url)  # their ids have gaps (a sequence's): draw from the list, never a 404
    print("building the standby (pg_basebackup -R)...", flush=True)
    pair: Replication = attach(root, primary, url)
    result: dict[str, object] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "workers": workers}
    try:
        lua = root / "context.lua"
        lua.write_text(context.lua_script(key, ids))
        with context.serving(env, 8766, workers) as base:
            result["primary_only"] = context.wrk_figures(
                context.measure(wrk, lua, base, connections=context.CONNECTIONS, warmup=3)
            )
        replica_env = {**env, "WEALTHGATE_READ_REPLICA_URLS": pair.standby_url}
        with context.serving(replica_env, 8767, workers) as base:
            before = route_counts(base)
            result["with_replica"] = context.wrk_figures(
                context.measure(wrk, lua, base, connections=context.CONNECTIONS, warmup=3)
            )
            result["with_replica_routes"] = difference(route_counts(base), before)
            found = agents(env, url)
            before = route_counts(base)
            print(f"{PAIRS} write-then-read pairs, {len(found)} agents...", flush=True)
            result["read_your_writes"] = asyncio.run(pairs_run(base, found))
            result["read_your_writes_routes"] = difference(route_counts(base), before)
    finally:
        pair.stop_standby()
        primary.stop()
    context.save_result("replicas", result)
    for name in ("primary_only", "with_replica"):
        figures = cast(dict[str, float], result[name])
        print(
            f"context, {name.replace('_', ' ')}: {figures['requests_per_second']:.0f} req/s, "
            f"p99 {figures['p99_ms']:.2f} ms, non-2xx {int(figures['non_2xx'])}"
        )
    print(f"routes under wrk: {result['with_replica_routes']}")
    print(f"read-your-writes: {result['read_your_writes']}")
    print(f"routes of those reads: {result['read_your_writes_routes']}")


if __name__ == "__main__":
    main()
