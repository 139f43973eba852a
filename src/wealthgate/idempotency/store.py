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

import asyncpg
import orjson

from wealthgate.auth.principal import Principal
from wealthgate.errors import Conflict, Invalid

STALE_SECONDS = 60

_CLAIM = """
INSERT INTO idempotency_keys (firm_id, api_key_id, key, method, path, request_hash)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1
"""
_EXISTING = """
SELECT request_hash, status_code, response_body, created_at < now() - make_interval(secs => $4) AS stale
FROM idempotency_keys WHERE firm_id = $1 AND api_key_id = $2 AND key = $3
"""
_TAKE_OVER = """
UPDATE idempotency_keys SET created_at = now()
WHERE firm_id = $1 AND api_key_id = $2 AND key = $3 AND status_code IS NULL
  AND created_at < now() - make_interval(secs => $4)
RETURNING 1
"""
_COMPLETE = """
UPDATE idempotency_keys SET status_code = $4, response_body = $5
WHERE firm_id = $1 AND api_key_id = $2 AND key = $3
"""
_RELEASE = """
DELETE FROM idempotency_keys WHERE firm_id = $1 AND api_key_id = $2 AND key = $3 AND status_code IS NULL
"""
PURGE = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)"


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
    """None when this request owns the key now; a Replay of the stored response otherwise."""
    ids = (principal.firm_id, principal.key_id, key)
    for _ in range(3):  # a claim released between our insert and our read: try again
        if await pool.fetchval(_CLAIM, *ids, method, path, request_hash):
            return None
        row = await pool.fetchrow(_EXISTING, *ids, STALE_SECONDS)
        if row is None:
            continue
        if bytes(row["request_hash"]) != request_hash:
            raise Invalid(
                "this Idempotency-Key was already used with a different request", field="Idempotency-Key"
            )
        if row["status_code"] is None:
            if row["stale"] and await pool.fetchval(_TAKE_OVER, *ids, STALE_SECONDS):
                return None
            raise Conflict("a request with this Idempotency-Key is still in progress; retry later")
        return Replay(row["status_code"], bytes(row["response_body"]))
    raise Conflict("a request with this Idempotency-Key is still in progress; retry later")


async def complete(
    conn: asyncpg.Connection, principal: Principal, key: str, status: int, body: bytes
) -> None:
    await conn.execute(_COMPLETE, principal.firm_id, principal.key_id, key, status, body)


async def release(pool: asyncpg.Pool, principal: Principal, key: str) -> None:
    await pool.execute(_RELEASE, principal.firm_id, principal.key_id, key)


async def purge(pool: asyncpg.Pool, hours: int) -> int:
    status: str = await pool.execute(PURGE, hours)
    return int(status.rsplit(maxsplit=1)[-1])
