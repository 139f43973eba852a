"""Recording which key read which client's data, batched off the request path.

A read is noted in memory (no I/O on the request) and written with its chain by a flusher every
`FLUSH_SECONDS`, or sooner when `FLUSH_AT` reads are waiting; shutdown flushes what is left. Worst-case loss
on a crash (the process killed, the machine lost): the reads of the last `FLUSH_SECONDS` plus one flush in
flight, under one second (docs/audit.md). A failed flush keeps its reads and retries on the next tick.

The buffer is bounded (`WEALTHGATE_READ_AUDIT_BUFFER_MAX`). Through a long primary outage, while replicas
keep serving reads (db/replicas.py), it fills; once full, a read is refused (`AuditBufferFull`, 503 with
Retry-After) before its answer is sent, never served unaudited and never by forgetting older reads. Each
failed flush also writes the waiting reads to this worker's journal on disk (audit/journal.py), so a worker
that stops or dies during the outage loses no more than a crash ever could: the journal is stored, exactly
once, when the primary is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import asyncpg

from wealthgate.audit import chain
from wealthgate.audit import journal as journal_files
from wealthgate.audit.batch import Pending, append_many
from wealthgate.audit.context import CLIENT_REQUEST_ID
from wealthgate.audit.journal import Journal
from wealthgate.auth.principal import Principal
from wealthgate.db.sql import Sql
from wealthgate.errors import Unavailable

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.1
FLUSH_AT = 2000
MAX_PENDING = 200_000  # the default bound of the buffer (Settings.read_audit_buffer_max)
_RECORD = Sql("INSERT INTO audit_read_journals (id, events) VALUES (:id, :events)")
_RECORDED = Sql("SELECT EXISTS (SELECT 1 FROM audit_read_journals WHERE id = :id)")


def _dated(event: Pending) -> Pending:
    """`event` with the time it was served in its details (`served_at`, the serving host's clock): it waits
    for the primary, and its record's `occurred_at` will be when it was stored."""
    if event.noted_at is None or "served_at" in event.details:
        return event
    served = datetime.fromtimestamp(event.noted_at, UTC)
    return replace(event, details={**event.details, "served_at": chain.timestamp(served)})


class AuditBufferFull(Unavailable):
    """The reads waiting to be written to the audit trail fill the buffer (the primary has been away): this
    read is refused rather than served unaudited."""

    slug = "audit-buffer-full"
    title = "Audit trail unavailable"


class ReadRecorder:
    def __init__(self, pool: asyncpg.Pool, journals: Path, max_pending: int = MAX_PENDING) -> None:
        self.pool = pool
        self.journals = journals  # where this service's journals live on this host (audit/journal.py)
        self.max_pending = max_pending
        self.pending: list[Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._caught_up_at = time.monotonic()  # when a flush last took every waiting read and stored it
        self._in_flight = 0  # events taken by the flush under way, not committed yet
        self._flushing = asyncio.Lock()  # one flush at a time: an explicit flush waits for the flusher's
        self._journal: Journal | None = None  # this outage's journal, from the first failed flush on
        self._journaled = 0  # how many events at the front of `pending` are in `_journal`

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
                noted_at=time.time(),
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
                noted_at=time.time(),
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
        why not: what shutdown and tests await instead of sleeping past the next tick. When it fails, every
        waiting event is in this worker's journal on disk before the exception leaves (audit/journal.py)."""
        async with self._flushing:
            taken_at = time.monotonic()
            batch, self.pending = self.pending, []
            journal, journaled = self._journal, self._journaled  # the batch's first `journaled` are in it
            self._in_flight = len(batch)
            try:
                stored = await self._store(batch, (journal.id, journaled) if journal and journaled else None)
            except Exception:
                # keep them, oldest first, for the next tick (never dropped: see the module's note)
                self.pending[:0] = batch
                self._in_flight = 0  # back in `pending`: counted once while the journal is written
                await self._keep_on_disk()
                raise
            finally:
                self._in_flight = 0
            self._caught_up_at = taken_at
            if journal is not None:  # stored (and recorded as stored): the file has done its work
                journal.remove()
                self._journal, self._journaled = None, 0
            return stored

    async def _keep_on_disk(self) -> None:
        """Append the waiting events not yet journaled to this outage's journal (fsync'd), in a thread: the
        reads the replicas serve meanwhile do not wait for the disk. Under `_flushing`, so `pending` only
        grows at its end meanwhile."""
        journaled = len(self.pending)
        waiting = [_dated(e) for e in self.pending[self._journaled : journaled]]
        if not waiting:
            return
        self.pending[self._journaled : journaled] = waiting
        if self._journal is None:
            self._journal = Journal(self.journals)
        try:
            await asyncio.to_thread(self._journal.append, waiting)
        except OSError:  # a full or failing disk: the events still wait in memory, as they did before
            log.exception("cannot journal %d waiting read audit events in %s", len(waiting), self.journals)
            return
        self._journaled = journaled

    async def _store(self, events: list[Pending], journal: tuple[str, int] | None) -> int:
        """Store `events` in one transaction, with the record of `journal` (its id, its event count) when
        they include a journal's events. One event the database can never accept must not hold back every
        other: then each is stored in a savepoint of its own, and the refused one is logged."""
        if not events and journal is None:
            return 0
        try:
            return await self._in_one_transaction(events, journal, each=False)
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError):
            return await self._in_one_transaction(events, journal, each=True)

    async def _in_one_transaction(
        self, events: list[Pending], journal: tuple[str, int] | None, *, each: bool
    ) -> int:
        stored = 0
        async with self.pool.acquire() as proxy, proxy.transaction():
            conn = cast(asyncpg.Connection, proxy)
            if not each:
                stored = len(await append_many(conn, events))
            else:
                for event in events:
                    try:
                        async with conn.transaction():  # a savepoint: a refused event undoes itself alone
                            await append_many(conn, [event])
                        stored += 1
                    except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError):
                        log.error("read audit event refused by the database, not stored: %r", event)
            if journal is not None:
                await _RECORD.execute(conn, id=journal[0], events=journal[1])
        return stored

    async def store_orphans(self) -> int:
        """Store the journals of workers that died (or of this service before a restart) and remove them;
        how many events were stored. A journal already recorded as stored (its owner died after the commit,
        before removing it) is removed without storing anything again."""
        stored = 0
        for orphan in journal_files.orphans(self.journals):
            try:
                events = await asyncio.to_thread(orphan.events)  # up to the buffer's bound: off the loop
            except ValueError:  # not a journal this code wrote: kept aside for a person, never retried
                log.exception(
                    "read audit journal %s cannot be read; kept as %s", orphan.path, orphan.set_aside()
                )
                continue
            try:
                async with self.pool.acquire() as proxy:
                    recorded = await _RECORDED.fetchval(cast(asyncpg.Connection, proxy), id=orphan.id)
                if not recorded:
                    stored += await self._store(events, (orphan.id, len(events)))
                    log.warning(
                        "stored %d read audit events journaled during an outage (%s)",
                        len(events),
                        orphan.path,
                    )
            except BaseException:
                orphan.release()  # left for the next look
                raise
            orphan.remove()
        return stored

    async def _run(self) -> None:
        failing = False
        orphans_due = True  # journals of workers that died, or of this service before it restarted
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=FLUSH_SECONDS)
            self._wake.clear()
            try:
                await self.flush()
                if orphans_due:
                    await self.store_orphans()
                    orphans_due = False
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
        interrupt a flush between taking its batch and committing it, and lose those events. With the primary
        away the last flush fails: what waits is then in the journal, which the service stores when it next
        starts with the primary reachable."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            await self._task
        try:
            await self.flush()
        except Exception:
            if self._journaled != len(self.pending):  # not all on disk: this stop loses them, say so loudly
                raise
            log.error(
                "the audit trail cannot be reached: %d read audit events wait in %s, stored when the"
                " service next starts with the database reachable",
                self._journaled,
                self.journals,
            )
        finally:
            if self._journal is not None:
                self._journal.release()
