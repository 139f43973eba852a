"""Idempotency keys (IETF draft-ietf-httpapi-idempotency-key-header, as Stripe does it), per API key.

1. `claim` inserts (key, request fingerprint) with no response yet, in its own short transaction. If the key
   exists: a different fingerprint is a 422; no response yet means the first request is still running: 409
   (unless it has been running longer than `STALE_SECONDS`, i.e. its process died: then it is taken over);
   a stored response is replayed, and nothing new is written.
2. `complete` stores the response in the use case's own transaction, so the record and its response commit
   together or not at all.
3. `release` removes an unfinished claim when the use case failed, so the client may retry with the same key.
Keys are kept `WEALTHGATE_IDEMPOTENCY_HOURS` (default 48, at least 24) and purged after.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import cast

import asyncpg
import orjson

from wealthgate.auth.principal import Principal
from wealthgate.db.sql import Sql
from wealthgate.errors import Conflict, Invalid

STALE_SECONDS = 60

_CLAIM = Sql(
    """
INSERT INTO idempotency_keys (firm_id, api_key_id, key, method, path, request_hash)
VALUES (:firm_id, :api_key_id, :key, :method, :path, :request_hash) ON CONFLICT DO NOTHING RETURNING 1
"""
)
_EXISTING = Sql(
    """
SELECT request_hash, status_code, response_body, created_at < now() - make_interval(secs => :stale) AS stale
FROM idempotency_keys WHERE firm_id = :firm_id AND api_key_id = :api_key_id AND key = :key
"""
)
_TAKE_OVER = Sql(
    """
UPDATE idempotency_keys SET created_at = now()
WHERE firm_id = :firm_id AND api_key_id = :api_key_id AND key = :key AND status_code IS NULL
  AND created_at < now() - make_interval(secs => :stale)
RETURNING 1
"""
)
_COMPLETE = Sql(
    """
UPDATE idempotency_keys SET status_code = :status, response_body = :body
WHERE firm_id = :firm_id AND api_key_id = :api_key_id AND key = :key
"""
)
_RELEASE = Sql(
    """
DELETE FROM idempotency_keys
WHERE firm_id = :firm_id AND api_key_id = :api_key_id AND key = :key AND status_code IS NULL
"""
)
_PURGE = Sql("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :hours)")


def _ids(principal: Principal, key: str) -> dict[str, object]:
    return {"firm_id": principal.firm_id, "api_key_id": principal.key_id, "key": key}


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> bytes:
    """The request as the key remembers it: method, path and the JSON body in canonical form."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body.strip() else b""
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).digest()


async def claim(
    pool: asyncpg.Pool, principal: Principal, key: str, method: str, path: str, request_hash: bytes
) -> Replay | None:
    """None when this request owns the key now; a Replay of the stored response otherwise.

    Takes the pool, not a connection: the claim must commit on its own, before the use case's transaction
    starts, so a concurrent duplicate sees it (and gets 409) while the first request is still running."""
    ids = _ids(principal, key)
    for _ in range(3):  # a claim released between our insert and our read: try again
        async with pool.acquire() as proxy:
            conn = cast(asyncpg.Connection, proxy)
            if await _CLAIM.fetchval(conn, **ids, method=method, path=path, request_hash=request_hash):
                return None
            row = await _EXISTING.fetchrow(conn, **ids, stale=STALE_SECONDS)
            if row is None:
                continue
            if bytes(row["request_hash"]) != request_hash:
                raise Invalid(
                    "this Idempotency-Key was already used with a different request", field="Idempotency-Key"
                )
            if row["status_code"] is None:
                if row["stale"] and await _TAKE_OVER.fetchval(conn, **ids, stale=STALE_SECONDS):
                    return None
                raise Conflict("a request with this Idempotency-Key is still in progress; retry later")
            return Replay(row["status_code"], bytes(row["response_body"]))
    raise Conflict("a request with this Idempotency-Key is still in progress; retry later")


async def complete(
    conn: asyncpg.Connection, principal: Principal, key: str, status: int, body: bytes
) -> None:
    """Store the response in the use case's own transaction: the two commit together or not at all."""
    await _COMPLETE.execute(conn, **_ids(principal, key), status=status, body=body)


async def release(pool: asyncpg.Pool, principal: Principal, key: str) -> None:
    """Remove an unfinished claim after the use case failed. Takes the pool: the use case's transaction has
    rolled back (or its connection is broken), so the release runs in a short transaction of its own."""
    async with pool.acquire() as conn:
        await _RELEASE.execute(cast(asyncpg.Connection, conn), **_ids(principal, key))


async def purge(conn: asyncpg.Connection, hours: int) -> int:
    """Delete keys older than `hours`; returns how many."""
    status = await _PURGE.execute(conn, hours=hours)
    return int(status.rsplit(maxsplit=1)[-1])
