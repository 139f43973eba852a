"""`make bench`, the cost of per-event authentication: audited appends/s with the HMAC on and off.

The same append path the service uses (`audit.record.record`, one durable transaction per event, 32
concurrent writers on 8 connections over the synthetic clients), alternating runs with the keyring's real
MAC and with a constant stand-in, on the same database at the same moment, so the difference is the MAC's
cost and not the machine's mood. Run after bench/context.py (it reuses that database).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import asyncpg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from context import load_book, save_result, synthetic_ids  # noqa: E402

from wealthgate.audit import keyring  # noqa: E402
from wealthgate.audit.record import record  # noqa: E402
from wealthgate.db.pool import create_pool  # noqa: E402
from wealthgate.db.server import database_url  # noqa: E402
from wealthgate.settings import Settings  # noqa: E402

SECONDS = float(os.environ.get("BENCH_MAC_SECONDS", "12"))
WRITERS = 32


async def appends_per_second(url: str, ids: list[int]) -> float:
    pool = await create_pool(url, min_size=8, max_size=8)
    done = 0
    deadline = time.monotonic() + SECONDS

    async def writer(n: int) -> None:
        nonlocal done
        i = n
        while time.monotonic() < deadline:
            async with pool.acquire() as proxy, proxy.transaction():
                await record(
                    cast(asyncpg.Connection, proxy),
                    firm_id=1,
                    actor={"type": "operator", "owner": "bench"},
                    action="bench.mac_cost",
                    client_id=ids[(i * 7919) % len(ids)],
                    details={"i": i},
                )
            i += WRITERS
            done += 1

    try:
        await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    finally:
        await pool.close()
    return done / SECONDS


def main() -> None:
    home = Path(os.environ.get("WEALTHGATE_HOME", REPO / ".bench-home"))
    with database_url(Settings(home=home)) as url:
        load_book({**os.environ, "DATABASE_URL": url, "WEALTHGATE_HOME": str(home)})
        ring = keyring.load(Settings(home=home, database_url=url))
        keyring.install(ring)
        ids = synthetic_ids(url)
        real: Callable[[keyring.Keyring, bytes], tuple[str, bytes]] = keyring.Keyring.authenticate

        def constant(self: keyring.Keyring, event_hash: bytes) -> tuple[str, bytes]:
            return "mac-bench-off", bytes(32)

        runs: dict[str, list[float]] = {"mac": [], "no_mac": []}
        for label in ("mac", "no_mac", "mac", "no_mac"):
            keyring.Keyring.authenticate = real if label == "mac" else constant  # type: ignore[method-assign,assignment]
            runs[label].append(asyncio.run(appends_per_second(url, ids)))
            print(f"  {label}: {runs[label][-1]:,.0f} appends/s", flush=True)
        keyring.Keyring.authenticate = real  # type: ignore[method-assign,assignment]
    mac, no_mac = (sum(v) / len(v) for v in (runs["mac"], runs["no_mac"]))
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": "audited appends/s, durable, HMAC on vs off (same path, alternating runs)",
        "writers": WRITERS,
        "seconds_per_run": SECONDS,
        "mac_appends_per_second": round(mac),
        "no_mac_appends_per_second": round(no_mac),
        "runs": {k: [round(x) for x in v] for k, v in runs.items()},
        "mac_cost_percent": round((no_mac - mac) / no_mac * 100, 1),
    }
    save_result("audit-mac-cost", result)
    print(
        f"per-event HMAC: {mac:,.0f} appends/s with, {no_mac:,.0f} without ({result['mac_cost_percent']} %)"
    )


if __name__ == "__main__":
    main()
