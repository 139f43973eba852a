"""Where each key's last write ended in the primary's WAL, shared by every worker of this host: what lets a
key read its own writes from a replica (db/replicas.py).

After a request of a key that may have written commits, the primary's WAL insert position is taken and
kept here as that key's mark; the key's next read is served by a replica only once the replica has replayed
past the mark. A file mapped into each worker's memory (as the rate-limit counters, throttling/shared.py)
makes a write served by one worker known to the key's next read served by another.

The table is a fixed array of marks indexed by a hash of (firm, key): two keys that share a slot share the
later of their marks, which can only send a read to the primary (or make it wait) when a replica would have
done; it can never let a read miss its own write. Marks only grow. They mean nothing once every worker has
stopped (a new primary has new positions), so the file is started afresh with the primary's system id.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
from pathlib import Path

FORMAT = "v1"
SLOTS = 1 << 16
_MAGIC = b"WGLSN" + FORMAT.encode() + b"\0"
_HEADER = struct.Struct("<8sQQ")  # magic, slot count, the primary's system identifier
_MARK = struct.Struct("<Q")


def marks_file(home: Path, primary_url: str) -> Path:
    """The file of the workers of one service on this host: under its home, named after its primary (the
    whole URL but the credentials: servers on Unix sockets differ only in the socket directory)."""
    where = primary_url.rpartition("@")[2] if "@" in primary_url else primary_url
    tag = hashlib.sha256(where.encode()).hexdigest()[:12]
    return home / "run" / f"write-marks-{tag}.{FORMAT}"


def _slot(firm_id: int, key_id: int) -> int:
    digest = hashlib.blake2b(f"{firm_id}:{key_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % SLOTS


class WriteMarks:
    """The marks of one primary (`system_id`, from `pg_control_system()`), in `path`."""

    def __init__(self, path: Path, system_id: int) -> None:
        self.path = path
        size = _HEADER.size + SLOTS * _MARK.size
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                found = os.fstat(self._fd).st_size
                header = os.pread(self._fd, _HEADER.size, 0) if found == size else b""
                if len(header) != _HEADER.size or _HEADER.unpack(header) != (_MAGIC, SLOTS, system_id):
                    # new, of another format, or of another primary's WAL: positions of a different history
                    os.ftruncate(self._fd, 0)
                    os.ftruncate(self._fd, size)
                    os.pwrite(self._fd, _HEADER.pack(_MAGIC, SLOTS, system_id), 0)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._map = mmap.mmap(self._fd, size)
        except BaseException:
            os.close(self._fd)
            raise

    def _offset(self, firm_id: int, key_id: int) -> int:
        return _HEADER.size + _slot(firm_id, key_id) * _MARK.size

    def mark(self, firm_id: int, key_id: int, lsn: int) -> None:
        """Raise the key's mark to `lsn` (never lower it: a slower request must not undo a later write's)."""
        offset = self._offset(firm_id, key_id)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            (current,) = _MARK.unpack_from(self._map, offset)
            if lsn > current:
                _MARK.pack_into(self._map, offset, lsn)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def get(self, firm_id: int, key_id: int) -> int:
        """The key's mark (0: no write seen on this host), read under the lock (no torn value)."""
        offset = self._offset(firm_id, key_id)
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        try:
            mark: int = _MARK.unpack_from(self._map, offset)[0]
            return mark
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if not self._map.closed:
            self._map.close()
            os.close(self._fd)
