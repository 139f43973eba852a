"""Appending many audit events in one transaction: a few statements whatever the batch size.

Chains are advanced in (firm, chain) order, so two batches never wait on each other in a cycle; single
appends lock one chain head only, so they cannot complete a cycle either.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import asyncpg

from wealthgate.audit import chain, keyring

_ADVANCE_MANY = """
INSERT INTO audit_chain_heads AS h (firm_id, chain_key, seq)
SELECT f, k, n FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(f, k, n) ORDER BY f, k
ON CONFLICT (firm_id, chain_key) DO UPDATE SET seq = h.seq + excluded.seq
RETURNING h.firm_id, h.chain_key, h.seq, h.head_hash, now() AS occurred_at
"""
_IDS = "SELECT nextval(pg_get_serial_sequence('audit_events', 'id')) FROM generate_series(1, $1)"
# One statement for the whole batch: PostgreSQL plans and executes once, not once per event.
_INSERT = """
INSERT INTO audit_events (firm_id, id, occurred_at, actor_key_id, actor, action, target_type, target_id,
                          client_id, details, request_id, chain_key, chain_seq, prev_hash, event_hash,
                          hash_version, client_request_id, mac_key_id, mac)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[], $5::jsonb[], $6::text[],
                     $7::text[], $8::text[], $9::bigint[], $10::jsonb[], $11::text[], $12::bigint[],
                     $13::bigint[], $14::bytea[], $15::bytea[], $16::smallint[], $17::text[], $18::text[],
                     $19::bytea[])
"""
_MOVE_HEADS = """
UPDATE audit_chain_heads h SET head_hash = u.hash
FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS u(f, k, hash)
WHERE h.firm_id = u.f AND h.chain_key = u.k
"""


@dataclass(frozen=True, slots=True)
class Pending:
    firm_id: int
    actor: dict[str, Any]
    action: str
    target_type: str | None
    target_id: str | None
    client_id: int | None
    details: dict[str, Any]
    request_id: str | None
    client_request_id: str | None = None  # the caller's own request id, beside the server's


async def append_many(conn: asyncpg.Connection, events: list[Pending]) -> list[int]:
    """Append `events` (in order within each chain) inside the caller's transaction; returns their ids."""
    if not events:
        return []
    by_chain: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, e in enumerate(events):
        chain.check_hashable(e.details)
        by_chain[(e.firm_id, chain.chain_key(e.client_id))].append(i)
    authenticator = keyring.installed()  # before any statement: no keyring, nothing written
    keys = sorted(by_chain)
    heads = await conn.fetch(
        _ADVANCE_MANY, [k[0] for k in keys], [k[1] for k in keys], [len(by_chain[k]) for k in keys]
    )
    ids = [r[0] for r in await conn.fetch(_IDS, len(events))]
    rows: list[tuple[Any, ...]] = []
    new_heads: list[tuple[int, int, bytes]] = []
    for head in heads:
        key = (head["firm_id"], head["chain_key"])
        members = by_chain[key]
        first_seq = head["seq"] - len(members) + 1
        prev = head["head_hash"] if first_seq > 1 else chain.GENESIS
        for offset, i in enumerate(members):
            e, seq = events[i], first_seq + offset
            body = chain.content(
                id=ids[i],
                firm_id=e.firm_id,
                chain_key=key[1],
                chain_seq=seq,
                occurred_at=head["occurred_at"],
                actor_key_id=e.actor.get("key_id"),
                actor=e.actor,
                action=e.action,
                target_type=e.target_type,
                target_id=e.target_id,
                client_id=e.client_id,
                details=e.details,
                request_id=e.request_id,
                client_request_id=e.client_request_id,
                prev_hash=prev,
            )
            digest = chain.digest(body)
            mac_key_id, mac = authenticator.authenticate(digest)
            rows.append(
                (
                    e.firm_id,
                    ids[i],
                    head["occurred_at"],
                    e.actor.get("key_id"),
                    e.actor,
                    e.action,
                    e.target_type,
                    e.target_id,
                    e.client_id,
                    e.details,
                    e.request_id,
                    key[1],
                    seq,
                    prev,
                    digest,
                    chain.HASH_VERSION,
                    e.client_request_id,
                    mac_key_id,
                    mac,
                )
            )
            prev = digest
        new_heads.append((key[0], key[1], prev))
    await conn.execute(_INSERT, *(list(column) for column in zip(*rows, strict=True)))
    await conn.execute(
        _MOVE_HEADS, [h[0] for h in new_heads], [h[1] for h in new_heads], [h[2] for h in new_heads]
    )
    return ids
