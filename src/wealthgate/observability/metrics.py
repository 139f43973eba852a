"""Prometheus metrics, correct across worker processes.

With several workers (`wealthgate serve --workers N`) the supervisor gives them a `PROMETHEUS_MULTIPROC_DIR`:
prometheus-client then keeps every value in a memory-mapped file per process (it decides when it is first
imported, so the variable must be set before the worker starts, as the supervisor does), and a scrape,
answered by any one worker, reads them all through `MultiProcessCollector` on a fresh registry. Without it,
the default registry of this one process is the answer (with the process and GC collectors).

- Counters and histograms add up across processes (dead workers' counts are kept, as they should be).
- Gauges say how to combine: `livesum` for what each live worker holds (pool connections, queued reads),
  `livemax` for a lag, `mostrecent` for a database fact any worker may have read last (checkpoint age).
- Gauges of in-process objects are sampled, not updated on the hot path: at every scrape for the process
  that answers it, and every `SAMPLE_SECONDS` in each worker when there are several (`sampler`).
- Labels are bounded: the route is the template (`/clients/{client_id}/context`), never the raw path;
  unknown methods are `OTHER`; a request that matched no route is `unmatched`.

`RATE_LIMIT_REFUSALS` and `AUTH_FAILURES` are incremented by the limits and authentication code.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable, Sequence
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))  # as prometheus-client decided when it was imported
if MULTIPROCESS:
    # The gauges below open their files at once, in any process importing this module (the CLI's too,
    # before the supervisor has made an operator's directory): make sure it exists.
    os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST
SAMPLE_SECONDS = 1.0
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "wealthgate_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "wealthgate_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POOL_IN_USE = Gauge(
    "wealthgate_db_pool_connections_in_use",
    "Database connections lent out by the workers' pools.",
    multiprocess_mode="livesum",
)
POOL_IDLE = Gauge(
    "wealthgate_db_pool_connections_idle",
    "Open database connections waiting in the workers' pools.",
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "wealthgate_db_pool_acquire_waiting",
    "Requests and jobs waiting for a database connection (every one of a pool's connections is in use).",
    multiprocess_mode="livesum",
)
READ_AUDIT_DEPTH = Gauge(
    "wealthgate_read_audit_queue_depth",
    "Read-audit events noted in memory and not yet written to the audit trail.",
    multiprocess_mode="livesum",
)
READ_AUDIT_LAG = Gauge(
    "wealthgate_read_audit_flush_lag_seconds",
    "Age of the oldest read-audit event not yet written (0 when none waits); the largest of the workers.",
    multiprocess_mode="livemax",
)
READ_ROUTES = Counter(
    "wealthgate_read_routes_total",
    "Agent reads by the server that served them (primary, replica) and why (current: the replica had"
    " replayed the key's last write; waited: after waiting for it; behind: it had not in time; no_replica:"
    " none usable; replica_failed: it failed to connect).",
    ["server", "reason"],
)
REPLICA_UP = Gauge(
    "wealthgate_replica_up",
    "1 when the replica answered this worker's last check as a standby, else 0; the lowest of the workers.",
    ["replica"],
    multiprocess_mode="livemin",
)
REPLICA_LAG = Gauge(
    "wealthgate_replica_lag_seconds",
    "How far the replica's replay is behind the primary (0 when caught up); the largest of the workers.",
    ["replica"],
    multiprocess_mode="livemax",
)
CONTEXT_CACHE = Gauge(
    "wealthgate_context_cache_reads",
    "Context reads answered from the worker's rendered documents (result=hit) or by the full statement"
    " (result=miss) since the worker started; summed over the live workers.",
    ["result"],
    multiprocess_mode="livesum",
)
CONTEXT_CACHE_DOCUMENTS = Gauge(
    "wealthgate_context_cache_documents",
    "Rendered context documents kept, summed over the live workers.",
    multiprocess_mode="livesum",
)
CONTEXT_CACHE_BYTES = Gauge(
    "wealthgate_context_cache_bytes",
    "Bytes of the rendered context documents kept (bounded per worker by WEALTHGATE_CONTEXT_CACHE_MB), summed"
    " over the live workers.",
    multiprocess_mode="livesum",
)
CHECKPOINT_AGE = Gauge(
    "wealthgate_audit_checkpoint_age_seconds",
    "Seconds since the newest signed audit checkpoint, read from the database at scrape time "
    "(NaN before the first checkpoint or when the database cannot be read).",
    multiprocess_mode="mostrecent",
)
RATE_LIMIT_REFUSALS = Counter(
    "wealthgate_rate_limit_refusals_total",
    "Requests refused with 429 by a per-key limit, by kind (read, write, quota).",
    ["kind"],
)
AUTH_FAILURES = Counter(
    "wealthgate_auth_failures_total",
    "Failed authentications, by reason.",
    ["reason"],
)

_Children = tuple[Callable[[], None], Callable[[float], None]]
_children: dict[tuple[str, str, int], _Children] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration (labelled children are looked up once per label set)."""
    key = (method, route, status)
    found = _children.get(key)
    if found is None:
        label = method if method in METHODS else "OTHER"
        found = (
            REQUESTS.labels(label, route, str(status)).inc,
            LATENCY.labels(label, route, str(status)).observe,
        )
        if method in METHODS:  # never cache by an arbitrary method name: the dict would grow without bound
            _children[key] = found
    inc, observe = found
    inc()
    observe(seconds)


class _Pool(Protocol):
    def get_size(self) -> int: ...
    def get_idle_size(self) -> int: ...


class _Reads(Protocol):
    @property
    def depth(self) -> int: ...
    @property
    def flush_lag_seconds(self) -> float: ...


class _Replica(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def up(self) -> bool: ...
    @property
    def lag_seconds(self) -> float: ...


class _Cache(Protocol):
    hits: int
    misses: int
    bytes: int

    def __len__(self) -> int: ...


class _Router(Protocol):
    @property
    def replicas(self) -> Sequence[_Replica]: ...


def waiting_for(pool: object) -> int:
    """Acquirers blocked on the pool. asyncpg keeps them as the getters of its holder queue (no public API);
    read at sampling time, so the hot path pays nothing. tests/api/test_metrics.py notices if it changes."""
    getters = getattr(getattr(pool, "_queue", None), "_getters", None)
    return sum(1 for waiter in getters if not waiter.done()) if getters is not None else 0


def sample(pool: _Pool, reads: _Reads, router: _Router | None = None, cache: _Cache | None = None) -> None:
    """Set this process's gauges from its pool, read recorder, replicas and context cache."""
    size, idle = pool.get_size(), pool.get_idle_size()
    POOL_IN_USE.set(size - idle)
    POOL_IDLE.set(idle)
    POOL_WAITING.set(waiting_for(pool))
    READ_AUDIT_DEPTH.set(reads.depth)
    READ_AUDIT_LAG.set(reads.flush_lag_seconds)
    for replica in router.replicas if router is not None else ():
        REPLICA_UP.labels(replica.name).set(1 if replica.up else 0)
        REPLICA_LAG.labels(replica.name).set(replica.lag_seconds)
    if cache is not None:
        CONTEXT_CACHE.labels("hit").set(cache.hits)
        CONTEXT_CACHE.labels("miss").set(cache.misses)
        CONTEXT_CACHE_DOCUMENTS.set(len(cache))
        CONTEXT_CACHE_BYTES.set(cache.bytes)


def set_checkpoint_age(seconds: float | None) -> None:
    CHECKPOINT_AGE.set(math.nan if seconds is None else seconds)


async def sampler(
    pool: _Pool,
    reads: _Reads,
    router: _Router | None = None,
    cache: _Cache | None = None,
    every: float = SAMPLE_SECONDS,
) -> None:
    """Keep this worker's gauges fresh in its files, for scrapes another worker answers."""
    while True:
        sample(pool, reads, router, cache)
        await asyncio.sleep(every)


def render() -> bytes:
    """The exposition text: every worker's values in multiprocess mode, else this process's registry."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
