"""A client's transaction history for agents: filters, ranked full-text search, keyset pages.

Without `q` the order is newest first (trade date, then id); with `q` it is by relevance (`ts_rank` over
symbol, security name and description, weighted in that order), then newest first. Both orders are total, so
pages never repeat or skip a transaction.

The search is one named statement over the rows of a `VisibleClient` (so it cannot be run for a client the
caller was not shown); every filter is a `:name IS NULL OR ...` clause, left out by binding null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg

from wealthgate.clients.visibility import VisibleClient
from wealthgate.db.sql import Sql
from wealthgate.errors import Invalid, NotFound
from wealthgate.ledger.schemas import TransactionItem, TransactionPage
from wealthgate.money import plain, trimmed
from wealthgate.pagination import decode_keyset, encode_keyset, real_text

_SEARCH = Sql(
    """
WITH q AS (
    SELECT CASE WHEN :q::text IS NULL THEN NULL ELSE websearch_to_tsquery('english', :q) END AS query
)
, hits AS (
    SELECT t.id, t.account_id, t.trade_date, t.type, t.symbol, s.name AS security_name, t.quantity, t.price,
           t.amount, t.fees, t.description, t.reverses_id,
           CASE WHEN q.query IS NULL THEN 0::real ELSE ts_rank(t.search, q.query) END AS rank
    FROM transactions t
    LEFT JOIN securities s ON s.symbol = t.symbol
    CROSS JOIN q
    WHERE t.firm_id = :firm_id AND t.client_id = :client_id
      AND (:account_id::bigint IS NULL OR t.account_id = :account_id)
      AND (:type::text IS NULL OR t.type = :type)
      AND (:symbol::text IS NULL OR t.symbol = :symbol)
      AND (:from_date::date IS NULL OR t.trade_date >= :from_date)
      AND (:to_date::date IS NULL OR t.trade_date <= :to_date)
      AND (:min_amount::numeric IS NULL OR t.amount >= :min_amount)
      AND (:max_amount::numeric IS NULL OR t.amount <= :max_amount)
      AND (q.query IS NULL OR t.search @@ q.query)
)
SELECT h.*, h.rank::text AS rank_text
FROM hits h
WHERE :after_rank::text IS NULL
   OR (h.rank, h.trade_date, h.id) < (:after_rank::text::real, :after_date::date, :after_id::bigint)
ORDER BY h.rank DESC, h.trade_date DESC, h.id DESC
LIMIT :limit
"""
)
_ACCOUNT_OF_CLIENT = Sql(
    "SELECT 1 FROM accounts WHERE firm_id = :firm_id AND client_id = :client_id AND id = :account_id"
)


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """What to look for; every part is optional. Contradictory bounds are refused when the filter is made,
    before anything is read."""

    account_id: int | None = None
    type: str | None = None
    symbol: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    q: str | None = None

    def __post_init__(self) -> None:
        if self.min_amount is not None and self.max_amount is not None and self.min_amount > self.max_amount:
            raise Invalid("min_amount must not exceed max_amount", field="min_amount")
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise Invalid("from must not be after to", field="from")


@dataclass(frozen=True, slots=True)
class _After:
    """The sort key of the last transaction of the previous page (all None on page one)."""

    after_rank: str | None = None
    after_date: date | None = None
    after_id: int | None = None


def _after(cursor: str | None) -> _After:
    if not cursor:
        return _After()
    rank, day, last_id = decode_keyset(cursor, 3)
    try:
        if not isinstance(last_id, int):  # decode_keyset bounds an integer to a BIGINT
            raise ValueError("the id is no integer")
        # the rank must be a number `real` can read; PostgreSQL parses the text itself, exactly
        return _After(real_text(rank), date.fromisoformat(str(day)), last_id)
    except ValueError as exc:
        raise Invalid("cursor is not one this API returned", field="cursor") from exc


def _item(r: asyncpg.Record, ranked: bool) -> TransactionItem:
    item = TransactionItem(
        id=r["id"],
        account_id=r["account_id"],
        trade_date=r["trade_date"],
        type=r["type"],
        symbol=r["symbol"],
        security_name=r["security_name"],
        quantity=None if r["quantity"] is None else trimmed(r["quantity"]),
        price=None if r["price"] is None else trimmed(r["price"]),
        amount=plain(r["amount"]),
        fees=plain(r["fees"]),
        description=r["description"],
        reverses_id=r["reverses_id"],
    )
    if ranked:  # set only with `q`: unset, it is left out of the JSON (the route excludes unset fields)
        item.rank = r["rank_text"]
    return item


async def search(
    conn: asyncpg.Connection,
    client: VisibleClient,
    where: HistoryFilter,
    *,
    limit: int,
    cursor: str | None,
) -> TransactionPage:
    """One page of the client's transactions; 404 when `where.account_id` is not one of the client's."""
    if where.account_id is not None and not await _ACCOUNT_OF_CLIENT.fetchval(
        conn, **client.ids, account_id=where.account_id
    ):
        raise NotFound("Account not found")
    after = _after(cursor)
    rows = await _SEARCH.fetch(
        conn,
        **client.ids,
        account_id=where.account_id,
        type=where.type,
        symbol=where.symbol,
        from_date=where.from_date,
        to_date=where.to_date,
        min_amount=where.min_amount,
        max_amount=where.max_amount,
        q=where.q or None,
        after_rank=after.after_rank,
        after_date=after.after_date,
        after_id=after.after_id,
        limit=limit + 1,
    )
    items = [_item(r, where.q is not None) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_keyset([last["rank_text"], last["trade_date"].isoformat(), last["id"]])
    return TransactionPage(items=items, next_cursor=next_cursor)
