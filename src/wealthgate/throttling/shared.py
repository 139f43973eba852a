"""Fixed-window counters shared by every worker process of this host: a small file mapped into each worker's
memory, changed only under an exclusive `flock` on that file. A `limits` storage (`SharedCounters`), so the
rate limits and the authentication back-off read and write it exactly as they would Redis.

Why a mapped file: `wealthgate serve --workers N` runs N processes, and a counter in one worker's memory would
let a key do N times its limit. Every worker opens the same file (named from the service's home and database,
see `counters_file`), maps it, and takes the lock around each operation; the lock is per open file, so each
worker opens the file itself (never inherits the descriptor across a fork). An operation is a hash lookup in
a fixed table and a few bytes written: microseconds, no system call but the lock and unlock.

The table has `SLOTS` entries in buckets of `BUCKET` (a key's bucket is read with one unpack). A counter
lives until its window ends; an ended one is free. Should every entry of a bucket hold a live counter
(thousands of keys at once), the one whose window ends first is forgotten, which can only let that key do
more, never less: the limit errs towards serving. The file lives for the host's lifetime; its counters mean
nothing after every worker stopped, so nothing needs cleaning.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from limits.storage import Storage

from wealthgate.host_files import MappedFile, run_file

FORMAT = "v1"
SLOTS = 1 << 14  # 16,384 live counters: a read and a write window per key for thousands of keys
BUCKET = 8
_MAGIC = b"WGCNT" + FORMAT.encode() + b"\0"
_HEADER = struct.Struct("<8sQ")  # magic, slot count
_SLOT = struct.Struct("<Qdq")  # key hash (0: empty), window end (epoch seconds), count
_EMPTY = _SLOT.pack(0, 0.0, 0)
_BUCKET = struct.Struct("<" + "Qdq" * BUCKET)
_HASHES: dict[str, int] = {}  # the keys of the last requests, hashed once
_HASHES_KEPT = 1 << 16


def counters_file(home: Path, database_url: str | None) -> Path:
    """The file the workers of one service on this host share, named after its database
    (host_files.run_file), so two services with one home but different databases, whose key ids overlap,
    never count against each other."""
    return run_file(home, "counters", database_url, FORMAT)


def _hash(key: str) -> int:
    """A 64-bit hash every process computes alike (Python's `hash` is salted per process); never 0."""
    h = _HASHES.get(key)
    if h is None:
        if len(_HASHES) >= _HASHES_KEPT:
            _HASHES.clear()
        h = _HASHES[key] = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") | 1
    return h


class SharedCounters(Storage):
    """A `limits` storage in a file mapped by every worker of this host: `wealthgate-shm:///path/to/file`
    (`limits.storage.storage_from_string`), or `SharedCounters(path=...)`. `clock` is the time source of
    window ends (replaceable in tests)."""

    STORAGE_SCHEME: list[str] | None = ["wealthgate-shm"]  # noqa: RUF012  (declared so by `limits`)

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        *,
        path: Path | None = None,
        slots: int = SLOTS,
        **options: float | str | bool,
    ) -> None:
        super().__init__(uri, wrap_exceptions, **options)
        if path is None:
            if not uri:
                raise ValueError("SharedCounters needs a path (or a wealthgate-shm:///path URI)")
            path = Path(urllib.parse.urlsplit(uri).path)
        self.path = path
        if slots % BUCKET:
            raise ValueError(f"slots must be a multiple of {BUCKET}")
        self.slots = slots
        self.clock: Callable[[], float] = time.time
        size = _HEADER.size + slots * _SLOT.size

        def initialise(fd: int) -> None:
            found = os.fstat(fd).st_size
            if found == 0:
                os.ftruncate(fd, size)
                os.pwrite(fd, _HEADER.pack(_MAGIC, self.slots), 0)
                return
            magic, slots = _HEADER.unpack(os.pread(fd, _HEADER.size, 0))
            if found != size or magic != _MAGIC or slots != self.slots:
                raise RuntimeError(f"{self.path} is not a wealthgate counter file of this version: remove it")

        self._file = MappedFile(path, size, initialise)
        self._map = self._file.map
        self._locked = self._file.locked

    def close(self) -> None:
        self._file.close()

    # ---- the table ----------------------------------------------------------------------------------------

    def _offset(self, index: int) -> int:
        return _HEADER.size + index * _SLOT.size

    def _find(self, h: int, now: float) -> tuple[int | None, int]:
        """(the slot holding `h` live, or None; the slot a new counter for `h` would take)."""
        first = (h % (self.slots // BUCKET)) * BUCKET
        values = _BUCKET.unpack_from(self._map, self._offset(first))
        hashes, ends = values[0::3], values[1::3]
        if h in hashes:
            i = hashes.index(h)
            if ends[i] > now:
                return first + i, first + i
            return None, first + i  # its ended window: start anew in place
        for i, end in enumerate(ends):
            if end <= now:  # free, or ended
                return None, first + i
        return None, first + ends.index(min(ends))

    def _live(self, key: str) -> tuple[float, int] | None:
        """(window end, count) of `key`'s live counter; the caller holds the lock."""
        index, _ = self._find(_hash(key), self.clock())
        if index is None:
            return None
        _h, end, count = _SLOT.unpack_from(self._map, self._offset(index))
        return end, count

    def hit(self, key: str, expiry: float, amount: int = 1) -> tuple[int, float]:
        """Add `amount` to `key`'s counter, starting a window of `expiry` seconds if it has none; returns the
        count and the window's end, under one lock (what `incr` and `get_expiry` would take two for)."""
        h = _hash(key)
        with self._locked():
            now = self.clock()
            index, slot = self._find(h, now)
            if index is None:
                end, count = now + expiry, amount
            else:
                _h, end, count = _SLOT.unpack_from(self._map, self._offset(index))
                count += amount
            _SLOT.pack_into(self._map, self._offset(slot), h, end, count)
            return count, end

    def peek(self, keys: list[str]) -> list[tuple[int, float]]:
        """(count, window end) of each of `keys` under one lock; (0, now) where there is no live counter."""
        with self._locked():
            now = self.clock()
            found = [self._live(k) for k in keys]
        return [(0, now) if f is None else (f[1], f[0]) for f in found]

    # ---- the `limits` storage interface ------------------------------------------------------------------

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return OSError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.hit(key, expiry, amount)[0]

    def get(self, key: str) -> int:
        return self.peek([key])[0][0]

    def get_expiry(self, key: str) -> float:
        return self.peek([key])[0][1]

    def check(self) -> bool:
        return not self._map.closed

    def reset(self) -> int | None:
        with self._locked():
            live = 0
            for index in range(self.slots):
                if _SLOT.unpack_from(self._map, self._offset(index))[0]:
                    live += 1
                    self._map[self._offset(index) : self._offset(index) + _SLOT.size] = _EMPTY
        return live

    def clear(self, key: str) -> None:
        with self._locked():
            index, _ = self._find(_hash(key), self.clock())
            if index is not None:
                self._map[self._offset(index) : self._offset(index) + _SLOT.size] = _EMPTY
