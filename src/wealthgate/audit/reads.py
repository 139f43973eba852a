"""Recording which key read which client's data, batched off the request path.

A read is noted in memory (no I/O on the request) and written with its chain by a flusher every
`FLUSH_SECONDS`, or sooner when `FLUSH_AT` reads are waiting; shutdown flushes what is left. Worst-case loss
on a crash (the process killed, the machine lost): the reads of the last `FLUSH_SECONDS` plus one flush in
flight, under one second (docs/audit.md). A failed flush keeps its reads and retries on the next tick.

The buffer is bounded (`WEALTHGATE_READ_AUDIT_BUFFER_MAX`). Through a long primary outage, while replicas
keep serving reads (db/replicas.py), it fills; once full, a read is refused (`AuditBufferFull`, 503 with
Retry-After) before its answer is sent, never served unaudited and never by forgetting older reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, cast

import asyncpg

from wealthgate.audit.batch import Pending, append_many
from wealthgate.audit.context import CLIENT_REQUEST_ID
from wealthgate.auth.principal import Principal
from wealthgate.errors import Unavailable

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.1
FLUSH_AT = 2000
MAX_PENDING = 200_000  # the default bound of the buffer (Settings.read_audit_buffer_max)


class AuditBufferFull(Unavailable):
    """The reads waiting to be written to the audit trail fill the buffer (the primary has been away): this
    read is refused rather than served unaudited."""

    slug = "audit-buffer-full"
    title = "Audit trail unavailable"


class ReadRecorder:
    def __init__(self, pool: asyncpg.Pool, max_pending: int = MAX_PENDING) -> None:
        self.pool = pool
        self.max_pending = max_pending
        self.pending: list[Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._caught_up_at = time.monotonic()  # when a flush last took every waiting read and stored it
        self._in_flight = 0  # events taken by the flush under way, not committed yet
        self._flushing = asyncio.Lock()  # one flush at a time: an explicit flush waits for the flusher's

    @property
    def depth(self) -> int:
        """Reads (and tool calls) noted and not yet written (those of a flush under way included)."""
        return len(self.pending) + self._in_flight

    @property
    def flush_lag_seconds(self) -> float:
        """0 when nothing waits; else seconds since a flush last stored everything waiting (a bound on the
        age of the oldest waiting read, which grows through an outage). Read by metrics and readiness."""
        return time.monotonic() - self._caught_up_at if self.depth else 0.0

    def note(self, principal: Principal, client_id: int | None, what: str, request_id: str | None) -> None:
        """Remember that `principal` read `what` (about `client_id`, or firm-wide when None). `request_id` is
        the server's id of the request; the caller's own id is taken from the request being served now, as
        the flusher runs later, outside it. `AuditBufferFull` when the buffer is full: the read must not be
        answered."""
        self._room()
        self.pending.append(
            Pending(
                firm_id=principal.firm_id,
                actor=principal.actor(),
                action="client.read" if client_id else "clients.read",
                target_type="client" if client_id else "firm",
                target_id=str(client_id) if client_id else str(principal.firm_id),
                client_id=client_id,
                details={"read": what},
                request_id=request_id,
                client_request_id=CLIENT_REQUEST_ID.get(),
            )
        )
        if len(self.pending) >= FLUSH_AT:
            self._wake.set()

    def tool_call(
        self,
        principal: Principal,
        client_id: int | None,
        details: dict[str, Any],
        request_id: str | None,
    ) -> None:
        """Remember an agent tool call (tool, face, arguments digest, outcome), batched like reads; refused
        calls too. What the tool changed is audited by its REST twin in the change's own transaction."""
        self._room()
        self.pending.append(
            Pending(
                firm_id=principal.firm_id,
                actor=principal.actor(),
                action="tool.called",
                target_type="tool",
                target_id=str(details.get("tool")),
                client_id=client_id,
                details=details,
                request_id=request_id,
                client_request_id=CLIENT_REQUEST_ID.get(),
            )
        )
        if len(self.pending) >= FLUSH_AT:
            self._wake.set()

    def _room(self) -> None:
        if self.depth >= self.max_pending:
            raise AuditBufferFull(
                f"{self.depth} reads wait to be written to the audit trail (the database is away): this read"
                " cannot be recorded, so it is not served; try again shortly"
            )

    async def flush(self) -> int:
        """Store every event noted so far; how many were stored. A flush under way (the flusher's) is waited
        for first, so when this returns everything noted before the call is written, or the exception says
        why not: what shutdown and tests await instead of sleeping past the next tick."""
        async with self._flushing:
            taken_at = time.monotonic()
            batch, self.pending = self.pending, []
            self._in_flight = len(batch)
            try:
                return await self._store(batch, taken_at)
            finally:
                self._in_flight = 0

    async def _store(self, batch: list[Pending], taken_at: float) -> int:
        if not batch:
            self._caught_up_at = taken_at
            return 0
        try:
            async with self.pool.acquire() as proxy, proxy.transaction():
                await append_many(cast(asyncpg.Connection, proxy), batch)
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError):
            # one event the database can never accept must not hold back every other: store them one by one
            return await self._one_by_one(batch)
        except Exception:
            self.pending[:0] = batch  # keep them, oldest first, for the next tick (never dropped: see note)
            raise
        self._caught_up_at = taken_at
        return len(batch)

    async def _one_by_one(self, batch: list[Pending]) -> int:
        stored = 0
        for event in batch:
            try:
                async with self.pool.acquire() as proxy, proxy.transaction():
                    await append_many(cast(asyncpg.Connection, proxy), [event])
                stored += 1
            except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError):
                log.error("read audit event refused by the database, not stored: %r", event)
        return stored

    async def _run(self) -> None:
        failing = False
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=FLUSH_SECONDS)
            self._wake.clear()
            try:
                await self.flush()
                failing = False
            except Exception:  # the database may be briefly away; the reads wait for the next tick
                if not failing:  # one traceback per outage, not ten a second
                    log.exception("read audit flush failed; retrying every %s s", FLUSH_SECONDS)
                failing = True

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Let the flusher finish the flush it may be in, then store what is left. Cancelling it instead could
        interrupt a flush between taking its batch and committing it, and lose those events."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            await self._task
        await self.flush()
