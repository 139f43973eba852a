"""`make bench`, CSV import: rows/s importing 10,000 and 100,000 transactions (the time should grow with the
rows, not their square).

Each size gets a fresh database on the bench's embedded PostgreSQL (migrated, demo book loaded), and a file in
date order, as a custodian's export comes, spread over ten accounts of firm 1: deposits, buys and sales
of four securities (never more than held, so the whole file is accepted). Imported in one all-or-nothing
transaction by the command's own path (`read_csv`, `import_csv`), with durable commits. Before issue 14 the
same import into one account ran at 21 rows/s for 1,000 rows and 4 rows/s for 2,000 (each posting re-read
and re-wrote the account's history: ledger/bulk.py). BENCH_IMPORT_SIZES="10000,100000" picks the sizes.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from context import save_result  # noqa: E402

from wealthgate.audit import keyring, registry  # noqa: E402
from wealthgate.db import urls  # noqa: E402
from wealthgate.db.migrate import upgrade  # noqa: E402
from wealthgate.db.pool import connect  # noqa: E402
from wealthgate.db.server import database_url  # noqa: E402
from wealthgate.demo.load import load_demo_book  # noqa: E402
from wealthgate.ledger.importing import import_csv, read_csv  # noqa: E402
from wealthgate.settings import Settings  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_IMPORT_SIZES", "10000,100000").split(",")]
ACCOUNTS = list(range(1, 11))  # firm 1's first ten demo accounts
SYMBOLS = ["AAPL", "AMD", "GE", "JPM"]
HEADER = "account_id,trade_date,type,symbol,quantity,price,amount,fees,description,external_id\n"


def transactions_file(rows: int, path: Path) -> None:
    """`rows` transactions in date order that all pass the posting rules."""
    rnd = random.Random(rows)
    held = {(a, s): 0 for a in ACCOUNTS for s in SYMBOLS}
    day = date(2019, 1, 2)
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for account in ACCOUNTS:  # money in first: no buy overdraws
            out.write(f"{account},{day},deposit,,,,10000000,,Opening deposit,bench-{rows}-open-{account}\n")
        for i in range(rows - len(ACCOUNTS)):
            if i % 50 == 0:
                day += timedelta(days=1)
            account, symbol = rnd.choice(ACCOUNTS), rnd.choice(SYMBOLS)
            roll = rnd.random()
            if roll < 0.3:
                out.write(f"{account},{day},deposit,,,,5000,,Deposit,bench-{rows}-{i}\n")
            elif roll < 0.75 or held[(account, symbol)] < 5:
                held[(account, symbol)] += 5
                out.write(f"{account},{day},buy,{symbol},5,{rnd.randint(10, 99)}.50,,1,,bench-{rows}-{i}\n")
            else:
                held[(account, symbol)] -= 5
                out.write(f"{account},{day},sell,{symbol},5,{rnd.randint(10, 99)}.25,,1,,bench-{rows}-{i}\n")


def fresh_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urls.with_database(server_url, name)


async def load(url: str, ring: keyring.Keyring) -> None:
    conn = await connect(url, as_owner=True)
    try:
        await registry.ensure(conn, ring)
        async with conn.transaction():
            await load_demo_book(conn, operator="bench")
    finally:
        await conn.close()


async def imported(url: str, path: Path) -> tuple[float, int]:
    conn = await connect(url, as_owner=True)
    try:
        started = time.perf_counter()
        result = await import_csv(
            conn, "transactions", read_csv(path), firm_id=1, operator="bench", partial=False
        )
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    if not result.committed or result.errors:
        raise SystemExit(f"the bench file was refused: {result.errors[:5]}")
    return elapsed, result.added


def main() -> None:
    home = Path(os.environ.get("WEALTHGATE_HOME", REPO / ".bench-home"))
    ring = keyring.generate()
    keyring.install(ring)
    figures: dict[str, object] = {}
    seconds: dict[str, float] = {}
    with database_url(Settings(home=home)) as url, tempfile.TemporaryDirectory() as tmp:
        server = urls.with_database(url, "postgres")
        for rows in SIZES:
            path = Path(tmp) / f"transactions-{rows}.csv"
            transactions_file(rows, path)
            target = fresh_database(server, f"bench_imports_{rows}")
            upgrade(target)
            asyncio.run(load(target, ring))
            elapsed, added = asyncio.run(imported(target, path))
            rate = added / elapsed
            seconds[str(rows)] = elapsed
            figures[str(rows)] = {"rows": added, "seconds": round(elapsed, 2), "rows_per_second": round(rate)}
            print(f"import transactions: {added:,} rows in {elapsed:.1f} s, {rate:,.0f} rows/s", flush=True)
    sizes = sorted(seconds, key=int)
    if len(sizes) > 1:
        ratio = seconds[sizes[-1]] / seconds[sizes[0]]
        growth = int(sizes[-1]) / int(sizes[0])
        print(
            f"{growth:.0f}x the rows took {ratio:.1f}x the time"
            f" (linear: {growth:.0f}x; quadratic: {growth**2:.0f}x)"
        )
        figures["time_ratio"] = round(ratio, 2)
    save_result("imports", figures)


if __name__ == "__main__":
    main()
