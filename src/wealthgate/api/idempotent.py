"""Running a creating POST under its `Idempotency-Key` (see idempotency/store.py for the semantics).

`run` executes the use case in one unit of work; with a key, the response is stored in that same transaction
and replayed (with `Idempotent-Replayed: true`) for a retry of the same request.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from wealthgate.auth.principal import Principal
from wealthgate.db.pool import unit_of_work
from wealthgate.errors import DomainError
from wealthgate.idempotency import store

HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class MissingKey(DomainError):
    status = 400
    slug = "idempotency-key-required"
    title = "Idempotency-Key required"


Body = dict[str, Any] | BaseModel
Work = Callable[[asyncpg.Connection], Awaitable[tuple[int, Body]]]


def _json(status: int, body: bytes, replayed: bool = False) -> Response:
    headers = {"Cache-Control": "no-store"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _encoded(body: Body) -> bytes:
    return orjson.dumps(body.model_dump(mode="json") if isinstance(body, BaseModel) else body)


async def run(
    request: Request, principal: Principal, pool: asyncpg.Pool, work: Work, /, *, required: bool = False
) -> Response:
    """`work` in one unit of work on `pool` (routes take the pool from `DbPool`); the key's claim and release
    are short transactions of their own on the same pool."""
    key = request.headers.get(HEADER.lower())
    if key is None:
        if required:
            raise MissingKey(f"send an {HEADER} header (a unique string per intended write)", field=HEADER)
        async with unit_of_work(pool) as conn:
            status, body = await work(conn)
        return _json(status, _encoded(body))
    if not _KEY.fullmatch(key):
        raise MissingKey(f"{HEADER} must be 1 to 255 printable ASCII characters", field=HEADER)
    request_hash = store.fingerprint(request.method, request.url.path, await request.body())
    replay = await store.claim(pool, principal, key, request.method, request.url.path, request_hash)
    if replay is not None:
        return _json(replay.status, replay.body, replayed=True)
    try:
        async with unit_of_work(pool) as conn:
            status, body = await work(conn)
            encoded = _encoded(body)
            await store.complete(conn, principal, key, status, encoded)
    except BaseException:
        await store.release(pool, principal, key)
        raise
    return _json(status, encoded)
