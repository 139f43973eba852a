"""Searching the security master: what agents name when they propose a trade."""

from __future__ import annotations

import asyncpg

from wealthgate.db.sql import Sql
from wealthgate.market.schemas import SecurityItem, SecurityPage
from wealthgate.money import trimmed
from wealthgate.pagination import decode_keyset, encode_keyset

# Every filter is optional (`:name IS NULL OR ...`); `:after` is the last symbol of the previous page.
_SEARCH = Sql(
    """
SELECT symbol, name, asset_class, sector, region, risk_rating, is_complex, leverage, liquidity, currency,
       last_price, last_price_date
FROM securities
WHERE (:q::text IS NULL OR symbol ILIKE :q || '%' OR name ILIKE '%' || :q || '%' OR sector ILIKE :q || '%')
  AND (:asset_class::text IS NULL OR asset_class = :asset_class)
  AND (:max_risk::int IS NULL OR risk_rating <= :max_risk)
  AND (:is_complex::boolean IS NULL OR is_complex = :is_complex)
  AND (:after::text IS NULL OR (symbol > :after AND upper(symbol) <> upper(coalesce(:q, ''))))
ORDER BY (upper(symbol) = upper(coalesce(:q, ''))) DESC, symbol
LIMIT :limit
"""
)


def _like_safe(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    conn: asyncpg.Connection,
    *,
    q: str | None,
    asset_class: str | None,
    max_risk: int | None,
    complex_allowed: bool | None,
    limit: int,
    cursor: str | None,
) -> SecurityPage:
    """One page of securities matching every filter given; an exact symbol match leads page one."""
    after = str(decode_keyset(cursor, 1)[0]) if cursor else None
    rows = await _SEARCH.fetch(
        conn,
        q=_like_safe(q) if q else None,
        asset_class=asset_class,
        max_risk=max_risk,
        is_complex=None if complex_allowed is None or complex_allowed else False,
        after=after,
        limit=limit + 1,
    )
    items = [
        SecurityItem(
            symbol=r["symbol"],
            name=r["name"],
            asset_class=r["asset_class"],
            sector=r["sector"],
            region=r["region"],
            risk_rating=r["risk_rating"],
            is_complex=r["is_complex"],
            leverage=trimmed(r["leverage"]),
            liquidity=r["liquidity"],
            currency=r["currency"],
            latest_price=None if r["last_price"] is None else trimmed(r["last_price"]),
            latest_price_date=r["last_price_date"],
        )
        for r in rows[:limit]
    ]
    # The exact match (if any) leads page one and is left out of later pages, so the keyset is by symbol.
    next_cursor = encode_keyset([rows[limit - 1]["symbol"]]) if len(rows) > limit else None
    return SecurityPage(items=items, next_cursor=next_cursor)
