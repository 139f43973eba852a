"""What one read's audit record costs to store: two flushers appending read events, as the workers do.

    WEALTHGATE_HOME=<a bench home> .venv/bin/python bench/read_audit_flush.py [seconds] [label]

Two concurrent tasks, each on its own connection, append batches of BATCH read events (`client.read` of
random clients of firm 1, the bench key as actor) with `audit.batch.append_many` in one transaction each, as
two workers' flushers do under load, for `seconds` (default 10). Prints events/s, the CPU of the two
PostgreSQL backends per event (the flushes' own statements; the checkpointer and WAL writer are not
counted), this process's CPU per event (hashing, MACs, encoding; the events' construction included), and
the WAL written per event with its full-page images. Needs the book of `make bench` and its audit keyring
(bench/context.py) in WEALTHGATE_HOME; a server may be running on it. Used for docs/performance.md's audit
figures: change the table (a constraint, an index) between runs and compare.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path
from typing import cast

import asyncpg
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from wealthgate.audit import keyring  # noqa: E402
from wealthgate.audit.batch import Pending, append_many  # noqa: E402
from wealthgate.db.pool import create_pool  # noqa: E402
from wealthgate.db.server import database_url  # noqa: E402
from wealthgate.settings import Settings  # noqa: E402

BATCH = 200
FLUSHERS = 2
_WAL = "SELECT wal_bytes, wal_fpi FROM pg_stat_wal"


def backend_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


async def measure(url: str, seconds: float) -> str:
    pool = await create_pool(url, min_size=FLUSHERS, max_size=FLUSHERS)
    proxies = [await pool.acquire() for _ in range(FLUSHERS)]
    conns = [cast(asyncpg.Connection, p) for p in proxies]
    pids = [await c.fetchval("SELECT pg_backend_pid()") for c in conns]
    clients = [r[0] for r in await conns[0].fetch("SELECT id FROM clients WHERE firm_id = 1")]
    key = await conns[0].fetchval("SELECT max(id) FROM api_keys WHERE firm_id = 1")
    actor = {"type": "api_key", "key_id": key, "key_name": "bench", "owner": None, "firm_id": 1}
    stored = 0
    until = time.monotonic() + seconds

    async def flusher(conn: asyncpg.Connection) -> None:
        nonlocal stored
        while time.monotonic() < until:
            events = [
                Pending(
                    firm_id=1,
                    actor=actor,
                    action="client.read",
                    target_type="client",
                    target_id=str(client_id),
                    client_id=client_id,
                    details={"read": "GET /clients/{id}/context"},
                    request_id=os.urandom(16).hex(),
                )
                for client_id in random.sample(clients, BATCH)
            ]
            async with conn.transaction():
                await append_many(conn, events)
            stored += BATCH

    wal_before = await conns[0].fetchrow(_WAL)
    pg_before, own_before, started = backend_seconds(pids), time.process_time(), time.monotonic()
    await asyncio.gather(*(flusher(c) for c in conns))
    pg_after, own_after, elapsed = backend_seconds(pids), time.process_time(), time.monotonic() - started
    wal_after = await conns[0].fetchrow(_WAL)
    for proxy in proxies:
        await pool.release(proxy)
    await pool.close()
    assert wal_before is not None  # noqa: S101  (one row, always)
    assert wal_after is not None  # noqa: S101
    return (
        f"{stored / elapsed:,.0f} events/s; per event:"
        f" PostgreSQL {1e6 * (pg_after - pg_before) / stored:.1f} µs,"
        f" this process {1e6 * (own_after - own_before) / stored:.1f} µs,"
        f" WAL {(wal_after[0] - wal_before[0]) / stored:,.0f} bytes"
        f" ({(wal_after[1] - wal_before[1]) / stored:.3f} full-page images)"
    )


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    label = sys.argv[2] if len(sys.argv) > 2 else ""
    settings = Settings(home=Path(os.environ.get("WEALTHGATE_HOME", REPO / ".bench-home")))
    keyring.install(keyring.load(settings))
    with database_url(settings) as url:
        print(asyncio.run(measure(url, seconds)), f"[{label}]" if label else "")


if __name__ == "__main__":
    main()
