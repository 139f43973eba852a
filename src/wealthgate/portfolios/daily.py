"""Daily valuations of a client's accounts from the ledger and closing prices, with their external flows, for
performance (docs/methodology.md). `series` loads; `valuations` is the pure part.

- A day's value is cash plus each holding at round(quantity x mark, 2), as everywhere else, so the accounts
  add up to the total exactly. The mark is the latest close on or before the day (carried forward); a holding
  whose security has no close yet is marked at the price of its latest trade or transfer, so buying or
  receiving it is not a loss and its first close is not a gain from nothing.
- External flows, by the intraday convention of performance.py: a deposit comes in at the start of its day
  (`start_flow`); a withdrawal, and a transfer of securities or cash in or out, at the close (`end_flow`). A
  security transfer is worth round(quantity x that day's mark, 2): exactly what it adds to (or takes from) the
  day's value, so it is never return. Its recorded price is the cost carried over for tax lots, not what it
  is worth; its recorded amount, the cash that moved with it, is a flow of its own.
- Transfers between the client's own accounts are flows of each account but not of the client: for the
  total, a day's transfers are netted per security (and cash) across accounts first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import asyncpg

from wealthgate.clients.visibility import VisibleClient
from wealthgate.db.sql import Sql
from wealthgate.ledger.replay import Book, Entry, Row, effective
from wealthgate.money import to_cents
from wealthgate.portfolios.performance import Day

TOTAL = 0  # key of the whole client's series
ZERO = Decimal(0)
CASH = ""  # the "security" of a transfer's cash amount, netted like the others


_LEDGER = Sql(
    """
SELECT id, account_id, trade_date, type, symbol, quantity, price, amount, fees, reverses_id
FROM transactions WHERE firm_id = :firm_id AND client_id = :client_id AND trade_date <= :end
ORDER BY trade_date, id
"""
)
_ACCOUNTS = Sql("SELECT id FROM accounts WHERE firm_id = :firm_id AND client_id = :client_id ORDER BY id")
_CLOSES = Sql(
    """
SELECT symbol, price_date, close FROM prices
WHERE symbol = ANY(:symbols::text[]) AND price_date BETWEEN :first AND :end
"""
)
_CALENDAR = Sql("SELECT DISTINCT price_date FROM prices WHERE price_date BETWEEN :first AND :end ORDER BY 1")


async def series(conn: asyncpg.Connection, client: VisibleClient, end: date) -> dict[int, list[Day]]:
    """Per account (and `TOTAL`): end-of-day value and external flows on every market day from the first
    transaction to `end`."""
    txns = await _LEDGER.fetch(conn, **client.ids, end=end)
    accounts = [r["id"] for r in await _ACCOUNTS.fetch(conn, **client.ids)]
    if not txns:
        return {}
    first = txns[0]["trade_date"]
    symbols = sorted({t["symbol"] for t in txns if t["symbol"]})
    closes: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for r in await _CLOSES.fetch(conn, symbols=symbols, first=first, end=end):
        closes[r["symbol"]][r["price_date"]] = r["close"]
    calendar = [r["price_date"] for r in await _CALENDAR.fetch(conn, first=first, end=end)]
    return valuations(txns, accounts, calendar, closes)


@dataclass
class _Flows:
    """One day's external flows, per account: deposits, withdrawals, transfers (quantity or cash, per
    security)."""

    deposits: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    withdrawals: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    moved: dict[tuple[int, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def note(self, e: Entry) -> None:
        if e.type == "deposit":
            self.deposits[e.account_id] += e.amount
        elif e.type == "withdrawal":
            self.withdrawals[e.account_id] += e.amount
        elif e.type == "transfer":
            if e.symbol and e.quantity:
                self.moved[e.account_id, e.symbol] += e.quantity
            self.moved[e.account_id, CASH] += e.amount


def valuations(
    rows: Iterable[Row],
    accounts: Sequence[int],
    calendar: Sequence[date],
    closes: Mapping[str, Mapping[date, Decimal]],
) -> dict[int, list[Day]]:
    """Per account (and `TOTAL`) on each day of `calendar`: the value at the close and the day's external
    flows. `rows` are the ledger in order (trade date, then id); one dated off the calendar counts on the next
    market day. Reversed pairs count nowhere."""
    entries = effective(Entry.from_row(r) for r in rows)
    book = Book()
    traded: dict[str, Decimal] = {}  # latest trade or transfer price, for securities not yet closed
    closed: dict[str, Decimal] = {}  # latest close
    out: dict[int, list[Day]] = {a: [] for a in [TOTAL, *accounts]}
    i = 0
    for day in calendar:
        flows = _Flows()
        while i < len(entries) and (entries[i].trade_date or day) <= day:
            e = entries[i]
            i += 1
            book.apply(e)
            flows.note(e)
            if e.symbol and e.price and e.type in ("buy", "sell", "transfer"):
                traded[e.symbol] = e.price
        closed.update({s: series_[day] for s, series_ in closes.items() if day in series_})
        mark = {**traded, **closed}
        values: dict[int, Decimal] = {a: book.cash.get(a, ZERO) for a in accounts}
        for (account, symbol), h in book.holdings.items():
            if h.quantity:
                values[account] = values.get(account, ZERO) + _worth(symbol, h.quantity, mark)
        transferred: dict[int, Decimal] = defaultdict(Decimal)
        netted: dict[str, Decimal] = defaultdict(Decimal)
        for (account, symbol), quantity in flows.moved.items():
            transferred[account] += _worth(symbol, quantity, mark)
            netted[symbol] += quantity
        for a in accounts:
            end_flow = flows.withdrawals.get(a, ZERO) + transferred.get(a, ZERO)
            out[a].append(Day(day, values.get(a, ZERO), flows.deposits.get(a, ZERO), end_flow))
        end_flow = sum(flows.withdrawals.values(), ZERO) + sum(
            (_worth(s, q, mark) for s, q in netted.items()), ZERO
        )
        out[TOTAL].append(Day(day, sum(values.values(), ZERO), sum(flows.deposits.values(), ZERO), end_flow))
    return out


def _worth(symbol: str, quantity: Decimal, mark: Mapping[str, Decimal]) -> Decimal:
    """A quantity's value at the day's mark, to the cent; a transfer's cash amount is worth itself."""
    if symbol == CASH:
        return quantity
    return to_cents(quantity * mark[symbol]) if symbol in mark else ZERO


def window(days: list[Day], start: date) -> list[Day]:
    """The series from the last market day on or before `start` (the base), flows before it left out."""
    base = max((k for k, d in enumerate(days) if d.on <= start), default=0)
    trimmed = days[base:]
    if trimmed:
        trimmed[0] = Day(trimmed[0].on, trimmed[0].value)
    return trimmed
