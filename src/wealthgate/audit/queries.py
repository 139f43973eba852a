"""Compliance reads of the audit trail: filtered, keyset-paginated, always within the caller's firm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from wealthgate.audit.chain import timestamp
from wealthgate.auth.principal import Principal
from wealthgate.pagination import decode_cursor, encode_cursor

EVENT_COLUMNS = """id, firm_id, occurred_at, actor_key_id, actor, action, target_type, target_id, client_id,
       details, request_id, chain_key, chain_seq, prev_hash, event_hash, hash_version, client_request_id,
       mac_key_id, mac"""

_PAGE = f"""
SELECT {EVENT_COLUMNS}
FROM audit_events
WHERE firm_id = $1
  AND id > $2
  AND ($3::bigint IS NULL OR client_id = $3)
  AND ($4::bigint IS NULL OR actor_key_id = $4)
  AND ($5::text IS NULL OR action = $5 OR action LIKE $5 || '.%')
  AND ($6::text IS NULL OR target_type = $6)
  AND ($7::text IS NULL OR target_id = $7)
  AND ($8::timestamptz IS NULL OR occurred_at >= $8)
  AND ($9::timestamptz IS NULL OR occurred_at < $9)
  AND ($11::bigint[] IS NULL OR chain_key = ANY($11))
ORDER BY id
LIMIT $10
"""


@dataclass(frozen=True, slots=True)
class EventFilter:
    client_id: int | None = None
    actor_key_id: int | None = None
    action: str | None = None  # exact, or a prefix such as "api_key" for api_key.*
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def event_document(r: asyncpg.Record) -> dict[str, Any]:
    """An event as compliance reads and exports it: hashes in hex, times in ISO 8601 UTC."""
    return {
        "id": r["id"],
        "firm_id": r["firm_id"],
        "occurred_at": timestamp(r["occurred_at"]),
        "actor_key_id": r["actor_key_id"],
        "actor": r["actor"],
        "action": r["action"],
        "target_type": r["target_type"],
        "target_id": r["target_id"],
        "client_id": r["client_id"],
        "details": r["details"],
        "request_id": r["request_id"],
        "chain_key": r["chain_key"],
        "chain_seq": r["chain_seq"],
        "prev_hash": r["prev_hash"].hex(),
        "event_hash": r["event_hash"].hex(),
        "hash_version": r["hash_version"],
        "client_request_id": r["client_request_id"],
        "mac_key_id": r["mac_key_id"],
        "mac": r["mac"].hex() if r["mac"] is not None else None,
    }


async def advisor_chains(conn: asyncpg.Connection, principal: Principal) -> list[int] | None:
    """The chains a key bound to an advisor may read: its clients' (never the firm's chain 0, which holds
    firm-level events such as keys and policy). None for a key not bound to an advisor: every chain."""
    if principal.advisor_id is None:
        return None
    rows = await conn.fetch(
        "SELECT id FROM clients WHERE firm_id = $1 AND advisor_id = $2",
        principal.firm_id,
        principal.advisor_id,
    )
    return [r["id"] for r in rows]


async def page(
    conn: asyncpg.Connection | asyncpg.Pool,
    firm_id: int,
    where: EventFilter,
    *,
    limit: int,
    cursor: str | None,
    chain_keys: list[int] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    rows = await conn.fetch(
        _PAGE,
        firm_id,
        decode_cursor(cursor),
        where.client_id,
        where.actor_key_id,
        where.action,
        where.target_type,
        where.target_id,
        where.since,
        where.until,
        limit + 1,
        chain_keys,
    )
    items = [event_document(r) for r in rows[:limit]]
    return items, (encode_cursor(rows[limit - 1]["id"]) if len(rows) > limit else None)
