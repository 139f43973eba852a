"""A deterministic synthetic book of any size, for benchmarks and scale tests (`wealthgate demo-data`).

Client i of firm f is always the same (seeded by "f:i") and carries external id `synth-f-i`, so running the
generator again adds only the clients that are missing. Each batch of clients commits as a whole: a client is
never half-written. Positions, their open FIFO lots and cash are the replay of each client's own transactions.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import astuple, dataclass, fields
from datetime import date
from decimal import Decimal

import asyncpg

from wealthgate.audit.record import record
from wealthgate.db.sql import Sql
from wealthgate.demo.book import (
    AccountRow,
    ClientRow,
    LotRow,
    PositionRow,
    TransactionRow,
    draw_profile,
    lot_rows,
)
from wealthgate.demo.load import load_reference_data
from wealthgate.demo.prices import PriceHistory
from wealthgate.demo.prices import load as load_prices
from wealthgate.demo.securities import SECURITIES
from wealthgate.errors import Invalid, NotFound
from wealthgate.ledger.replay import replay
from wealthgate.money import to_cents
from wealthgate.vocabulary import RISK_LEVELS

OPENED = date(2017, 1, 3)
BATCH = 500
_ADVISORS = Sql("SELECT id FROM advisors WHERE firm_id = :firm_id ORDER BY id")
_EXTERNAL_IDS = Sql("SELECT external_id FROM clients WHERE firm_id = :firm_id AND external_id LIKE :pattern")
_NEXT_ID = Sql("SELECT nextval(pg_get_serial_sequence(:table, 'id'))")
_SET_ID = Sql("SELECT setval(pg_get_serial_sequence(:table, 'id'), :value::bigint)")


@dataclass(frozen=True, slots=True)
class SyntheticResult:
    added_clients: int
    existing_clients: int
    positions: int
    transactions: int


def _client_rows(
    firm_id: int,
    index: int,
    advisor_id: int,
    ids: dict[str, int],
    prices: PriceHistory,
    positions: int,
    transactions: int,
) -> tuple[ClientRow, AccountRow, list[TransactionRow], list[PositionRow], list[LotRow]]:
    rng = random.Random(f"{firm_id}:{index}")
    client_id, account_id = ids["client"], ids["account"]
    risk = RISK_LEVELS[rng.randrange(5)]
    client = ClientRow(
        firm_id=firm_id,
        id=client_id,
        advisor_id=advisor_id,
        external_id=f"synth-{firm_id}-{index}",
        name=f"Synthetic Client {firm_id}-{index}",
        email=f"synthetic.{firm_id}.{index}@example.com",
        risk_tolerance=risk,
        excluded_symbols=[],
        excluded_sectors=[],
        **draw_profile(rng, risk),
    )
    priced = {s.symbol: p for s in SECURITIES if (p := prices.close(s.symbol, OPENED)) is not None}
    picks = rng.sample(sorted(priced), k=positions)
    buys = []
    for symbol in picks:
        price = priced[symbol]
        qty = Decimal(rng.randint(1, 200))
        buys.append((symbol, qty, price, -to_cents(qty * price)))
    extra = max(transactions - positions - 1, 0)
    days = [d for d in prices.calendar if d > OPENED]
    later = [_later_entry(rng, k, buys, days) for k in range(extra)]
    fees = sum(-amt for kind, _s, _q, _p, amt, _d, _text in later if kind == "fee")
    deposit = -sum(b[3] for b in buys) + fees + Decimal(1000)  # cash never goes below zero
    txns: list[tuple[str, str | None, Decimal | None, Decimal | None, Decimal, date, str]] = [
        ("deposit", None, None, None, deposit, OPENED, "Initial funding")
    ]
    txns += [("buy", s, q, p, amt, OPENED, f"Buy {s}") for s, q, p, amt in buys]
    txns += later
    txn_rows = [
        TransactionRow(
            firm_id=firm_id,
            id=ids["txn"] + n,
            client_id=client_id,
            account_id=account_id,
            trade_date=day,
            type=kind,
            symbol=sym,
            quantity=qty,
            price=px,
            amount=amt,
            fees=Decimal(0),
            description=text,
            external_id=f"synth-{firm_id}-{index}-t{n}",
        )
        for n, (kind, sym, qty, px, amt, day, text) in enumerate(txns)
    ]
    ledger = replay(t.entry() for t in txn_rows)
    account = AccountRow(
        firm_id=firm_id,
        id=account_id,
        client_id=client_id,
        external_id=f"synth-{firm_id}-{index}-a",
        name="Synthetic Taxable",
        account_type="taxable",
        opened_on=OPENED,
        cash_balance=ledger.cash[account_id],
    )
    position_rows = [
        PositionRow(firm_id, ids["position"] + n, client_id, account_id, symbol, h.quantity, h.cost_basis)
        for n, ((_acct, symbol), h) in enumerate(sorted(ledger.open_holdings().items()))
    ]
    lots = [
        lot
        for (_acct, symbol), h in sorted(ledger.open_holdings().items())
        for lot in lot_rows(firm_id, client_id, account_id, symbol, h)
    ]
    return client, account, txn_rows, position_rows, lots


def _later_entry(
    rng: random.Random,
    k: int,
    buys: list[tuple[str, Decimal, Decimal, Decimal]],
    days: list[date],
) -> tuple[str, str | None, Decimal | None, Decimal | None, Decimal, date, str]:
    """The k-th transaction after the opening buys: dividends, interest, contributions and fees, in date
    order across the price calendar, worded as a custodian's statement words them (text to search)."""
    day = days[k % len(days)]
    roll = rng.random()
    if buys and roll < 0.5:
        symbol, qty, price, _amount = buys[rng.randrange(len(buys))]
        amount = max(to_cents(qty * price * Decimal("0.004")), Decimal("0.01"))
        return ("dividend", symbol, None, None, amount, day, f"Quarterly dividend {symbol}")
    if roll < 0.7:
        return ("fee", None, None, None, Decimal("-25.00"), day, "Advisory fee")
    if roll < 0.85:
        interest = Decimal(rng.randint(100, 2000)) / 100
        return ("interest", None, None, None, interest, day, "Cash sweep interest")
    return ("deposit", None, None, None, Decimal(rng.randint(1, 50) * 100), day, "Monthly contribution")


async def _reserve(conn: asyncpg.Connection, table: str, n: int) -> int:
    """Reserve n consecutive-enough ids: we take the first and advance the sequence past first + n."""
    first: int = await _NEXT_ID.fetchval(conn, table=table)
    await _SET_ID.execute(conn, table=table, value=first + n)
    return first


async def add_synthetic_book(
    conn: asyncpg.Connection,
    *,
    firm_id: int,
    clients: int,
    positions_per_client: int,
    transactions_per_client: int,
    on_progress: Callable[[int], None] = lambda n: None,
) -> SyntheticResult:
    prices = load_prices()
    universe = sum(1 for s in SECURITIES if prices.close(s.symbol, OPENED) is not None)
    if not 0 <= positions_per_client <= universe:
        raise Invalid(f"positions-per-client must be between 0 and {universe}", field="positions-per-client")
    advisors = [r["id"] for r in await _ADVISORS.fetch(conn, firm_id=firm_id)]
    if not advisors:
        raise NotFound(f"firm {firm_id} does not exist or has no advisors", field="firm")
    async with conn.transaction():
        await load_reference_data(conn)
    existing = {
        r["external_id"]
        for r in await _EXTERNAL_IDS.fetch(conn, firm_id=firm_id, pattern=f"synth-{firm_id}-%")
    }
    missing = [i for i in range(1, clients + 1) if f"synth-{firm_id}-{i}" not in existing]
    on_progress(clients - len(missing))
    n_txn = max(transactions_per_client, positions_per_client + 1)
    totals = [0, 0]
    for start in range(0, len(missing), BATCH):
        chunk = missing[start : start + BATCH]
        async with conn.transaction():
            base = {
                "client": await _reserve(conn, "clients", len(chunk)),
                "account": await _reserve(conn, "accounts", len(chunk)),
                "position": await _reserve(conn, "positions", len(chunk) * positions_per_client),
                "txn": await _reserve(conn, "transactions", len(chunk) * n_txn),
            }
            rows: dict[str, list[tuple[object, ...]]] = {
                "clients": [],
                "accounts": [],
                "transactions": [],
                "positions": [],
                "lots": [],
            }
            for k, index in enumerate(chunk):
                ids = {
                    "client": base["client"] + k,
                    "account": base["account"] + k,
                    "position": base["position"] + k * positions_per_client,
                    "txn": base["txn"] + k * n_txn,
                }
                client, account, txns, positions, lots = _client_rows(
                    firm_id, index, advisors[index % len(advisors)], ids, prices, positions_per_client, n_txn
                )
                rows["clients"].append(astuple(client))
                rows["accounts"].append(astuple(account))
                rows["transactions"].extend(astuple(t) for t in txns)
                rows["positions"].extend(astuple(p) for p in positions)
                rows["lots"].extend(astuple(lot) for lot in lots)
            for table, model in (
                ("clients", ClientRow),
                ("accounts", AccountRow),
                ("transactions", TransactionRow),
                ("positions", PositionRow),
                ("lots", LotRow),
            ):
                if rows[table]:
                    columns = [f.name for f in fields(model)]
                    await conn.copy_records_to_table(table, records=rows[table], columns=columns)
            totals[0] += len(rows["positions"])
            totals[1] += len(rows["transactions"])
            await record(
                conn,
                firm_id=firm_id,
                actor={"type": "operator", "owner": "wealthgate demo-data", "firm_id": firm_id},
                action="synthetic_book.loaded",
                target_type="firm",
                target_id=firm_id,
                details={"clients": len(chunk), "first_index": chunk[0], "last_index": chunk[-1]},
            )
        on_progress(len(chunk))
    return SyntheticResult(
        added_clients=len(missing),
        existing_clients=clients - len(missing),
        positions=totals[0],
        transactions=totals[1],
    )
