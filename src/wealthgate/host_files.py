"""Files every worker of one service on this host maps into memory and changes under an exclusive `flock`:
the rate-limit counters (throttling/shared.py) and the keys' write marks (db/write_marks.py).

`run_file` names one under `$WEALTHGATE_HOME/run/` (or a directory: the read audit journals, audit/journal.py)
after the database it belongs to (the whole URL but its
credentials: two servers on Unix sockets differ only in the socket directory), so two services sharing a home
but not a database never share a file. `MappedFile` opens it, lets the caller check or write its header under
the lock, and maps it.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
from collections.abc import Callable
from pathlib import Path


def run_file(home: Path, kind: str, database_url: str | None, fmt: str) -> Path:
    """`<home>/run/<kind>-<tag>.<fmt>`, the tag naming the database (`None`: the embedded one)."""
    where = "embedded" if database_url is None else database_url.rpartition("@")[2]
    tag = hashlib.sha256(where.encode()).hexdigest()[:12]
    return home / "run" / f"{kind}-{tag}.{fmt}"


class _Lock:
    """`flock` around a block; stateless, so one object per mode serves every use (no allocation on the hot
    path, where the rate limiter takes it on every request)."""

    __slots__ = ("fd", "operation")

    def __init__(self, fd: int, operation: int) -> None:
        self.fd, self.operation = fd, operation

    def __enter__(self) -> None:
        fcntl.flock(self.fd, self.operation)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)


class MappedFile:
    """`path` of `size` bytes, mapped (`map`). `initialise(fd)` runs under the exclusive lock once opened:
    it checks the header of a file already there, or starts it afresh."""

    def __init__(self, path: Path, size: int, initialise: Callable[[int], None]) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._exclusive, self._shared = _Lock(self.fd, fcntl.LOCK_EX), _Lock(self.fd, fcntl.LOCK_SH)
        try:
            with self.locked():
                initialise(self.fd)
            self.map = mmap.mmap(self.fd, size)
        except BaseException:
            os.close(self.fd)
            raise

    def locked(self, *, shared: bool = False) -> _Lock:
        return self._shared if shared else self._exclusive

    def close(self) -> None:
        if not self.map.closed:
            self.map.close()
            os.close(self.fd)
