"""Where the rate limits and the authentication back-off count: one small interface over the storages.

- No `rate_limit_storage` (the default): `SharedCounters`, the file every worker of this host maps, so the
  workers of one host share one budget per key. Each host counts alone: N hosts let a key do N times its
  limit (docs/limits.md).
- A `limits` storage URI (`rate_limit_storage`, e.g. `async+redis://host:6379`, whose client `coredis` is a
  dependency; settings.py refuses a URI whose client is not installed): `limits.storage.storage_from_string`,
  shared by every host that names it. An `async+` storage is awaited; a synchronous one is called in place
  (a round trip to it would hold this worker's event loop: use `async+`). A store that cannot be reached
  raises `StoreUnreachable`, a ConnectionError, which the API answers 503 with Retry-After like a lost
  database (fail closed; tests/integration/test_rate_limit_store.py, a real Redis).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TypeVar

import limits.aio.storage
import limits.storage
from limits.errors import StorageError
from limits.storage import storage_from_string

from wealthgate.settings import Settings
from wealthgate.throttling.shared import SharedCounters, counters_file

Window = tuple[int, float]  # (count, the window's end in epoch seconds)
T = TypeVar("T")


class StoreUnreachable(ConnectionError):
    """The `rate_limit_storage` store failed (its client's error is the cause)."""


def _sync(call: Callable[[], T]) -> T:
    try:
        return call()
    except StorageError as exc:
        raise StoreUnreachable(f"the rate limit storage failed: {exc}") from exc


async def _async(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except StorageError as exc:
        raise StoreUnreachable(f"the rate limit storage failed: {exc}") from exc


class Counters(ABC):
    """Fixed-window counters by key: `hit` adds and says where the window stands, `peek` reads, `clear`
    forgets; `now` is the clock the windows' ends are read against."""

    @abstractmethod
    def now(self) -> float: ...

    @abstractmethod
    async def hit(self, key: str, expiry: int, amount: int = 1) -> Window: ...

    @abstractmethod
    async def peek(self, keys: list[str]) -> list[Window]: ...

    @abstractmethod
    async def clear(self, key: str) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


class _Shared(Counters):
    """This host's shared file: both answers of a hit under one lock."""

    def __init__(self, shared: SharedCounters) -> None:
        self.shared = shared

    def now(self) -> float:
        return self.shared.clock()

    async def hit(self, key: str, expiry: int, amount: int = 1) -> Window:
        return self.shared.hit(key, expiry, amount)

    async def peek(self, keys: list[str]) -> list[Window]:
        return self.shared.peek(keys)

    async def clear(self, key: str) -> None:
        self.shared.clear(key)

    def close(self) -> None:
        self.shared.close()


class _SyncStorage(Counters):
    def __init__(self, storage: limits.storage.Storage) -> None:
        self.storage = storage

    def now(self) -> float:
        return time.time()

    async def hit(self, key: str, expiry: int, amount: int = 1) -> Window:
        s = self.storage
        return _sync(lambda: (s.incr(key, expiry, amount), s.get_expiry(key)))

    async def peek(self, keys: list[str]) -> list[Window]:
        s = self.storage
        return _sync(lambda: [(s.get(k), s.get_expiry(k)) for k in keys])

    async def clear(self, key: str) -> None:
        _sync(lambda: self.storage.clear(key))

    def close(self) -> None:
        pass


class _AsyncStorage(Counters):
    def __init__(self, storage: limits.aio.storage.Storage) -> None:
        self.storage = storage

    def now(self) -> float:
        return time.time()

    async def hit(self, key: str, expiry: int, amount: int = 1) -> Window:
        s = self.storage

        async def both() -> Window:
            return await s.incr(key, expiry, amount), await s.get_expiry(key)

        return await _async(both)

    async def peek(self, keys: list[str]) -> list[Window]:
        s = self.storage

        async def each() -> list[Window]:
            return [(await s.get(k), await s.get_expiry(k)) for k in keys]

        return await _async(each)

    async def clear(self, key: str) -> None:
        await _async(lambda: self.storage.clear(key))

    def close(self) -> None:
        pass


def of_storage(storage: limits.storage.Storage | limits.aio.storage.Storage) -> Counters:
    """Counters over any `limits` storage."""
    if isinstance(storage, SharedCounters):
        return _Shared(storage)
    if isinstance(storage, limits.aio.storage.Storage):
        return _AsyncStorage(storage)
    return _SyncStorage(storage)


def open_counters(settings: Settings) -> Counters:
    """The counters `settings` name: this host's shared file, or the `rate_limit_storage` URI's storage."""
    if settings.rate_limit_storage:
        return of_storage(storage_from_string(settings.rate_limit_storage, wrap_exceptions=True))
    return _Shared(SharedCounters(path=counters_file(settings.home, settings.database_url)))
