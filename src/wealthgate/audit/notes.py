"""The guide's free-form audit note (`POST /audit/recommendation`), scoped and attributed to its caller."""

from __future__ import annotations

import asyncpg

from wealthgate.auth.principal import Principal
from wealthgate.clients.service import CLIENT_NOT_FOUND
from wealthgate.clients.visibility import scoped
from wealthgate.errors import NotFound

# One statement: the note is written only if the client is visible to the caller.
_INSERT_NOTE = scoped(
    """
INSERT INTO audit_events
    (firm_id, actor_key_id, actor, action, target_type, target_id, client_id, details, request_id)
SELECT v.firm_id, $4, $5, 'agent.note', 'client', v.id::text, v.id, $6, $7
FROM visible v WHERE v.id = $3
RETURNING id
"""
)


async def record_note(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    client_id: int,
    event_type: str,
    payload: str,
    request_id: str | None,
) -> int:
    """Store an agent's note about a client; returns the audit event id."""
    event_id: int | None = await conn.fetchval(
        _INSERT_NOTE,
        principal.firm_id,
        principal.advisor_id,
        client_id,
        principal.key_id,
        principal.actor(),
        {"event_type": event_type, "payload": payload},
        request_id,
    )
    if event_id is None:
        raise NotFound(CLIENT_NOT_FOUND)
    return event_id
