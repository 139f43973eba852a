"""Named SQL the console needs and no domain service offers: the review queue newest first with client names,
a client's recommendations and notes, and the audit explorer's newest-first page filtered by a person.

Every statement reads through the caller's scope: the queue through `visible` (the caller's clients), a
client's rows through the ids of a `VisibleClient`, audit events within the caller's firm (and, for a caller
bound to an advisor, that advisor's clients' chains only, as `audit.queries` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from wealthgate.audit.queries import EVENT_COLUMNS, advisor_chains, event_document
from wealthgate.auth.principal import Principal
from wealthgate.clients.visibility import VisibleClient, scope, scoped
from wealthgate.db.sql import Sql
from wealthgate.errors import NotFound

# A pending recommendation past its expiry reads `expired`, as everywhere else (recommendations/queries.py).
_STATUS_NOW = """CASE WHEN r.status IN ('proposed', 'needs_review', 'approved') AND r.expires_at <= now()
            THEN 'expired' ELSE r.status END"""

_QUEUE = scoped(
    f"""
SELECT r.id, r.client_id, c.name AS client_name, r.agent_name, r.agent_model, r.verdict,
       {_STATUS_NOW} AS status, r.created_at, r.expires_at
FROM visible c
JOIN recommendations r ON r.firm_id = c.firm_id AND r.client_id = c.id
WHERE r.status IN ('proposed', 'needs_review') AND r.expires_at > now()
  AND (:before::bigint IS NULL OR r.id < :before)
ORDER BY r.id DESC
LIMIT :limit
"""  # noqa: S608  (_STATUS_NOW is a constant; every value is a bind parameter)
)
_OF_CLIENT = Sql(
    f"""
SELECT r.id, r.client_id, r.agent_name, r.agent_model, r.verdict, {_STATUS_NOW} AS status, r.created_at,
       r.reviewer, r.reviewed_at
FROM recommendations r
WHERE r.firm_id = :firm_id AND r.client_id = :client_id
ORDER BY r.id DESC
LIMIT :limit
"""  # noqa: S608  (_STATUS_NOW is a constant; every value is a bind parameter)
)
_CLIENT_NAME = Sql("SELECT name FROM clients WHERE firm_id = :firm_id AND id = :client_id")
_NOTES = Sql(
    """
SELECT id, occurred_at, actor, details FROM audit_events
WHERE firm_id = :firm_id AND client_id = :client_id AND action = 'agent.note'
ORDER BY id DESC
LIMIT :limit
"""
)
_EVENTS = Sql(
    f"""
SELECT {EVENT_COLUMNS}
FROM audit_events
WHERE firm_id = :firm_id
  AND (:before::bigint IS NULL OR id < :before)
  AND (:client_id::bigint IS NULL OR client_id = :client_id)
  AND (:actor::text IS NULL
       OR lower(actor ->> 'email') = lower(:actor) OR lower(actor ->> 'owner') = lower(:actor)
       OR lower(actor ->> 'name') = lower(:actor) OR lower(actor ->> 'key_name') = lower(:actor)
       OR actor ->> 'key_id' = :actor OR actor ->> 'user_id' = :actor)
  AND (:action::text IS NULL OR action = :action OR action LIKE :action || '.%')
  AND (:since::timestamptz IS NULL OR occurred_at >= :since)
  AND (:until::timestamptz IS NULL OR occurred_at < :until)
  AND (:chain_keys::bigint[] IS NULL OR chain_key = ANY(:chain_keys))
ORDER BY id DESC
LIMIT :limit
"""  # noqa: S608  (EVENT_COLUMNS is a constant; every value is a bind parameter)
)
_EVENT = Sql(
    f"""
SELECT {EVENT_COLUMNS}
FROM audit_events
WHERE firm_id = :firm_id AND id = :event_id
  AND (:chain_keys::bigint[] IS NULL OR chain_key = ANY(:chain_keys))
"""  # noqa: S608  (EVENT_COLUMNS is a constant; every value is a bind parameter)
)


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: int
    client_id: int
    client_name: str
    agent_name: str
    agent_model: str | None
    verdict: str
    status: str
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class QueuePage:
    items: list[QueueItem]
    next_before: int | None  # pass back as `before` for the next (older) page


@dataclass(frozen=True, slots=True)
class ClientRecommendation:
    id: int
    agent_name: str
    verdict: str
    status: str
    created_at: datetime
    reviewer: str | None
    reviewed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    occurred_at: datetime
    actor: dict[str, Any]
    event_type: str
    payload: str


@dataclass(frozen=True, slots=True)
class EventSearch:
    """The audit explorer's filter; every part optional. `actor` matches a person's email or name, a key's
    name, owner or id."""

    client_id: int | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[dict[str, Any]]  # event documents, as the API and the export show them
    next_before: int | None


async def queue(
    conn: asyncpg.Connection, principal: Principal, *, before: int | None, limit: int
) -> QueuePage:
    """Pending recommendations of the caller's clients, newest first."""
    rows = await _QUEUE.fetch(conn, **scope(principal), before=before, limit=limit + 1)
    items = [
        QueueItem(
            r["id"],
            r["client_id"],
            r["client_name"],
            r["agent_name"],
            r["agent_model"],
            r["verdict"],
            r["status"],
            r["created_at"],
            r["expires_at"],
        )
        for r in rows[:limit]
    ]
    return QueuePage(items, items[-1].id if len(rows) > limit else None)


async def client_name(conn: asyncpg.Connection, *, firm_id: int, client_id: int) -> str:
    """The name of a client whose visibility the caller has already proven (by a capability's ids)."""
    name: str | None = await _CLIENT_NAME.fetchval(conn, firm_id=firm_id, client_id=client_id)
    return name or f"Client {client_id}"


async def recommendations_of(
    conn: asyncpg.Connection, client: VisibleClient, *, limit: int = 20
) -> list[ClientRecommendation]:
    rows = await _OF_CLIENT.fetch(conn, **client.ids, limit=limit)
    return [
        ClientRecommendation(
            r["id"],
            r["agent_name"],
            r["verdict"],
            r["status"],
            r["created_at"],
            r["reviewer"],
            r["reviewed_at"],
        )
        for r in rows
    ]


async def notes_of(conn: asyncpg.Connection, client: VisibleClient, *, limit: int = 20) -> list[Note]:
    """The notes agents recorded about the client (`agent.note` audit events), newest first."""
    rows = await _NOTES.fetch(conn, **client.ids, limit=limit)
    return [
        Note(
            r["id"],
            r["occurred_at"],
            r["actor"],
            str(r["details"].get("event_type", "")),
            str(r["details"].get("payload", "")),
        )
        for r in rows
    ]


async def events(
    conn: asyncpg.Connection, principal: Principal, where: EventSearch, *, before: int | None, limit: int
) -> EventPage:
    """The caller's firm's events matching `where`, newest first."""
    rows = await _EVENTS.fetch(
        conn,
        firm_id=principal.firm_id,
        before=before,
        client_id=where.client_id,
        actor=where.actor or None,
        action=where.action or None,
        since=where.since,
        until=where.until,
        chain_keys=await advisor_chains(conn, principal),
        limit=limit + 1,
    )
    items = [event_document(r) for r in rows[:limit]]
    return EventPage(items, items[-1]["id"] if len(rows) > limit else None)


async def event(conn: asyncpg.Connection, principal: Principal, event_id: int) -> dict[str, Any]:
    """One event of the caller's firm (404 for another firm's, like a missing one)."""
    row = await _EVENT.fetchrow(
        conn, firm_id=principal.firm_id, event_id=event_id, chain_keys=await advisor_chains(conn, principal)
    )
    if row is None:
        raise NotFound("Audit event not found")
    return event_document(row)
