"""The floor under the context read: the same framework answering the same bytes with nothing of wealthgate's.

    cd bench && ../.venv/bin/python -m uvicorn floor_app:app --port 8777 --workers 2 --no-access-log

and the same with `FLOOR_DATABASE_URL=postgresql://postgres@/wealthgate?host=<socket dir>` in the environment.

GET /clients/{id}/context answers an 8.6 kB JSON body (the size of a synthetic client's context). With
`FLOOR_DATABASE_URL` set, each request first makes one asyncpg round trip (`SELECT $1::bigint` on a pooled
connection, as a cached context read makes one for its stamp). Load it as bench/context.py loads wealthgate
(wrk, 32 connections, a Lua script of random ids) and read the CPU per request with bench/cpu_share.py: what
the framework costs, and what one database round trip adds, on the same machine (docs/performance.md).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request, Response

BODY = b'{"x":"' + b"a" * 8600 + b'"}'
DATABASE_URL = os.environ.get("FLOOR_DATABASE_URL")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = None
    if DATABASE_URL:
        app.state.pool = await asyncpg.create_pool(DATABASE_URL, min_size=4, max_size=4, reset=None)
    yield
    if app.state.pool is not None:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/clients/{client_id}/context")
async def context(client_id: int, request: Request) -> Response:
    pool = request.app.state.pool
    if pool is not None:
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT $1::bigint", client_id)
    return Response(BODY, media_type="application/json")
