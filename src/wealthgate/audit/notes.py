"""The guide's free-form audit note (`POST /audit/recommendation`), scoped and attributed to its caller."""

from __future__ import annotations

from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.clients.visibility import VisibleClient


async def record_note(
    conn: asyncpg.Connection,
    client: VisibleClient,
    *,
    actor: dict[str, Any],
    event_type: str,
    payload: str,
    request_id: str | None,
) -> int:
    """Store an agent's note about a client the caller may see (a `VisibleClient`, so the scoped lookup has
    run); returns the audit event id. The caller's own request id is recorded beside the server's."""
    return await record(
        conn,
        firm_id=client.firm_id,
        actor=actor,
        action="agent.note",
        target_type="client",
        target_id=client.client_id,
        client_id=client.client_id,
        details={"event_type": event_type, "payload": payload},
        request_id=request_id,
    )
