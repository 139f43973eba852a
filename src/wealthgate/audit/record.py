"""Writing audit events. Called with the use case's own connection, inside its transaction."""

from __future__ import annotations

from typing import Any

import asyncpg

_INSERT = """
INSERT INTO audit_events
    (firm_id, actor_key_id, actor, action, target_type, target_id, client_id, details, request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id
"""


async def record(
    conn: asyncpg.Connection,
    *,
    firm_id: int,
    actor: dict[str, Any],
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    client_id: int | None = None,
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> int:
    """Append one event; returns its id. `action` is a dotted name such as `api_key.created`."""
    event_id: int = await conn.fetchval(
        _INSERT,
        firm_id,
        actor.get("key_id"),
        actor,
        action,
        target_type,
        None if target_id is None else str(target_id),
        client_id,
        details or {},
        request_id,
    )
    return event_id
