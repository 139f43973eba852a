"""The guide's free-form audit note (`POST /audit/recommendation`), scoped and attributed to its caller, and
paid for from the key's daily quota of free text (`throttling/quota.py`): the trail keeps every note."""

from __future__ import annotations

from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.clients.visibility import VisibleClient
from wealthgate.throttling.quota import TextQuota


async def record_note(
    conn: asyncpg.Connection,
    client: VisibleClient,
    *,
    actor: dict[str, Any],
    event_type: str,
    payload: str,
    request_id: str | None,
    quota: TextQuota,
) -> int:
    """Store an agent's note about a client the caller may see (a `VisibleClient`, so the scoped lookup has
    run); returns the audit event id. The caller's own request id is recorded beside the server's. The note's
    text is counted against the calling key's `quota` in this transaction first: over it, `QuotaExceeded`
    is raised and nothing is stored."""
    key_id = actor.get("key_id")
    await quota.charge(
        conn,
        firm_id=client.firm_id,
        key_id=key_id if isinstance(key_id, int) else None,
        texts=(event_type, payload),
    )
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
