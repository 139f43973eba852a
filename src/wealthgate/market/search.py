"""Searching the security master: what agents name when they propose a trade."""

from __future__ import annotations

from typing import Any

import asyncpg

from wealthgate.money import trimmed
from wealthgate.pagination import decode_keyset, encode_keyset

_SEARCH = """
SELECT symbol, name, asset_class, sector, region, risk_rating, is_complex, leverage, liquidity, currency,
       last_price, last_price_date
FROM securities
WHERE ($1::text IS NULL OR symbol ILIKE $1 || '%' OR name ILIKE '%' || $1 || '%' OR sector ILIKE $1 || '%')
  AND ($2::text IS NULL OR asset_class = $2)
  AND ($3::int IS NULL OR risk_rating <= $3)
  AND ($4::boolean IS NULL OR is_complex = $4)
  AND ($5::text IS NULL OR (symbol > $5 AND upper(symbol) <> upper(coalesce($1, ''))))
ORDER BY (upper(symbol) = upper(coalesce($1, ''))) DESC, symbol
LIMIT $6
"""


def _like_safe(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    q: str | None,
    asset_class: str | None,
    max_risk: int | None,
    complex_allowed: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    after = str(decode_keyset(cursor, 1)[0]) if cursor else None
    rows = await conn.fetch(
        _SEARCH,
        _like_safe(q) if q else None,
        asset_class,
        max_risk,
        None if complex_allowed is None or complex_allowed else False,
        after,
        limit + 1,
    )
    items = [
        {
            "symbol": r["symbol"],
            "name": r["name"],
            "asset_class": r["asset_class"],
            "sector": r["sector"],
            "region": r["region"],
            "risk_rating": r["risk_rating"],
            "is_complex": r["is_complex"],
            "leverage": trimmed(r["leverage"]),
            "liquidity": r["liquidity"],
            "currency": r["currency"],
            "latest_price": None if r["last_price"] is None else trimmed(r["last_price"]),
            "latest_price_date": None if r["last_price_date"] is None else r["last_price_date"].isoformat(),
        }
        for r in rows[:limit]
    ]
    # The exact match (if any) leads page one and is left out of later pages, so the keyset is by symbol.
    next_cursor = encode_keyset([rows[limit - 1]["symbol"]]) if len(rows) > limit else None
    return items, next_cursor
