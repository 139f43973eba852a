"""`make bench`, audited writes: the guide's POST /audit/recommendation under 32 concurrent writers.

Durable commits (synchronous_commit on), writers spread over the synthetic clients of firm 1, then
`wealthgate audit verify` must pass and every acknowledged write must be stored. Beside it, pgbench's figure
for a plain single-row durable insert at the same concurrency, as the machine's ceiling.
Run after bench/context.py (it reuses that database; BENCH_* variables as there).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from context import (  # noqa: E402
    CONNECTIONS,
    DURATION,
    SEEDED,
    WEALTHGATE,
    ensure_wrk,
    load_book,
    pgbench_tps,
    psql_exec,
    psql_value,
    run,
    save_result,
    serving,
    synthetic_ids,
    wrk_figures,
)

from wealthgate.db.server import database_url  # noqa: E402
from wealthgate.settings import Settings  # noqa: E402

PLAIN_INSERT = "INSERT INTO bench_plain_inserts (firm_id, client_id, payload) VALUES (1, :id, 'plain');\n"


def main() -> None:
    wrk = ensure_wrk()
    cores = int(os.environ.get("BENCH_WORKERS", "0")) or os.cpu_count() or 2
    home = Path(os.environ.get("WEALTHGATE_HOME", REPO / ".bench-home"))
    with database_url(Settings(home=home)) as url:
        env = {**os.environ, "DATABASE_URL": url, "WEALTHGATE_HOME": str(home)}
        load_book(env)
        created = run(
            WEALTHGATE,
            "keys",
            "create",
            "--firm",
            "1",
            "--scope",
            "recommendations:write",
            "--name",
            "bench-writer",
            env=env,
        )
        key = created.strip().splitlines()[-1]
        sync = psql_value(url, "SHOW synchronous_commit")
        ids = synthetic_ids(url)
        before = int(psql_value(url, "SELECT count(*) FROM audit_events WHERE action = 'agent.note'"))
        with tempfile.TemporaryDirectory() as tmp:
            lua = Path(tmp) / "audit.lua"
            lua.write_text(
                SEEDED + "local ids = {" + ",".join(map(str, ids)) + "}\n"
                f'wrk.headers["Authorization"] = "Bearer {key}"\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                "request = function()\n"
                "  local body = '{\"client_id\": ' .. ids[math.random(#ids)] .. "
                '\', "event_type": "portfolio_recommendation", "payload": "rebalance"}\'\n'
                '  return wrk.format("POST", "/audit/recommendation", nil, body)\n'
                "end\n"
            )
            with serving(env, 8766, cores) as base:
                print(
                    f"audited writes: {CONNECTIONS} connections, {DURATION} s, synchronous_commit={sync}...",
                    flush=True,
                )
                out = subprocess.run(
                    [wrk, "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", "-s", str(lua), base],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            http = wrk_figures(out)
            completed = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
            after = int(psql_value(url, "SELECT count(*) FROM audit_events WHERE action = 'agent.note'"))
            verify = subprocess.run(
                [WEALTHGATE, "audit", "verify", "--firm", "1"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            psql_exec(
                url,
                "CREATE TABLE IF NOT EXISTS bench_plain_inserts "
                "(id bigserial PRIMARY KEY, firm_id bigint, client_id bigint, payload text, "
                "created_at timestamptz DEFAULT now())",
            )
            script = Path(tmp) / "plain.sql"
            script.write_text(f"\\set id random({min(ids)}, {max(ids)})\n" + PLAIN_INSERT)
            tps = pgbench_tps(url, script, clients=CONNECTIONS)
            psql_exec(url, "DROP TABLE bench_plain_inserts")

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": "POST /audit/recommendation (hash-chained, HMAC-authenticated, durable)",
        "workers": cores,
        "connections": CONNECTIONS,
        "seconds": DURATION,
        "synchronous_commit": sync,
        **http,
        "acknowledged": completed - int(http["non_2xx"]),
        "stored": after - before,
        "verify_ok": verify.returncode == 0,
        "pgbench_plain_insert_tps": tps,
        "targets": {"writes_per_second": 1500},
    }
    save_result("audit-writes", result)
    print(out.strip())
    print()
    print(
        f"audited writes: {http['requests_per_second']:.0f} writes/s, p50 {http['p50_ms']:.2f} ms, "
        f"p99 {http['p99_ms']:.2f} ms, non-2xx {int(http['non_2xx'])}"
    )
    print(
        f"acknowledged {result['acknowledged']}, stored {result['stored']}, "
        f"audit verify {'passed' if result['verify_ok'] else 'FAILED'}"
    )
    print(f"pgbench plain durable insert, {CONNECTIONS} clients: {tps:.0f} tps")
    met = http["requests_per_second"] >= 1500 and result["verify_ok"]
    print(f"target (>= 1500 writes/s, chain intact): {'met' if met else 'NOT met'}")
    if not result["verify_ok"]:
        print(verify.stdout)


if __name__ == "__main__":
    main()
