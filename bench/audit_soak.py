"""`make bench`, the audit soak: how many audited appends per second the chains take under contention.

The measurement the two soak tests of tests/integration/test_audit_trail.py used to assert (counts within a
time window) lives here; the tests keep their correctness half with a fixed amount of work. Two patterns on
a fresh database of the bench's embedded PostgreSQL (demo book loaded), each for BENCH_SOAK_SECONDS (10):
64 writers over 12 clients' chains appending one event per transaction (`record`), and 6 read batchers
(`append_many`, 1-40 events) racing 8 single writers on the same chains. After each run every acknowledged
event must be stored and every chain must verify, else the figure is not reported.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from context import save_result  # noqa: E402
from imports import fresh_database, load  # noqa: E402

from wealthgate.audit import keyring  # noqa: E402
from wealthgate.audit.batch import Pending, append_many  # noqa: E402
from wealthgate.audit.record import record  # noqa: E402
from wealthgate.audit.verify import verify  # noqa: E402
from wealthgate.db import urls  # noqa: E402
from wealthgate.db.migrate import upgrade  # noqa: E402
from wealthgate.db.pool import connect, create_pool  # noqa: E402
from wealthgate.db.server import database_url  # noqa: E402
from wealthgate.settings import Settings  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "10"))


async def writers(url: str) -> tuple[int, float]:
    """64 writers, one event per durable transaction, for SECONDS: (acknowledged, elapsed)."""
    pool = await create_pool(url, min_size=64, max_size=64)
    acknowledged: list[int] = []
    started = time.perf_counter()
    deadline = started + SECONDS

    async def writer(n: int) -> None:
        while time.perf_counter() < deadline:
            async with pool.acquire() as conn, conn.transaction():
                event_id = await record(
                    conn,
                    firm_id=1,
                    actor={"type": "operator", "owner": f"w{n}"},
                    action="bench.soak",
                    client_id=1 + n % 12,
                    details={"writer": n},
                )
            acknowledged.append(event_id)

    try:
        await asyncio.gather(*(writer(n) for n in range(64)))
    finally:
        await pool.close()
    elapsed = time.perf_counter() - started
    conn = await connect(url, as_owner=True)
    try:
        stored = {
            r["id"] for r in await conn.fetch("SELECT id FROM audit_events WHERE action = 'bench.soak'")
        }
    finally:
        await conn.close()
    if stored != set(acknowledged):
        raise SystemExit("an acknowledged audit event is missing")
    return len(acknowledged), elapsed


async def batches_and_singles(url: str) -> tuple[int, int, float]:
    """6 batchers and 8 single writers on the same chains for SECONDS: (batched, single, elapsed)."""
    pool = await create_pool(url, min_size=16, max_size=16)
    counts = [0, 0]
    started = time.perf_counter()
    deadline = started + SECONDS

    async def batcher(n: int) -> None:
        rng = random.Random(n)
        while time.perf_counter() < deadline:
            batch = [
                Pending(
                    1,
                    {"type": "operator", "owner": f"b{n}"},
                    "client.read",
                    "client",
                    None,
                    rng.randint(1, 12),
                    {"read": "x"},
                    None,
                )
                for _ in range(rng.randint(1, 40))
            ]
            async with pool.acquire() as conn, conn.transaction():
                counts[0] += len(await append_many(conn, batch))

    async def single(n: int) -> None:
        rng = random.Random(100 + n)
        while time.perf_counter() < deadline:
            async with pool.acquire() as conn, conn.transaction():
                await record(
                    conn,
                    firm_id=1,
                    actor={"type": "operator"},
                    action="bench.single",
                    client_id=rng.randint(1, 12),
                )
            counts[1] += 1

    try:
        await asyncio.gather(*(batcher(n) for n in range(6)), *(single(n) for n in range(8)))
    finally:
        await pool.close()
    return counts[0], counts[1], time.perf_counter() - started


async def verified(url: str) -> bool:
    conn = await connect(url, as_owner=True)
    try:
        return (await verify(conn)).ok
    finally:
        await conn.close()


def main() -> None:
    home = Path(os.environ.get("WEALTHGATE_HOME", REPO / ".bench-home"))
    ring = keyring.generate()
    keyring.install(ring)
    with database_url(Settings(home=home)) as url:
        target = fresh_database(urls.with_database(url, "postgres"), "bench_audit_soak")
        upgrade(target)
        asyncio.run(load(target, ring))
        appended, elapsed = asyncio.run(writers(target))
        print(f"audit soak, 64 writers: {appended:,} events in {elapsed:.1f} s, {appended / elapsed:,.0f}/s")
        batched, single, mixed = asyncio.run(batches_and_singles(target))
        print(
            f"audit soak, batches racing singles: {batched:,} batched and {single:,} single in {mixed:.1f} s,"
            f" {(batched + single) / mixed:,.0f}/s"
        )
        if not asyncio.run(verified(target)):
            raise SystemExit("a chain does not verify after the soak")
    save_result(
        "audit-soak",
        {
            "writers_events_per_second": round(appended / elapsed),
            "batched_events_per_second": round(batched / mixed),
            "single_events_per_second": round(single / mixed),
            "seconds": SECONDS,
        },
    )


if __name__ == "__main__":
    main()
