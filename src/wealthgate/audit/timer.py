"""Signed checkpoints on a timer, inside the service, in every serving mode.

One process at a time makes them: a session-level advisory lock taken on a connection of its own (not a
transaction-level one: each firm's checkpoint is its own repeatable-read transaction, which cannot nest in a
read-committed one). Each checkpoint is appended to the witness once its transaction has committed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import asyncpg

from wealthgate.audit import checkpoints, keyring, witness
from wealthgate.settings import Settings

log = logging.getLogger(__name__)
LOCK = 0x5747_4150  # "WGAP": the checkpoint-maker's advisory lock


async def checkpoint_all(
    conn: asyncpg.Connection,
    ring: keyring.Keyring,
    settings: Settings,
    firm_id: int | None = None,
    *,
    wait: bool,
) -> list[checkpoints.Checkpoint] | None:
    """Checkpoint every firm (or one) under the lock and witness each; None when another process holds the
    lock and `wait` is false."""
    if wait:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK)
    elif not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK):
        return None
    made: list[checkpoints.Checkpoint] = []
    try:
        for firm in [firm_id] if firm_id is not None else await checkpoints.firms(conn):
            made.append(await checkpoints.create(conn, ring, firm))
            witness.append(settings.witness_path, [made[-1].as_dict()])
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK)
    return made


async def make_checkpoints_once(pool: asyncpg.Pool, settings: Settings) -> int:
    """Checkpoint every firm unless another worker is doing it right now; returns how many were made."""
    ring = keyring.load(settings)  # re-read each tick: a rotation takes effect without a restart
    keyring.install(ring)
    async with pool.acquire() as proxy:
        made = await checkpoint_all(cast(asyncpg.Connection, proxy), ring, settings, wait=False)
    return len(made or [])


async def checkpoint_timer(pool: asyncpg.Pool, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.audit_checkpoint_seconds)
        try:
            made = await make_checkpoints_once(pool, settings)
            log.info("audit checkpoints made: %d", made)
        except Exception:  # the timer must outlive one failure; the next tick retries
            log.exception("audit checkpoint failed")
