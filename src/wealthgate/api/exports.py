"""The audit export as an HTTP download, for the API (`GET /audit/export`) and the console alike.

The body streams after the route returns, when a request's connection would be back in the pool, so the
export takes a connection of its own from the pool for as long as it streams (its own snapshot)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Literal, cast

import asyncpg
from fastapi.responses import StreamingResponse

from wealthgate.audit import keyring, queries
from wealthgate.audit.export import export
from wealthgate.auth.principal import Principal

Format = Literal["jsonl", "csv"]


def audit_export(
    pool: asyncpg.Pool, principal: Principal, since: datetime | None, until: datetime | None, fmt: Format
) -> StreamingResponse:
    """Every event the caller may see with its hash, chain position and MAC, then the signed checkpoints and
    a signed seal; a key or person bound to an advisor gets that advisor's clients' chains only."""
    ring = keyring.installed()

    async def lines() -> AsyncIterator[str]:
        async with pool.acquire() as proxy:
            conn = cast(asyncpg.Connection, proxy)
            chains = await queries.advisor_chains(conn, principal)
            scope = "firm" if chains is None else f"advisor:{principal.advisor_id}"
            async for line in export(
                conn,
                firm_id=principal.firm_id,
                since=since,
                until=until,
                fmt=fmt,
                ring=ring,
                chain_keys=chains,
                scope=scope,
            ):
                yield line

    media = "text/csv" if fmt == "csv" else "application/x-ndjson"
    filename = f"audit-firm-{principal.firm_id}.{fmt}"
    return StreamingResponse(
        lines(), media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
