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

import hashlib
import os
import struct
from pathlib import Path

from wealthgate.host_files import MappedFile, run_file

FORMAT = "v1"
SLOTS = 1 << 16
_MAGIC = b"WGLSN" + FORMAT.encode() + b"\0"
_HEADER = struct.Struct("<8sQQ")  # magic, slot count, the primary's system identifier
_MARK = struct.Struct("<Q")


def marks_file(home: Path, primary_url: str) -> Path:
    """The file of the workers of one service on this host, named after its primary (host_files.run_file)."""
    return run_file(home, "write-marks", primary_url, FORMAT)


def _slot(firm_id: int, key_id: int) -> int:
    digest = hashlib.blake2b(f"{firm_id}:{key_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % SLOTS


class WriteMarks:
    """The marks of one primary (`system_id`, from `pg_control_system()`), in `path`."""

    def __init__(self, path: Path, system_id: int) -> None:
        self.path = path
        size = _HEADER.size + SLOTS * _MARK.size

        def initialise(fd: int) -> None:
            header = os.pread(fd, _HEADER.size, 0) if os.fstat(fd).st_size == size else b""
            if len(header) != _HEADER.size or _HEADER.unpack(header) != (_MAGIC, SLOTS, system_id):
                # new, of another format, or of another primary's WAL: positions of a different history
                os.ftruncate(fd, 0)
                os.ftruncate(fd, size)
                os.pwrite(fd, _HEADER.pack(_MAGIC, SLOTS, system_id), 0)

        self._file = MappedFile(path, size, initialise)

    def _offset(self, firm_id: int, key_id: int) -> int:
        return _HEADER.size + _slot(firm_id, key_id) * _MARK.size

    def mark(self, firm_id: int, key_id: int, lsn: int) -> None:
        """Raise the key's mark to `lsn` (never lower it: a slower request must not undo a later write's)."""
        offset = self._offset(firm_id, key_id)
        with self._file.locked():
            (current,) = _MARK.unpack_from(self._file.map, offset)
            if lsn > current:
                _MARK.pack_into(self._file.map, offset, lsn)

    def get(self, firm_id: int, key_id: int) -> int:
        """The key's mark (0: no write seen on this host), read under the lock (no torn value)."""
        offset = self._offset(firm_id, key_id)
        with self._file.locked(shared=True):
            mark: int = _MARK.unpack_from(self._file.map, offset)[0]
        return mark

    def close(self) -> None:
        self._file.close()
