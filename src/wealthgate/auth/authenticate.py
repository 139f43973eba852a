"""Turn a presented API key into a Principal: a primary-key read, cached briefly per process.

A key bound to a person (`api_keys.user_id`) carries their id and email into the Principal, and is refused
while that person is disabled."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

import asyncpg

from wealthgate.auth import keys
from wealthgate.auth.principal import Principal
from wealthgate.db.sql import Sql

_LOOKUP = Sql(
    """
SELECT k.firm_id, k.id, k.advisor_id, k.scopes, k.name, k.owner, k.key_hash,
       k.user_id, u.email AS user_email, u.disabled_at AS user_disabled_at
FROM api_keys k
LEFT JOIN users u ON u.firm_id = k.firm_id AND u.id = k.user_id
WHERE k.firm_id = :firm_id AND k.id = :key_id AND k.revoked_at IS NULL
"""
)


class KeySource(Protocol):
    """Where keys are read: the pool; with replicas, `db.replicas.KeyLookups` (a replica while the primary
    is away)."""

    async def fetchrow(self, query: str, *args: object) -> asyncpg.Record | None: ...


REVOCATIONS = "wealthgate_keys"  # NOTIFY channel: payload "<firm_id>:<key_id>" of a revoked key


class KeyCache:
    """Digest -> Principal for `ttl` seconds. A revocation is announced on `REVOCATIONS` and forgotten at
    once by every worker that listens (auth/revocations.py); while a worker's listener is down the cache is
    not used (`listening` False), so a revocation it cannot hear is still refused at once.

    A lookup that began before a revocation was heard must not cache what it read: `generation` changes with
    every forgetting, and `put` stores only for the generation its lookup began in."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.listening = True
        self.generation = 0
        self._entries: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    def get(self, digest: bytes) -> Principal | None:
        if not self.listening:
            return None
        hit = self._entries.get(digest)
        if hit is None:
            return None
        if hit[0] < time.monotonic():
            del self._entries[digest]
            return None
        return hit[1]

    def put(self, digest: bytes, principal: Principal, generation: int) -> None:
        """Keep `principal`, read by a lookup that began when `generation` was current."""
        if self.ttl <= 0 or not self.listening or generation != self.generation:
            return
        self._entries[digest] = (time.monotonic() + self.ttl, principal)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def forget(self, firm_id: int, key_id: int) -> None:
        self.generation += 1
        for digest, (_expiry, principal) in list(self._entries.items()):
            if principal.firm_id == firm_id and principal.key_id == key_id:
                del self._entries[digest]

    def on_revocation(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        """An asyncpg listener: forget the revoked key (or everything, when the payload is unreadable)."""
        firm, _, key = str(payload).partition(":")
        if firm.isdigit() and key.isdigit():
            self.forget(int(firm), int(key))
        else:
            self.clear()


async def authenticate(pool: KeySource, cache: KeyCache, presented: str) -> Principal | None:
    """The Principal behind a key, or None when the key is malformed, unknown or revoked, or the person it
    acts for is disabled. (A served request goes through `backoff.authenticate_guarded`, which counts
    failures.)"""
    parsed = keys.parse(presented)
    if parsed is None:
        return None
    return await authenticate_parsed(pool, cache, parsed)


async def authenticate_parsed(pool: KeySource, cache: KeyCache, parsed: keys.ParsedKey) -> Principal | None:
    """`authenticate` for a key already parsed."""
    cached = cache.get(parsed.digest)
    if cached is not None:
        return cached
    generation = cache.generation  # a revocation heard during the lookup keeps its answer out of the cache
    row = await pool.fetchrow(_LOOKUP.text, *_LOOKUP.args(firm_id=parsed.firm_id, key_id=parsed.key_id))
    if row is None or not keys.matches(row["key_hash"], parsed.digest):
        return None
    if row["user_id"] is not None and row["user_disabled_at"] is not None:
        return None
    principal = Principal(
        key_id=row["id"],
        firm_id=row["firm_id"],
        advisor_id=row["advisor_id"],
        scopes=frozenset(row["scopes"]),
        name=row["name"],
        owner=row["owner"],
        user_id=row["user_id"],
        user_email=row["user_email"],
    )
    cache.put(parsed.digest, principal, generation)
    return principal
