"""Recompute every audit chain from the database and report the first break."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from wealthgate.audit import checkpoints
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
    checkpoints: int = 0
    signatures_checked: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "chains": self.chains,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "signatures_checked": self.signatures_checked,
            "first_break": self.first_break.as_dict() if self.first_break else None,
        }


Anchors = dict[tuple[int, int], dict[int, bytes]]


def anchors_from(
    found: list[checkpoints.Checkpoint], key: Ed25519PublicKey | None
) -> tuple[Anchors, Break | None]:
    """Positions and hashes that signed checkpoints vouch for; a checkpoint whose signature fails breaks."""
    anchors: Anchors = {}
    for cp in found:
        if key is not None and not cp.verifies_with(key):
            detail = f"checkpoint {cp.id} does not verify with the configured public key"
            return anchors, Break(cp.firm_id, 0, None, 0, "checkpoint mismatch", detail)
        for chain_key, head in cp.heads.items():
            anchors.setdefault((cp.firm_id, int(chain_key)), {})[int(head["seq"])] = bytes.fromhex(
                head["hash"]
            )
    return anchors, None


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
    conn: asyncpg.Connection,
    *,
    firm_id: int | None = None,
    since: datetime | None = None,
    public_key: Ed25519PublicKey | None = None,
) -> Verification:
    """Check every chain (of one firm, or all) against its own links and the signed checkpoints, in one
    consistent snapshot; stops at the first break."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        found = await checkpoints.load(conn, firm_id)
        anchors, bad_checkpoint = anchors_from(found, public_key)
        signed = public_key is not None
        if bad_checkpoint is not None:
            return Verification(False, 0, 0, bad_checkpoint, len(found), signed)
        heads = {
            (h["firm_id"], h["chain_key"]): Head(h["firm_id"], h["chain_key"], h["seq"], h["head_hash"])
            for h in await conn.fetch(_HEADS, firm_id)
        }
        seen: set[tuple[int, int]] = set()
        total = 0
        async for key, events in _chains(conn, firm_id, since):
            seen.add(key)
            checked, broken = verify_chain(
                events, heads.get(key), partial=since is not None, anchors=anchors.get(key)
            )
            total += checked
            if broken is not None:
                return Verification(False, len(seen), total, broken, len(found), signed)
        for key in sorted(heads.keys() - seen):
            if since is not None:
                continue  # nothing in the window for this chain
            _checked, broken = verify_chain([], heads[key], anchors=anchors.get(key))
            if broken is not None:
                return Verification(False, len(seen) + 1, total, broken, len(found), signed)
        return Verification(True, len(heads.keys() | seen), total, None, len(found), signed)
