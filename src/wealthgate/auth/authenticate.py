"""Turn a presented API key into a Principal: a primary-key read, cached briefly per process."""

from __future__ import annotations

import time
from collections import OrderedDict

import asyncpg

from wealthgate.auth import keys
from wealthgate.auth.principal import Principal

_LOOKUP = """
SELECT firm_id, id, advisor_id, scopes, name, owner, key_hash
FROM api_keys
WHERE firm_id = $1 AND id = $2 AND revoked_at IS NULL
"""


class KeyCache:
    """Digest -> Principal for `ttl` seconds: a revoked key stops working within `ttl` in every worker."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    def get(self, digest: bytes) -> Principal | None:
        hit = self._entries.get(digest)
        if hit is None:
            return None
        if hit[0] < time.monotonic():
            del self._entries[digest]
            return None
        return hit[1]

    def put(self, digest: bytes, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        self._entries[digest] = (time.monotonic() + self.ttl, principal)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


async def authenticate(pool: asyncpg.Pool, cache: KeyCache, presented: str) -> Principal | None:
    """The Principal behind a key, or None when the key is malformed, unknown or revoked."""
    parsed = keys.parse(presented)
    if parsed is None:
        return None
    cached = cache.get(parsed.digest)
    if cached is not None:
        return cached
    row = await pool.fetchrow(_LOOKUP, parsed.firm_id, parsed.key_id)
    if row is None or not keys.matches(row["key_hash"], parsed.digest):
        return None
    principal = Principal(
        key_id=row["id"],
        firm_id=row["firm_id"],
        advisor_id=row["advisor_id"],
        scopes=frozenset(row["scopes"]),
        name=row["name"],
        owner=row["owner"],
    )
    cache.put(parsed.digest, principal)
    return principal
