"""Loading a visible client's holdings (now, or as of a date from the ledger) for the analytics.

`find` is the scoped lookup (404 unless the caller may see the client) and reads the client's profile in
the same round trip; everything after it takes the `Client` it returns and binds `**client.visible.ids`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import asyncpg

from wealthgate.auth.principal import Principal
from wealthgate.clients.visibility import VisibleClient, find_with, scoped
from wealthgate.db.sql import Sql
from wealthgate.errors import Invalid
from wealthgate.ledger.replay import Entry, replay
from wealthgate.ledger.replay import Holding as Replayed
from wealthgate.portfolios.analytics import Holding, Valuation, value
from wealthgate.portfolios.draft import Candidate

_CLIENT = scoped(
    """
SELECT v.id, v.risk_tolerance, v.excluded_symbols, v.excluded_sectors,
       (SELECT max(last_price_date) FROM securities) AS market_date
FROM visible v WHERE v.id = :client_id
"""
)
_ACCOUNTS = Sql(
    """
SELECT id, name, account_type, cash_balance, allows_margin FROM accounts
WHERE firm_id = :firm_id AND client_id = :client_id
"""
)
_CURRENT = Sql(
    """
SELECT p.account_id, p.symbol, p.quantity, p.cost_basis, s.name, s.asset_class, s.sector, s.region,
       s.last_price AS price, s.last_price_date AS price_date
FROM positions p JOIN securities s ON s.symbol = p.symbol
WHERE p.firm_id = :firm_id AND p.client_id = :client_id AND p.quantity <> 0
ORDER BY p.account_id, p.symbol
"""
)
_LEDGER = Sql(
    """
SELECT id, account_id, trade_date, type, symbol, quantity, price, amount, fees, reverses_id FROM transactions
WHERE firm_id = :firm_id AND client_id = :client_id AND trade_date <= :as_of
ORDER BY trade_date, id
"""
)
_PRICES_AS_OF = Sql(
    """
SELECT s.symbol, s.name, s.asset_class, s.sector, s.region, p.close AS price, p.price_date
FROM securities s
LEFT JOIN LATERAL (
    SELECT close, price_date FROM prices WHERE symbol = s.symbol AND price_date <= :as_of
    ORDER BY price_date DESC LIMIT 1
) p ON true
WHERE s.symbol = ANY(:symbols::text[])
"""
)
_MODEL = Sql(
    """
SELECT w.asset_class, w.target_weight, w.band
FROM model_portfolios m
JOIN model_portfolio_weights w ON w.firm_id = m.firm_id AND w.model_portfolio_id = m.id
WHERE m.firm_id = :firm_id AND m.risk_level = :risk_level
"""
)
_HISTORY = Sql(
    """
SELECT symbol, price_date, close FROM prices
WHERE symbol = ANY(:symbols::text[]) AND price_date > :start AND price_date <= :end
"""
)
_CANDIDATES = Sql(
    """
SELECT symbol, name, asset_class, sector, region, last_price FROM securities
WHERE last_price IS NOT NULL AND last_price > 0
ORDER BY symbol
"""
)


@dataclass(frozen=True, slots=True)
class Client:
    """A client the caller may see (`visible`, proven by `find`), with what the analytics read of it."""

    visible: VisibleClient
    risk_profile: str
    excluded_symbols: frozenset[str]
    excluded_sectors: frozenset[str]
    market_date: date | None  # the latest close of any security: the analytics' "now"

    @property
    def id(self) -> int:
        return self.visible.client_id

    @property
    def today(self) -> date:
        """The date the analytics value at by default: the latest close (the calendar date without one)."""
        return self.market_date or date.today()  # noqa: DTZ011  (a calendar date)


@dataclass(frozen=True, slots=True)
class ClientBook:
    client: Client
    valuation: Valuation
    account_names: dict[int, str]
    # per (account, symbol), closed holdings too: realized gains (average and FIFO) and open FIFO lots
    replayed: dict[tuple[int, str], Replayed] | None = None
    allows_margin: dict[int, bool] = field(default_factory=dict)  # per account: may its cash go below zero


async def find(conn: asyncpg.Connection, principal: Principal, client_id: int) -> Client:
    """The client's risk profile, restrictions and the latest market date; 404 unless visible."""
    visible, row = await find_with(conn, principal, client_id, _CLIENT)
    return Client(
        visible,
        row["risk_tolerance"],
        frozenset(row["excluded_symbols"]),
        frozenset(row["excluded_sectors"]),
        row["market_date"],
    )


async def load(
    conn: asyncpg.Connection, client: Client, as_of: date | None, *, with_realized: bool = False
) -> ClientBook:
    """The client's valued book: current positions, or the ledger replayed up to `as_of`. The ledger is read
    only when needed: for `as_of`, or for realized gains and FIFO lots (`with_realized`)."""
    ids = client.visible.ids
    accounts = await _ACCOUNTS.fetch(conn, **ids)
    types = {a["id"]: a["account_type"] for a in accounts}
    names = {a["id"]: a["name"] for a in accounts}
    ledger = None
    if as_of is not None or with_realized:
        rows = await _LEDGER.fetch(conn, **ids, as_of=as_of or date.max)
        ledger = replay(Entry.from_row(r) for r in rows)
    if ledger is None or as_of is None:  # current positions (the ledger, if read, was for realized gains)
        rows = await _CURRENT.fetch(conn, **ids)
        holdings = [_holding(r, types, r["quantity"], r["cost_basis"]) for r in rows]
        cash = {a["id"]: a["cash_balance"] for a in accounts}
    else:
        open_ = ledger.open_holdings()
        symbols = sorted({s for _, s in open_})
        market = {r["symbol"]: r for r in await _PRICES_AS_OF.fetch(conn, symbols=symbols, as_of=as_of)}
        holdings = [
            _holding(market[s], types, h.quantity, h.cost_basis, account=a, symbol=s)
            for (a, s), h in sorted(open_.items())
        ]
        cash = {a["id"]: ledger.cash.get(a["id"], Decimal(0)) for a in accounts}
    return ClientBook(
        client,
        value(holdings, cash, types, as_of or client.today),
        names,
        ledger.holdings if ledger is not None else None,
        {a["id"]: a["allows_margin"] for a in accounts},
    )


def _holding(
    r: asyncpg.Record,
    types: dict[int, str],
    quantity: Decimal,
    cost: Decimal,
    *,
    account: int | None = None,
    symbol: str | None = None,
) -> Holding:
    account_id = account if account is not None else r["account_id"]
    return Holding(
        account_id,
        types[account_id],
        symbol or r["symbol"],
        r["name"],
        r["asset_class"],
        r["sector"],
        r["region"],
        quantity,
        cost,
        r["price"],
        r["price_date"],
    )


async def model_for(conn: asyncpg.Connection, client: Client) -> dict[str, tuple[Decimal, Decimal]]:
    """The firm's model portfolio for the client's risk profile: target weight and band per asset class."""
    rows = await _MODEL.fetch(conn, firm_id=client.visible.firm_id, risk_level=client.risk_profile)
    return {r["asset_class"]: (r["target_weight"], r["band"]) for r in rows}


async def price_history(
    conn: asyncpg.Connection, valuation: Valuation, window: int
) -> dict[str, dict[date, Decimal]]:
    """Closes of the securities held over enough calendar days to hold `window` trading days before the
    valuation date."""
    end = valuation.as_of
    symbols = sorted({item.holding.symbol for item in valuation.holdings})
    start = end - timedelta(days=window * 2 + 30)
    closes: dict[str, dict[date, Decimal]] = {}
    for r in await _HISTORY.fetch(conn, symbols=symbols, start=start, end=end):
        closes.setdefault(r["symbol"], {})[r["price_date"]] = r["close"]
    return closes


def period_end(client: Client, start: date | None, end: date | None) -> date:
    """The last day of a performance period: `end`, or the latest close; a 422 if `start` is after it."""
    last = end or client.today
    if start is not None and start > last:
        raise Invalid("from must not be after to", field="from")
    return last


async def candidates(conn: asyncpg.Connection) -> list[Candidate]:
    """Every priced security: the rebalancer decides which the client may buy (`portfolios/eligibility.py`)
    and says why the others may not."""
    return [
        Candidate(r["symbol"], r["name"], r["asset_class"], r["sector"], r["region"], r["last_price"])
        for r in await _CANDIDATES.fetch(conn)
    ]
