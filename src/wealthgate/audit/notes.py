"""The guide's free-form audit note (`POST /audit/recommendation`), scoped and attributed to its caller."""

from __future__ import annotations

import asyncpg

from wealthgate.audit.context import CLIENT_REQUEST_ID
from wealthgate.audit.record import HEAD_RETURNING, append
from wealthgate.auth.principal import Principal
from wealthgate.clients.service import CLIENT_NOT_FOUND
from wealthgate.clients.visibility import scope_args, scoped_text
from wealthgate.errors import NotFound

# One statement: the client's chain advances only if the client is visible to the caller.
_ADVANCE_VISIBLE = scoped_text(
    """
INSERT INTO audit_chain_heads AS h (firm_id, chain_key, seq)
SELECT v.firm_id, v.id, 1 FROM visible v WHERE v.id = $3
ON CONFLICT (firm_id, chain_key) DO UPDATE SET seq = h.seq + 1
"""
    + HEAD_RETURNING
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
    head = await conn.fetchrow(_ADVANCE_VISIBLE, *scope_args(principal, client_id))
    if head is None:
        raise NotFound(CLIENT_NOT_FOUND)
    return await append(
        conn,
        head,
        firm_id=principal.firm_id,
        actor=principal.actor(),
        action="agent.note",
        target_type="client",
        target_id=str(client_id),
        client_id=client_id,
        details={"event_type": event_type, "payload": payload},
        request_id=request_id,
        client_request_id=CLIENT_REQUEST_ID.get(),  # the caller's own id, beside the server's
    )
