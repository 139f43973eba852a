"""What `WEALTHGATE_DATABASE_POOLED` costs per statement: the context statement with asyncpg's statement cache
on and off, directly and through PgBouncer in transaction mode (docs/scaling.md, "Connection pooling").

One connection, sequential reads of the demo book's client 1 in the read path's own transaction (repeatable
read, read only), on a throwaway embedded server with Debian's PgBouncer (tests/pgbouncer.py starts it the way
the test does). Alternating rounds, so the machine's mood shows as spread rather than as a difference.

    .venv/bin/python bench/pgbouncer_statements.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests import pgbouncer  # noqa: E402
from tests.support import load_demo  # noqa: E402

from wealthgate.audit import keyring  # noqa: E402
from wealthgate.clients import queries  # noqa: E402
from wealthgate.db import urls  # noqa: E402
from wealthgate.db.embedded import EmbeddedPostgres  # noqa: E402
from wealthgate.db.migrate import upgrade  # noqa: E402
from wealthgate.db.pool import create_pool  # noqa: E402

READS = 3000
WARM_UP = 200
ROUNDS = 3
LOGIN = "wg_bench_pooled"


async def reads_per_second(url: str, *, pooled: bool) -> float:
    pool = await create_pool(url, min_size=1, max_size=1, pooled=pooled)
    args = queries.CONTEXT.args(firm_id=1, advisor_id=None, client_id=1)
    try:
        async with pool.acquire() as conn:
            for n in (WARM_UP, READS):
                started = time.perf_counter()
                for _ in range(n):
                    async with conn.transaction(isolation="repeatable_read", readonly=True):
                        await conn.fetchval(queries.CONTEXT.text, *args)
            return READS / (time.perf_counter() - started)
    finally:
        await pool.close()


def main() -> None:
    if pgbouncer.binary() is None:
        sys.exit("needs pgbouncer: make pgbouncer")
    ring = keyring.generate()
    keyring.install(ring)
    with tempfile.TemporaryDirectory(prefix="wg-bench-pgbouncer-") as home:
        Path(home).chmod(
            0o755
        )  # the embedded server's user (as root: pgserver) must reach its data directory
        pg = EmbeddedPostgres(Path(home) / "pgdata", cleanup_mode="delete")
        try:
            with psycopg.connect(pg.url, autocommit=True) as conn:
                conn.execute("CREATE DATABASE wealthgate")
                conn.execute(f"DROP ROLE IF EXISTS {LOGIN}")
            db = urls.with_database(pg.url, "wealthgate")
            upgrade(db)
            load_demo(db, ring, operator="bench")
            with psycopg.connect(db, autocommit=True) as conn:
                conn.execute(f"CREATE ROLE {LOGIN} LOGIN")
                conn.execute(f"GRANT wealthgate_app TO {LOGIN}")
                conn.execute(f"ALTER ROLE {LOGIN} SET role = 'wealthgate_app'")
            direct = db.replace("postgres:@", f"{LOGIN}@", 1)
            with pgbouncer.running(db, [LOGIN], pool_size=2) as bouncer:
                runs = {
                    "direct, statement cache on (unpooled)": (direct, False),
                    "direct, statement cache off (pooled)": (direct, True),
                    "PgBouncer transaction mode, cache off (pooled)": (bouncer.url(LOGIN), True),
                }
                results: dict[str, list[float]] = {name: [] for name in runs}
                for _ in range(ROUNDS):
                    for name, (url, pooled) in runs.items():
                        results[name].append(asyncio.run(reads_per_second(url, pooled=pooled)))
            for name, rates in results.items():
                best = max(rates)
                print(
                    f"{name:48s} {best:7.0f} reads/s ({1000 / best:.2f} ms/read; rounds {rates[0]:.0f}",
                    end="",
                )
                print("".join(f", {r:.0f}" for r in rates[1:]) + ")")
        finally:
            pg.stop()


if __name__ == "__main__":
    main()
