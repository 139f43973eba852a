"""A client's transaction history for agents: filters, ranked full-text search, keyset pages.

Without `q` the order is newest first (trade date, then id); with `q` it is by relevance (`ts_rank` over
symbol, security name and description, weighted in that order), then newest first. Both orders are total, so
pages never repeat or skip a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from wealthgate.auth.principal import Principal
from wealthgate.clients.service import CLIENT_NOT_FOUND
from wealthgate.clients.visibility import scope_args, scoped_text
from wealthgate.errors import Invalid, NotFound
from wealthgate.money import plain, trimmed
from wealthgate.pagination import decode_keyset, encode_keyset

_SEARCH = scoped_text(
    """
, c AS (SELECT firm_id, id FROM visible WHERE id = $3)
, q AS (SELECT CASE WHEN $10::text IS NULL THEN NULL ELSE websearch_to_tsquery('english', $10) END AS query)
, hits AS (
    SELECT t.id, t.account_id, t.trade_date, t.type, t.symbol, s.name AS security_name, t.quantity, t.price,
           t.amount, t.fees, t.description, t.reverses_id,
           CASE WHEN q.query IS NULL THEN 0::real ELSE ts_rank(t.search, q.query) END AS rank
    FROM c
    JOIN transactions t ON t.firm_id = c.firm_id AND t.client_id = c.id
    LEFT JOIN securities s ON s.symbol = t.symbol
    CROSS JOIN q
    WHERE ($4::bigint IS NULL OR t.account_id = $4)
      AND ($5::text IS NULL OR t.type = $5)
      AND ($6::text IS NULL OR t.symbol = $6)
      AND ($7::date IS NULL OR t.trade_date >= $7)
      AND ($8::date IS NULL OR t.trade_date <= $8)
      AND ($9::numeric IS NULL OR t.amount >= $9)
      AND ($11::numeric IS NULL OR t.amount <= $11)
      AND (q.query IS NULL OR t.search @@ q.query)
)
SELECT (SELECT count(*) FROM c) AS visible, h.*, h.rank::text AS rank_text
FROM (SELECT 1) one
LEFT JOIN hits h ON (
    $12::text IS NULL OR (h.rank, h.trade_date, h.id) < ($12::text::real, $13::date, $14::bigint))
ORDER BY h.rank DESC, h.trade_date DESC, h.id DESC
LIMIT $15
"""
)
_ACCOUNT_OF_CLIENT = scoped_text(
    "\nSELECT 1 FROM visible v JOIN accounts a ON a.firm_id = v.firm_id AND a.client_id = v.id"
    " WHERE v.id = $3 AND a.id = $4"
)


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    account_id: int | None = None
    type: str | None = None
    symbol: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    q: str | None = None


def _item(r: asyncpg.Record, ranked: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": r["id"],
        "account_id": r["account_id"],
        "trade_date": r["trade_date"].isoformat(),
        "type": r["type"],
        "symbol": r["symbol"],
        "security_name": r["security_name"],
        "quantity": None if r["quantity"] is None else trimmed(r["quantity"]),
        "price": None if r["price"] is None else trimmed(r["price"]),
        "amount": plain(r["amount"]),
        "fees": plain(r["fees"]),
        "description": r["description"],
        "reverses_id": r["reverses_id"],
    }
    if ranked:
        item["rank"] = r["rank_text"]
    return item


async def search(
    conn: asyncpg.Connection | asyncpg.Pool,
    principal: Principal,
    client_id: int,
    where: HistoryFilter,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the client's transactions; 404 when the client (or the account) is not the caller's."""
    if where.min_amount is not None and where.max_amount is not None and where.min_amount > where.max_amount:
        raise Invalid("min_amount must not exceed max_amount", field="min_amount")
    if where.from_date and where.to_date and where.from_date > where.to_date:
        raise Invalid("from must not be after to", field="from")
    if where.account_id is not None and not await conn.fetchval(
        _ACCOUNT_OF_CLIENT, *scope_args(principal, client_id, where.account_id)
    ):
        raise NotFound("Account not found")
    after: list[Any] = [None, None, None]
    if cursor:
        rank, day, last_id = decode_keyset(cursor, 3)
        try:
            float(rank)  # it must be a number; PostgreSQL parses the text itself, exactly
            after = [str(rank), date.fromisoformat(str(day)), int(last_id)]
        except ValueError as exc:
            raise Invalid("cursor is not one this API returned", field="cursor") from exc
    rows = await conn.fetch(
        _SEARCH,
        *scope_args(
            principal,
            client_id,
            where.account_id,
            where.type,
            where.symbol,
            where.from_date,
            where.to_date,
            where.min_amount,
            where.q or None,
            where.max_amount,
            *after,
            limit + 1,
        ),
    )
    if not rows or rows[0]["visible"] == 0:
        raise NotFound(CLIENT_NOT_FOUND)
    found = [r for r in rows if r["id"] is not None]
    items = [_item(r, where.q is not None) for r in found[:limit]]
    next_cursor = None
    if len(found) > limit:
        last = found[limit - 1]
        next_cursor = encode_keyset([last["rank_text"], last["trade_date"].isoformat(), last["id"]])
    return items, next_cursor
