"""Read audit events the database could not take, kept on the host's disk until it can.

While the primary is away, replicas keep serving reads (db/replicas.py) and each read's audit event waits in
its worker's memory (audit/reads.py). Memory alone would lose them all if the worker stopped before the
primary came back: a crash, an OOM kill, or a plain restart (its last flush fails too). So each failing
flush first appends the events not yet journaled to this worker's journal, one JSON line per event, and
fsyncs it. What a crash can still lose is what it always could: the reads noted since the last flush tick.

- **One file per outage per worker**, `<home>/run/read-audit-<database tag>.v1/<uuid>.jsonl`, named after
  the database like the host's other run files (host_files.run_file), so a journal is only ever stored into
  the database its reads came from. The worker holds an exclusive `flock` on it while it lives.
- **Exactly once.** The events of a journal are stored in one transaction that also records the journal's
  id in `audit_read_journals` (migration 0012); the file is removed after the commit. A file left behind by
  a crash after that commit is found recorded, and removed without storing anything again.
- **Orphans.** A journal whose lock can be taken has no living owner: a worker that died, or the service
  before a restart. Each worker stores the orphans it finds when it starts, and keeps looking while any is
  left (the primary may still be away). Two workers never store one file: the lock decides, and the record
  settles a race with a file being removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import orjson

from wealthgate.audit.batch import Pending
from wealthgate.host_files import run_file

log = logging.getLogger(__name__)
FORMAT = "v1"
SUFFIX = ".jsonl"
SET_ASIDE = ".unreadable"  # added to the name of a journal that cannot be read, for a person to look at


def journal_dir(home: Path, database_url: str | None) -> Path:
    """Where the read audit journals of this service's database live on this host."""
    return run_file(home, "read-audit", database_url, FORMAT)


def encode(event: Pending) -> bytes:
    return orjson.dumps(asdict(event)) + b"\n"


def decode(line: bytes) -> Pending:
    return Pending(**orjson.loads(line))


class Journal:
    """This worker's journal of the current outage: created by the first `append`, locked while open."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.id = uuid.uuid4().hex
        self.path = directory / f"{self.id}{SUFFIX}"
        self._fd: int | None = None

    def append(self, events: Sequence[Pending]) -> None:
        """Write `events` at the end of the journal and make them durable (fsync) before returning."""
        if self._fd is None:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)  # a new file: nobody else can hold it
            self._fd = fd
            _sync_directory(self.directory)  # the file's name survives a machine crash too
        data = b"".join(encode(e) for e in events)
        kept = os.fstat(self._fd).st_size
        try:
            written = 0
            while written < len(data):  # a short write (a full disk) is followed by the error that says why
                written += os.write(self._fd, data[written:])
            os.fsync(self._fd)
        except OSError:
            os.ftruncate(self._fd, kept)  # no torn line left for the next append to bury mid-file
            raise

    def release(self) -> None:
        """Close the file and let go of its lock, leaving it to whoever stores orphans (a worker stopping)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def remove(self) -> None:
        """Its events are stored: delete the file, then let go of it."""
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            self.release()


class Orphan:
    """A journal without a living owner, locked by this process until `remove` or `release`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.id = path.name.removesuffix(SUFFIX)
        self._fd = fd

    def events(self) -> list[Pending]:
        """Its events in the order they were journaled. A last line cut short (its writer died inside the
        write, before the fsync that would have acknowledged it) is skipped, and said so."""
        with os.fdopen(os.dup(self._fd), "rb") as file:
            file.seek(0)
            data = file.read()
        lines = data.split(b"\n")
        events = []
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            try:
                events.append(decode(line))
            except (ValueError, TypeError) as exc:
                if number == len(lines):  # the last line, with no newline after it: a torn write
                    log.error("read audit journal %s: its last line was cut short by a crash", self.path)
                    continue
                raise ValueError(f"{self.path}, line {number}: {exc}") from None
        return events

    def set_aside(self) -> Path:
        """Rename it out of the way (`SET_ASIDE`): never stored, never removed, never looked at again. Its new
        path."""
        aside = self.path.with_name(self.path.name + SET_ASIDE)
        self.path.rename(aside)
        self.release()
        return aside

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        os.close(self._fd)


def orphans(directory: Path) -> Iterator[Orphan]:
    """The journals in `directory` nobody holds, each locked for the caller as it is yielded; a file another
    worker holds (its owner alive, or another worker storing it) is passed over."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue  # stored and removed by another worker meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if os.fstat(fd).st_nlink == 0:  # removed between the listing and the lock: already stored
            os.close(fd)
            continue
        yield Orphan(path, fd)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # some file systems cannot fsync a directory
            os.fsync(fd)
    finally:
        os.close(fd)
