"""`make bench`: client-scoped transaction search (`q=`) at 10,000,000 transactions.

1. Loads 10,000 synthetic clients x 1,000 transactions into firm 2 of a separate database
   ($BENCH_SCALE_HOME, default .bench-home-scale/; idempotent: the first run takes several minutes).
2. Serves with workers = cores and drives GET /clients/{random id}/transactions?q={random term}&limit=20
   with wrk at a moderate load (8 connections: a latency target is measured below saturation) for 15 s.
3. Prints req/s, p50, p95 (target <= 25 ms) and p99; writes bench/results/search-<timestamp>.json.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from context import (
    DURATION,
    REPO,
    SEEDED,
    WEALTHGATE,
    ensure_wrk,
    measure,
    psql_exec,
    psql_value,
    reader_key,
    run,
    save_result,
    serving,
    wrk_figures,
)

from wealthgate.db.server import database_url
from wealthgate.settings import Settings

# One key drives the whole load: the per-key limits (docs/limits.md) would answer 429 and the bench would
# measure refusals. The limiter still runs on every request, at a rate it never refuses.
os.environ.setdefault("WEALTHGATE_RATE_LIMIT_READ", "1000000/second")
os.environ.setdefault("WEALTHGATE_RATE_LIMIT_WRITE", "1000000/second")

CLIENTS = int(os.environ.get("BENCH_SEARCH_CLIENTS", "10000"))
PER_CLIENT = int(os.environ.get("BENCH_SEARCH_TRANSACTIONS", "1000"))
CONNECTIONS = int(os.environ.get("BENCH_SEARCH_CONNECTIONS", "8"))
TERMS = ("dividend", "apple", "advisory fee", "contribution", "interest", "walmart dividend", "buy", "exxon")


def main() -> None:
    wrk = ensure_wrk()
    cores = int(os.environ.get("BENCH_WORKERS", "0")) or os.cpu_count() or 2
    home = Path(os.environ.get("BENCH_SCALE_HOME", REPO / ".bench-home-scale"))
    with database_url(Settings(home=home)) as url:
        env = {**os.environ, "DATABASE_URL": url, "WEALTHGATE_HOME": str(home)}
        print(
            f"loading {CLIENTS} clients x {PER_CLIENT} transactions into firm 2 (idempotent)...", flush=True
        )
        t0 = time.monotonic()
        run(
            WEALTHGATE,
            "demo-data",
            "--clients",
            str(CLIENTS),
            "--positions-per-client",
            "20",
            "--transactions-per-client",
            str(PER_CLIENT),
            "--firm",
            "2",
            env=env,
        )
        load_seconds = time.monotonic() - t0
        psql_exec(url, "ANALYZE transactions")
        total = int(psql_value(url, "SELECT count(*) FROM transactions"))
        ids = [
            int(x)
            for x in psql_value(
                url,
                "SELECT string_agg(id::text, ',') FROM clients"
                " WHERE firm_id = 2 AND external_id LIKE 'synth-2-%'",
            ).split(",")
        ]
        key = reader_key(env, firm=2)
        with tempfile.TemporaryDirectory() as tmp:
            lua = Path(tmp) / "search.lua"
            terms = ",".join('"' + t.replace(" ", "%20") + '"' for t in TERMS)
            lua.write_text(
                SEEDED + "local ids = {" + ",".join(map(str, ids)) + "}\n"
                "local terms = {" + terms + "}\n"
                f'wrk.headers["Authorization"] = "Bearer {key}"\n'
                "request = function()\n"
                '  return wrk.format("GET", "/clients/" .. ids[math.random(#ids)]'
                ' .. "/transactions?limit=20&q=" .. terms[math.random(#terms)])\n'
                "end\n"
                "done = function(summary, latency, requests)\n"
                '  io.write(string.format("P95_US %d\\n", latency:percentile(95.0)))\n'
                "end\n"
            )
            with serving(env, 8766, cores) as base:
                sample = httpx.get(
                    f"{base}/clients/{ids[0]}/transactions",
                    params={"q": "dividend", "limit": 20},
                    headers={"Authorization": f"Bearer {key}"},
                )
                sample.raise_for_status()
                hits = len(sample.json()["items"])
                out = measure(wrk, lua, base, connections=CONNECTIONS, warmup=5)
    http = wrk_figures(out)
    p95 = next(
        (int(line.split()[1]) / 1000 for line in out.splitlines() if line.startswith("P95_US")), float("nan")
    )
    result: dict[str, object] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": cores, "cpu": platform.processor() or platform.machine()},
        "data": {
            "transactions_total": total,
            "clients": len(ids),
            "transactions_per_client": PER_CLIENT,
            "load_seconds": round(load_seconds, 1),
            "sample_hits": hits,
        },
        "http": {
            "endpoint": "GET /clients/{id}/transactions?q=&limit=20",
            "workers": cores,
            "connections": CONNECTIONS,
            "seconds": DURATION,
            "p95_ms": p95,
            **http,
        },
        "targets": {"p95_ms": 25},
    }
    save_result("search", result)
    print(out.strip())
    print()
    print(
        f"search at {total:,} transactions: {http['requests_per_second']:.0f} req/s,"
        f" p50 {http['p50_ms']:.2f} ms, p95 {p95:.2f} ms, p99 {http['p99_ms']:.2f} ms,"
        f" non-2xx {int(http['non_2xx'])}"
    )
    print(f"target (p95 <= 25 ms): {'met' if p95 <= 25 else 'NOT met'}")


if __name__ == "__main__":
    main()
