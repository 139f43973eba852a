"""Appending audit events to their hash chain, inside the use case's own transaction.

Two statements: `_ADVANCE` bumps the chain head (taking its row lock until commit, so appends to one chain are
serialised while other chains proceed in parallel) and returns the previous hash, the time and a new id;
`_APPEND` inserts the hashed event and moves the head's hash.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from wealthgate.audit import chain, keyring
from wealthgate.audit.context import CLIENT_REQUEST_ID
from wealthgate.db.sql import Sql

# What an advance statement returns (shared with audit/notes.py, whose advance is scoped to the caller).
HEAD_RETURNING = """
RETURNING h.seq, h.head_hash, now() AS occurred_at,
          nextval(pg_get_serial_sequence('audit_events', 'id')) AS event_id
"""

_ADVANCE = Sql(
    """
INSERT INTO audit_chain_heads AS h (firm_id, chain_key, seq) VALUES (:firm_id, :chain_key, 1)
ON CONFLICT (firm_id, chain_key) DO UPDATE SET seq = h.seq + 1
"""
    + HEAD_RETURNING
)

_APPEND = Sql(
    """
WITH event AS (
    INSERT INTO audit_events (firm_id, id, occurred_at, actor_key_id, actor, action, target_type, target_id,
                              client_id, details, request_id, chain_key, chain_seq, prev_hash, event_hash,
                              hash_version, client_request_id, mac_key_id, mac)
    VALUES (:firm_id, :id, :occurred_at, :actor_key_id, :actor, :action, :target_type, :target_id,
            :client_id, :details, :request_id, :chain_key, :chain_seq, :prev_hash, :event_hash,
            :hash_version, :client_request_id, :mac_key_id, :mac)
)
UPDATE audit_chain_heads SET head_hash = :event_hash WHERE firm_id = :firm_id AND chain_key = :chain_key
"""
)


async def append(
    conn: asyncpg.Connection,
    head: asyncpg.Record,
    *,
    firm_id: int,
    actor: dict[str, Any],
    action: str,
    target_type: str | None,
    target_id: str | None,
    client_id: int | None,
    details: dict[str, Any],
    request_id: str | None,
    client_request_id: str | None,
) -> int:
    """Insert the event at the position `head` (a row returned by an advance statement) reserved, hashed in
    the current format and authenticated with the process's audit keyring (its MAC key)."""
    chain.check_hashable(details)
    chain.check_hashable(actor, "actor")
    key = chain.chain_key(client_id)
    prev = head["head_hash"] if head["seq"] > 1 else chain.GENESIS
    hashed = {  # what the hash covers, and the stored row's columns of the same names
        "id": head["event_id"],
        "firm_id": firm_id,
        "chain_key": key,
        "chain_seq": head["seq"],
        "occurred_at": head["occurred_at"],
        "actor_key_id": actor.get("key_id"),
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "client_id": client_id,
        "details": details,
        "request_id": request_id,
        "client_request_id": client_request_id,
        "prev_hash": prev,
    }
    event_hash = chain.digest(chain.content(**hashed))
    mac_key_id, mac = keyring.installed().authenticate(event_hash)
    await _APPEND.execute(
        conn, **hashed, event_hash=event_hash, hash_version=chain.HASH_VERSION, mac_key_id=mac_key_id, mac=mac
    )
    event_id: int = head["event_id"]
    return event_id


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
    client_request_id: str | None = None,
) -> int:
    """Append one event; returns its id. `action` is a dotted name such as `api_key.created`. The caller's own
    request id defaults to the one of the request being served (audit/context.py)."""
    head = await _ADVANCE.fetchrow(conn, firm_id=firm_id, chain_key=chain.chain_key(client_id))
    if head is None:  # an upsert with RETURNING always returns its row
        raise RuntimeError("the audit chain head could not be advanced")
    return await append(
        conn,
        head,
        firm_id=firm_id,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        client_id=client_id,
        details=details or {},
        request_id=request_id,
        client_request_id=client_request_id or CLIENT_REQUEST_ID.get(),
    )
