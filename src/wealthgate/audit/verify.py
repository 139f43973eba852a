"""Recompute every audit chain from the database and report the first break."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from wealthgate.audit.chain import Break, Event, Head, verify_chain

_HEADS = """
SELECT firm_id, chain_key, seq, head_hash FROM audit_chain_heads
WHERE $1::bigint IS NULL OR firm_id = $1
"""
_EVENTS = """
SELECT id, firm_id, chain_key, chain_seq, occurred_at, actor_key_id, actor, action, target_type, target_id,
       client_id, details, request_id, prev_hash, event_hash
FROM audit_events
WHERE ($1::bigint IS NULL OR firm_id = $1) AND ($2::timestamptz IS NULL OR occurred_at >= $2)
ORDER BY firm_id, chain_key, chain_seq, id
"""


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    chains: int
    events: int
    first_break: Break | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "chains": self.chains,
            "events": self.events,
            "first_break": self.first_break.as_dict() if self.first_break else None,
        }


async def _chains(
    conn: asyncpg.Connection, firm_id: int | None, since: datetime | None
) -> AsyncIterator[tuple[tuple[int, int], list[Event]]]:
    current: tuple[int, int] | None = None
    batch: list[Event] = []
    async for r in conn.cursor(_EVENTS, firm_id, since, prefetch=2000):
        key = (r["firm_id"], r["chain_key"])
        if key != current and current is not None:
            yield current, batch
            batch = []
        current = key
        batch.append(Event(**dict(r)))
    if current is not None:
        yield current, batch


async def verify(
    conn: asyncpg.Connection, *, firm_id: int | None = None, since: datetime | None = None
) -> Verification:
    """Check every chain (of one firm, or all) in one consistent snapshot; stops at the first break."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        heads = {
            (h["firm_id"], h["chain_key"]): Head(h["firm_id"], h["chain_key"], h["seq"], h["head_hash"])
            for h in await conn.fetch(_HEADS, firm_id)
        }
        seen: set[tuple[int, int]] = set()
        total = 0
        async for key, events in _chains(conn, firm_id, since):
            seen.add(key)
            checked, broken = verify_chain(events, heads.get(key), partial=since is not None)
            total += checked
            if broken is not None:
                return Verification(False, len(seen), total, broken)
        for key in sorted(heads.keys() - seen):
            if since is not None:
                continue  # nothing in the window for this chain
            _checked, broken = verify_chain([], heads[key])
            if broken is not None:
                return Verification(False, len(seen) + 1, total, broken)
        return Verification(True, len(heads.keys() | seen), total, None)
