"""`make bench`, audit verification speed: `wealthgate audit verify` over at least 1,000,000 events.

Tops the bench database's audit trail up to BENCH_VERIFY_EVENTS (default 1,000,000) events, written the way
the service writes them (hash-chained per client, every event MACed with the bench keyring, batches of
10,000 over the synthetic clients), signs a checkpoint, then times a full verification (links, hashes, every
MAC, checkpoint signatures) in-process and through the CLI. Run after bench/context.py (it reuses that
database; BENCH_* variables as there).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from context import WEALTHGATE, load_book, psql_value, run, save_result, synthetic_ids  # noqa: E402

from wealthgate.audit import keyring  # noqa: E402
from wealthgate.audit.batch import Pending, append_many  # noqa: E402
from wealthgate.audit.verify import verify  # noqa: E402
from wealthgate.db.pool import connect  # noqa: E402
from wealthgate.db.server import database_url  # noqa: E402
from wealthgate.settings import Settings  # noqa: E402

TARGET = int(os.environ.get("BENCH_VERIFY_EVENTS", "1000000"))
BATCH = 10_000


async def top_up(url: str, ids: list[int], missing: int) -> None:
    conn = await connect(url)
    try:
        written = 0
        while written < missing:
            n = min(BATCH, missing - written)
            batch = [
                Pending(
                    firm_id=1,
                    actor={"type": "operator", "owner": "bench"},
                    action="bench.event",
                    target_type="client",
                    target_id=str(ids[(written + i) % len(ids)]),
                    client_id=ids[(written + i) % len(ids)],
                    details={"n": written + i, "note": "bench"},
                    request_id=None,
                )
                for i in range(n)
            ]
            async with conn.transaction():
                await append_many(conn, batch)
            written += n
            print(f"  {written:,}/{missing:,} events written", end="\r", flush=True)
        print()
    finally:
        await conn.close()


async def timed_verify(url: str, ring: keyring.Keyring) -> tuple[float, int, bool]:
    conn = await connect(url)
    try:
        started = time.perf_counter()
        result = await verify(conn, public_keys=ring.public_keys(), mac_keys=ring.mac_secrets())
        return time.perf_counter() - started, result.events, result.ok
    finally:
        await conn.close()


def main() -> None:
    home = Path(os.environ.get("WEALTHGATE_HOME", REPO / ".bench-home"))
    with database_url(Settings(home=home)) as url:
        env = {**os.environ, "DATABASE_URL": url, "WEALTHGATE_HOME": str(home)}
        load_book(env)
        settings = Settings(home=home, database_url=url)
        ring = keyring.load(settings)
        keyring.install(ring)
        present = int(psql_value(url, "SELECT count(*) FROM audit_events"))
        if present < TARGET:
            print(f"audit verify bench: writing {TARGET - present:,} events (once)...", flush=True)
            asyncio.run(top_up(url, synthetic_ids(url), TARGET - present))
        run(WEALTHGATE, "audit", "checkpoint", env=env)
        seconds, events, ok = asyncio.run(timed_verify(url, ring))
        started = time.perf_counter()
        cli = subprocess.run(
            [WEALTHGATE, "audit", "verify"], env=env, capture_output=True, text=True, check=False
        )
        cli_seconds = time.perf_counter() - started
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": "audit verify: links, hashes, every MAC, checkpoint signatures",
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds),
        "cli_seconds": round(cli_seconds, 2),
        "verify_ok": ok and cli.returncode == 0,
    }
    save_result("audit-verify", result)
    print(
        f"audit verify: {events:,} events in {seconds:.1f} s in-process = {events / seconds:,.0f} events/s; "
        f"`wealthgate audit verify` {cli_seconds:.1f} s; {'intact' if result['verify_ok'] else 'FAILED'}"
    )
    if cli.returncode != 0:
        print(cli.stdout[-2000:], cli.stderr[-2000:])


if __name__ == "__main__":
    main()
