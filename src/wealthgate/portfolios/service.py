"""Loading a visible client's holdings (now, or as of a date from the ledger) for the analytics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import asyncpg

from wealthgate.auth.principal import Principal
from wealthgate.clients.service import CLIENT_NOT_FOUND
from wealthgate.clients.visibility import scope_args, scoped_text
from wealthgate.errors import NotFound
from wealthgate.ledger.replay import Entry, replay
from wealthgate.ledger.replay import Holding as Replayed
from wealthgate.portfolios.analytics import Holding, Valuation, value
from wealthgate.portfolios.draft import Candidate

_CLIENT = scoped_text(
    """
SELECT v.id, v.risk_tolerance, v.excluded_symbols, v.excluded_sectors,
       (SELECT max(last_price_date) FROM securities) AS market_date
FROM visible v WHERE v.id = $3
"""
)
_ACCOUNTS = """
SELECT id, name, account_type, cash_balance, allows_margin FROM accounts
WHERE firm_id = $1 AND client_id = $2
"""
_CURRENT = """
SELECT p.account_id, p.symbol, p.quantity, p.cost_basis, s.name, s.asset_class, s.sector, s.region,
       s.last_price AS price, s.last_price_date AS price_date
FROM positions p JOIN securities s ON s.symbol = p.symbol
WHERE p.firm_id = $1 AND p.client_id = $2 AND p.quantity <> 0
ORDER BY p.account_id, p.symbol
"""
_LEDGER = """
SELECT id, account_id, trade_date, type, symbol, quantity, price, amount, fees, reverses_id FROM transactions
WHERE firm_id = $1 AND client_id = $2 AND trade_date <= $3
ORDER BY trade_date, id
"""
_PRICES_AS_OF = """
SELECT s.symbol, s.name, s.asset_class, s.sector, s.region, p.close AS price, p.price_date
FROM securities s
LEFT JOIN LATERAL (
    SELECT close, price_date FROM prices WHERE symbol = s.symbol AND price_date <= $2
    ORDER BY price_date DESC LIMIT 1
) p ON true
WHERE s.symbol = ANY($1::text[])
"""
_MODEL = """
SELECT w.asset_class, w.target_weight, w.band
FROM model_portfolios m
JOIN model_portfolio_weights w ON w.firm_id = m.firm_id AND w.model_portfolio_id = m.id
WHERE m.firm_id = $1 AND m.risk_level = $2
"""


@dataclass(frozen=True, slots=True)
class ClientBook:
    client_id: int
    risk_profile: str
    valuation: Valuation
    account_names: dict[int, str]
    excluded_symbols: frozenset[str] = frozenset()
    excluded_sectors: frozenset[str] = frozenset()
    # per (account, symbol), closed holdings too: realized gains (average and FIFO) and open FIFO lots
    replayed: dict[tuple[int, str], Replayed] | None = None
    allows_margin: dict[int, bool] = field(default_factory=dict)  # per account: may its cash go below zero


async def visible_client(
    conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, client_id: int
) -> asyncpg.Record:
    """The client's risk profile, restrictions and the latest market date; 404 unless visible."""
    client = await conn.fetchrow(_CLIENT, *scope_args(principal, client_id))
    if client is None:
        raise NotFound(CLIENT_NOT_FOUND)
    return client


async def load(
    conn: asyncpg.Connection | asyncpg.Pool,
    principal: Principal,
    client_id: int,
    as_of: date | None,
    *,
    with_realized: bool = False,
) -> ClientBook:
    """The client's valued book: current positions, or the ledger replayed up to `as_of`. The ledger is read
    only when needed: for `as_of`, or for realized gains and FIFO lots (`with_realized`)."""
    client = await visible_client(conn, principal, client_id)
    firm = principal.firm_id
    accounts = await conn.fetch(_ACCOUNTS, firm, client_id)
    types = {a["id"]: a["account_type"] for a in accounts}
    names = {a["id"]: a["name"] for a in accounts}
    valuation_date = as_of or client["market_date"] or date.today()  # noqa: DTZ011  (a calendar date)
    ledger = None
    if as_of is not None or with_realized:
        ledger = replay(
            Entry.from_row(r) for r in await conn.fetch(_LEDGER, firm, client_id, as_of or date.max)
        )
    if ledger is None or as_of is None:  # current positions (the ledger, if read, was for realized gains)
        rows = await conn.fetch(_CURRENT, firm, client_id)
        holdings = [_holding(r, types, r["quantity"], r["cost_basis"]) for r in rows]
        cash = {a["id"]: a["cash_balance"] for a in accounts}
    else:
        open_ = ledger.open_holdings()
        market = {
            r["symbol"]: r for r in await conn.fetch(_PRICES_AS_OF, sorted({s for _, s in open_}), as_of)
        }
        holdings = [
            _holding(market[s], types, h.quantity, h.cost_basis, account=a, symbol=s)
            for (a, s), h in sorted(open_.items())
        ]
        cash = {a["id"]: ledger.cash.get(a["id"], Decimal(0)) for a in accounts}
    return ClientBook(
        client_id,
        client["risk_tolerance"],
        value(holdings, cash, types, valuation_date),
        names,
        frozenset(client["excluded_symbols"]),
        frozenset(client["excluded_sectors"]),
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


async def model_for(
    conn: asyncpg.Connection | asyncpg.Pool, firm_id: int, risk_level: str
) -> dict[str, tuple[Decimal, Decimal]]:
    rows = await conn.fetch(_MODEL, firm_id, risk_level)
    return {r["asset_class"]: (r["target_weight"], r["band"]) for r in rows}


_HISTORY = """
SELECT symbol, price_date, close FROM prices
WHERE symbol = ANY($1::text[]) AND price_date > $2 AND price_date <= $3
"""


async def price_history(
    conn: asyncpg.Connection | asyncpg.Pool, symbols: list[str], end: date, window: int
) -> dict[str, dict[date, Decimal]]:
    """Closes of `symbols` over enough calendar days to hold `window` trading days before `end`."""
    start = end - timedelta(days=window * 2 + 30)
    closes: dict[str, dict[date, Decimal]] = {}
    for r in await conn.fetch(_HISTORY, symbols, start, end):
        closes.setdefault(r["symbol"], {})[r["price_date"]] = r["close"]
    return closes


_CANDIDATES = """
SELECT symbol, name, asset_class, sector, region, last_price FROM securities
WHERE last_price IS NOT NULL AND last_price > 0
ORDER BY symbol
"""


async def candidates(conn: asyncpg.Connection | asyncpg.Pool) -> list[Candidate]:
    """Every priced security: the rebalancer decides which the client may buy (`portfolios/eligibility.py`)
    and says why the others may not."""
    return [
        Candidate(r["symbol"], r["name"], r["asset_class"], r["sector"], r["region"], r["last_price"])
        for r in await conn.fetch(_CANDIDATES)
    ]
