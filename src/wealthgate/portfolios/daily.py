"""Daily valuations of a client's accounts from the ledger and closing prices, for performance."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import asyncpg

from wealthgate.ledger.replay import Book, Entry
from wealthgate.money import to_cents
from wealthgate.portfolios.performance import Day

EXTERNAL = ("deposit", "withdrawal")
TOTAL = 0  # key of the whole client's series


async def series(
    conn: asyncpg.Connection | asyncpg.Pool, firm_id: int, client_id: int, end: date
) -> dict[int, list[Day]]:
    """Per account (and `TOTAL`): end-of-day value on every market day from the first transaction to `end`,
    with the external flows (deposits, withdrawals) of each day, closes carried forward. Each holding is
    valued round(quantity x close, 2), as everywhere else, so the accounts add up to the total exactly."""
    txns = await conn.fetch(
        "SELECT id, account_id, trade_date, type, symbol, quantity, price, amount, fees, reverses_id"
        " FROM transactions WHERE firm_id = $1 AND client_id = $2 AND trade_date <= $3"
        " ORDER BY trade_date, id",
        firm_id,
        client_id,
        end,
    )
    accounts = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM accounts WHERE firm_id = $1 AND client_id = $2 ORDER BY id", firm_id, client_id
        )
    ]
    if not txns:
        return {}
    first = txns[0]["trade_date"]
    symbols = sorted({t["symbol"] for t in txns if t["symbol"]})
    closes: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for r in await conn.fetch(
        "SELECT symbol, price_date, close FROM prices WHERE symbol = ANY($1::text[])"
        " AND price_date BETWEEN $2 AND $3",
        symbols,
        first,
        end,
    ):
        closes[r["symbol"]][r["price_date"]] = r["close"]
    calendar = [
        r["price_date"]
        for r in await conn.fetch(
            "SELECT DISTINCT price_date FROM prices WHERE price_date BETWEEN $1 AND $2 ORDER BY 1", first, end
        )
    ]
    reversed_ids = {t["reverses_id"] for t in txns if t["reverses_id"]}
    book = Book()
    last_close: dict[str, Decimal] = {}
    out: dict[int, list[Day]] = {a: [] for a in [TOTAL, *accounts]}
    i = 0
    for day in calendar:
        flows: dict[int, Decimal] = defaultdict(Decimal)
        while i < len(txns) and txns[i]["trade_date"] <= day:
            t = txns[i]
            i += 1
            if t["reverses_id"] or t["id"] in reversed_ids:
                continue
            book.apply(Entry.from_row(t))
            if t["type"] in EXTERNAL:
                flows[t["account_id"]] += t["amount"]
        for symbol in symbols:
            if day in closes[symbol]:
                last_close[symbol] = closes[symbol][day]
        values: dict[int, Decimal] = {a: book.cash.get(a, Decimal(0)) for a in accounts}
        for (account, symbol), h in book.holdings.items():
            if h.quantity and symbol in last_close:
                values[account] = values.get(account, Decimal(0)) + to_cents(h.quantity * last_close[symbol])
        for a in accounts:
            out[a].append(Day(day, values.get(a, Decimal(0)), flows.get(a, Decimal(0))))
        out[TOTAL].append(Day(day, sum(values.values(), Decimal(0)), sum(flows.values(), Decimal(0))))
    return out


def window(days: list[Day], start: date) -> list[Day]:
    """The series from the last market day on or before `start` (the base), flows before it left out."""
    base = max((k for k, d in enumerate(days) if d.on <= start), default=0)
    trimmed = days[base:]
    if trimmed:
        trimmed[0] = Day(trimmed[0].on, trimmed[0].value)
    return trimmed
