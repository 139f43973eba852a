"""Compliance reads of the audit trail: filtered, keyset-paginated, always within the caller's firm; the
caller's verification of its chains; the age of the newest checkpoint (health)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from wealthgate.audit import checkpoints, keyring
from wealthgate.audit.chain import timestamp
from wealthgate.audit.schemas import AuditEvent, AuditEventPage, VerificationOut
from wealthgate.audit.verify import verify
from wealthgate.auth.principal import Principal
from wealthgate.db.sql import Sql
from wealthgate.pagination import decode_cursor, encode_cursor

EVENT_COLUMNS = """id, firm_id, occurred_at, actor_key_id, actor, action, target_type, target_id, client_id,
       details, request_id, chain_key, chain_seq, prev_hash, event_hash, hash_version, client_request_id,
       mac_key_id, mac"""

_PAGE = Sql(
    f"""
SELECT {EVENT_COLUMNS}
FROM audit_events
WHERE firm_id = :firm_id
  AND id > :after
  AND (:client_id::bigint IS NULL OR client_id = :client_id)
  AND (:actor_key_id::bigint IS NULL OR actor_key_id = :actor_key_id)
  AND (:action::text IS NULL OR action = :action OR action LIKE :action || '.%')
  AND (:target_type::text IS NULL OR target_type = :target_type)
  AND (:target_id::text IS NULL OR target_id = :target_id)
  AND (:since::timestamptz IS NULL OR occurred_at >= :since)
  AND (:until::timestamptz IS NULL OR occurred_at < :until)
  AND (:chain_keys::bigint[] IS NULL OR chain_key = ANY(:chain_keys))
ORDER BY id
LIMIT :limit
"""  # noqa: S608  (EVENT_COLUMNS is a constant; every value is a bind parameter)
)
_ADVISOR_CHAINS = Sql("SELECT id FROM clients WHERE firm_id = :firm_id AND advisor_id = :advisor_id")


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
    rows = await _ADVISOR_CHAINS.fetch(conn, firm_id=principal.firm_id, advisor_id=principal.advisor_id)
    return [r["id"] for r in rows]


async def page(
    conn: asyncpg.Connection,
    principal: Principal,
    where: EventFilter,
    *,
    limit: int,
    cursor: str | None,
) -> AuditEventPage:
    """The caller's firm's events matching `where`, oldest first; a key bound to an advisor reads only its
    clients' chains."""
    rows = await _PAGE.fetch(
        conn,
        firm_id=principal.firm_id,
        after=decode_cursor(cursor),
        client_id=where.client_id,
        actor_key_id=where.actor_key_id,
        action=where.action,
        target_type=where.target_type,
        target_id=where.target_id,
        since=where.since,
        until=where.until,
        chain_keys=await advisor_chains(conn, principal),
        limit=limit + 1,
    )
    return AuditEventPage(
        items=[AuditEvent(**event_document(r)) for r in rows[:limit]],
        next_cursor=encode_cursor(rows[limit - 1]["id"]) if len(rows) > limit else None,
    )


async def verification(
    conn: asyncpg.Connection, principal: Principal, since: datetime | None
) -> VerificationOut:
    """Recompute the caller's firm's chains (links, hashes, every MAC, the signed checkpoints) with the
    process's keyring; a key bound to an advisor verifies its clients' chains only."""
    ring = keyring.installed()
    result = await verify(
        conn,
        firm_id=principal.firm_id,
        since=since,
        public_keys=ring.public_keys(),
        mac_keys=ring.mac_secrets(),
        chain_keys=await advisor_chains(conn, principal),
    )
    return VerificationOut.model_validate(result.as_dict())


async def checkpoint_age(conn: asyncpg.Connection) -> float | None:
    """Seconds since the newest signed checkpoint of any firm (to the millisecond); None before the first."""
    newest = await checkpoints.newest_at(conn)
    return None if newest is None else round((datetime.now(UTC) - newest).total_seconds(), 3)
