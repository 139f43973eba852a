"""Appending many audit events in one transaction: a few statements whatever the batch size.

Chains are advanced in (firm, chain) order, so two batches never wait on each other in a cycle; single
appends lock one chain head only, so they cannot complete a cycle either.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg

from wealthgate.audit import chain, keyring
from wealthgate.db.sql import Sql

_ADVANCE_MANY = Sql("""
INSERT INTO audit_chain_heads AS h (firm_id, chain_key, seq)
SELECT f, k, n FROM unnest(:firm_ids::bigint[], :chain_keys::bigint[], :counts::bigint[]) AS u(f, k, n)
ORDER BY f, k
ON CONFLICT (firm_id, chain_key) DO UPDATE SET seq = h.seq + excluded.seq
RETURNING h.firm_id, h.chain_key, h.seq, h.head_hash, now() AS occurred_at
""")
_IDS = Sql("SELECT nextval(pg_get_serial_sequence('audit_events', 'id')) FROM generate_series(1, :count)")


class _Row(NamedTuple):
    """One event as `_INSERT` binds it: the fields are the statement's parameter names, column by column."""

    firm_id: int
    id: int
    occurred_at: datetime
    actor_key_id: int | None
    actor: dict[str, Any]
    action: str
    target_type: str | None
    target_id: str | None
    client_id: int | None
    details: dict[str, Any]
    request_id: str | None
    chain_key: int
    chain_seq: int
    prev_hash: bytes
    event_hash: bytes
    hash_version: int
    client_request_id: str | None
    mac_key_id: str
    mac: bytes


# One statement for the whole batch: PostgreSQL plans and executes once, not once per event.
_INSERT = Sql("""
INSERT INTO audit_events (firm_id, id, occurred_at, actor_key_id, actor, action, target_type, target_id,
                          client_id, details, request_id, chain_key, chain_seq, prev_hash, event_hash,
                          hash_version, client_request_id, mac_key_id, mac)
SELECT * FROM unnest(
  :firm_id::bigint[], :id::bigint[], :occurred_at::timestamptz[], :actor_key_id::bigint[], :actor::jsonb[],
  :action::text[], :target_type::text[], :target_id::text[], :client_id::bigint[], :details::jsonb[],
  :request_id::text[], :chain_key::bigint[], :chain_seq::bigint[], :prev_hash::bytea[], :event_hash::bytea[],
  :hash_version::smallint[], :client_request_id::text[], :mac_key_id::text[], :mac::bytea[]
)
""")
_MOVE_HEADS = Sql("""
UPDATE audit_chain_heads h SET head_hash = u.hash
FROM unnest(:firm_ids::bigint[], :chain_keys::bigint[], :hashes::bytea[]) AS u(f, k, hash)
WHERE h.firm_id = u.f AND h.chain_key = u.k
""")


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
    noted_at: float | None = None  # when a batched event happened (epoch seconds), for one stored late


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
    heads = await _ADVANCE_MANY.fetch(
        conn,
        firm_ids=[k[0] for k in keys],
        chain_keys=[k[1] for k in keys],
        counts=[len(by_chain[k]) for k in keys],
    )
    ids = [r[0] for r in await _IDS.fetch(conn, count=len(events))]
    rows: list[_Row] = []
    new_heads: list[tuple[int, int, bytes]] = []
    for head in heads:
        key = (head["firm_id"], head["chain_key"])
        members = by_chain[key]
        first_seq = head["seq"] - len(members) + 1
        prev = head["head_hash"] if first_seq > 1 else chain.GENESIS
        for offset, i in enumerate(members):
            e, seq = events[i], first_seq + offset
            hashed: dict[str, Any] = {  # what the hash covers, and the stored row's columns of the same names
                "id": ids[i],
                "firm_id": e.firm_id,
                "chain_key": key[1],
                "chain_seq": seq,
                "occurred_at": head["occurred_at"],
                "actor_key_id": e.actor.get("key_id"),
                "actor": e.actor,
                "action": e.action,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "client_id": e.client_id,
                "details": e.details,
                "request_id": e.request_id,
                "client_request_id": e.client_request_id,
                "prev_hash": prev,
            }
            digest = chain.digest(chain.content(**hashed))
            mac_key_id, mac = authenticator.authenticate(digest)
            rows.append(
                _Row(
                    **hashed,
                    event_hash=digest,
                    hash_version=chain.HASH_VERSION,
                    mac_key_id=mac_key_id,
                    mac=mac,
                )
            )
            prev = digest
        new_heads.append((key[0], key[1], prev))
    columns = zip(_Row._fields, zip(*rows, strict=True), strict=True)
    await _INSERT.execute(conn, **{name: list(column) for name, column in columns})
    await _MOVE_HEADS.execute(
        conn,
        firm_ids=[h[0] for h in new_heads],
        chain_keys=[h[1] for h in new_heads],
        hashes=[h[2] for h in new_heads],
    )
    return ids
