"""Signed checkpoints on a timer, inside the service. One worker at a time makes them (advisory lock)."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import asyncpg

from wealthgate.audit import checkpoints
from wealthgate.audit.signing import load_or_create
from wealthgate.settings import Settings

log = logging.getLogger(__name__)
LOCK = 0x5747_4150  # "WGAP": the checkpoint-maker's advisory lock


async def make_checkpoints_once(pool: asyncpg.Pool, settings: Settings) -> int:
    """Checkpoint every firm unless another worker is doing it right now; returns how many were made."""
    key = load_or_create(settings)
    async with pool.acquire() as proxy, proxy.transaction():
        conn = cast(asyncpg.Connection, proxy)  # the pool's proxy forwards every Connection method
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", LOCK):
            return 0
        return len(await checkpoints.create_for_all_firms(conn, key))


async def checkpoint_timer(pool: asyncpg.Pool, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.audit_checkpoint_seconds)
        try:
            made = await make_checkpoints_once(pool, settings)
            log.info("audit checkpoints made: %d", made)
        except Exception:  # the timer must outlive one failure; the next tick retries
            log.exception("audit checkpoint failed")
