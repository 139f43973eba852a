"""Running the API: uvicorn in this process for one worker, or a small supervisor for several.

Why not uvicorn's own multi-worker supervisor: it shares one listening socket among the workers, and the
kernel then hands most keep-alive connections to whichever worker accepts first (measured here: 30 of 32 wrk
connections on one of two workers; docs/serving.md has the figures). With one `SO_REUSEPORT` socket per
worker the kernel spreads connections by their hash. The supervisor below keeps that and adds what the
per-worker binding lacked:

- The parent claims the port before anything starts (api/listeners.py: lock, probe, bind): a busy port is
  one line and exit 1, whatever the worker count, and a second instance can never join the port.
- A worker that dies before it has started (its lifespan failed: no database, no keyring) is not restarted
  in a loop: after `STARTUP_ATTEMPTS` such deaths in a row the service stops with the reason. A worker that
  dies after it started is replaced, on the same socket; `CRASHES_PER_MINUTE` deaths in a minute stop it too.
- SIGTERM/SIGINT drain: the parent closes its copies of the sockets, each worker stops accepting, finishes
  its in-flight requests (up to `GRACE_SECONDS`), runs its lifespan shutdown and exits; new connections are
  refused once the last copy of a socket is closed.
- Prometheus multiprocess mode: with several workers the parent gives them a fresh
  `PROMETHEUS_MULTIPROC_DIR` (or the operator's), marks each dead worker's files, and removes its own
  directory at exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from pathlib import Path

import uvicorn
from prometheus_client import multiprocess

from wealthgate.api.listeners import CannotServe, Listeners

log = logging.getLogger("uvicorn.error")  # the parent logs beside uvicorn's own lines, in its format
APP = "wealthgate.api.app:create_app"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
GRACE_SECONDS = 30  # in-flight requests get this long after SIGTERM before they are cancelled
STARTUP_ATTEMPTS = 3  # worker deaths before start-up completes, in a row, before the service gives up
CRASHES_PER_MINUTE = 10  # deaths of started workers within 60 s before the service gives up
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    access_log: bool
    log_level: str


def _config(options: ServeOptions) -> uvicorn.Config:
    return uvicorn.Config(
        APP,
        factory=True,
        host=options.host,
        port=options.port,
        access_log=options.access_log,
        log_level=options.log_level,
        proxy_headers=False,
        lifespan="on",  # a failing start-up stops the worker; "auto" would serve without it
        timeout_graceful_shutdown=GRACE_SECONDS,
    )


def serve(options: ServeOptions, listeners: Listeners) -> None:
    """Serve on the claimed sockets until SIGINT/SIGTERM; returns once every request in flight has finished.

    Raises CannotServe when the application cannot start (or its workers keep dying)."""
    if len(listeners.sockets) == 1:
        _serve_here(options, listeners.sockets[0])
        return
    with metrics_dir():
        Supervisor(options, listeners).run()


def _serve_here(options: ServeOptions, sock: socket.socket) -> None:
    config = _config(options)  # configures uvicorn's loggers, which the line below uses
    log.info("serving on http://%s:%d (pid %d)", options.host, options.port, os.getpid())
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except SystemExit as exc:  # uvicorn exits this way when the lifespan start-up fails
        raise CannotServe(
            f"the application failed to start (exit code {exc.code}); see the log above"
        ) from None


@contextlib.contextmanager
def metrics_dir() -> Iterator[Path]:
    """PROMETHEUS_MULTIPROC_DIR for the workers: the operator's if set (kept), else a fresh one (removed)."""
    operators = os.environ.get(MULTIPROC_ENV)
    if operators:
        path = Path(operators)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="wealthgate-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)  # before any worker is spawned: they inherit the environment
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


class _Server(uvicorn.Server):
    """uvicorn's server, telling the supervisor when its start-up (lifespan included) has completed."""

    def __init__(self, config: uvicorn.Config, started: Event) -> None:
        super().__init__(config)
        self._started_event = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._started_event.set()


def _die_with_parent() -> None:
    """Linux: a worker gets SIGTERM if the supervisor dies without stopping it (SIGKILL, OOM killer)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _worker(options: ServeOptions, sock: socket.socket, started: Event, parent: int) -> None:
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        return
    _Server(_config(options), started).run(sockets=[sock])


@dataclass(slots=True)
class _Slot:
    """One worker position: its socket, and the process currently serving it."""

    sock: socket.socket
    process: BaseProcess | None = None
    started: Event | None = None
    seen_started: bool = False  # the supervisor has counted this process's start-up


@dataclass(slots=True)
class Supervisor:
    options: ServeOptions
    listeners: Listeners
    stopping: bool = False
    failed_startups: int = 0
    crashes: deque[float] = field(default_factory=lambda: deque(maxlen=CRASHES_PER_MINUTE))
    slots: list[_Slot] = field(default_factory=list)

    def run(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        _config(self.options)  # configures uvicorn's loggers in this process too, for the supervisor's lines
        self.slots = [_Slot(sock) for sock in self.listeners.sockets]
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            for slot in self.slots:
                self._start(ctx, slot)
            log.info(
                "serving on http://%s:%d with %d workers (pid %d)",
                self.options.host,
                self.options.port,
                len(self.slots),
                os.getpid(),
            )
            while not self.stopping:
                self._watch(ctx)
        finally:
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _start(self, ctx: multiprocessing.context.SpawnContext, slot: _Slot) -> None:
        slot.started = ctx.Event()
        slot.seen_started = False
        slot.process = ctx.Process(
            target=_worker, args=(self.options, slot.sock, slot.started, os.getpid()), daemon=False
        )
        slot.process.start()

    def _watch(self, ctx: multiprocessing.context.SpawnContext) -> None:
        live = [s.process.sentinel for s in self.slots if s.process is not None]
        wait(live, timeout=0.2)
        for slot in self.slots:
            process, started = slot.process, slot.started
            if process is None or started is None:
                continue
            if started.is_set() and not slot.seen_started:
                slot.seen_started = True
                self.failed_startups = 0  # a worker came up: earlier start-up deaths were not a pattern
            if process.is_alive() or self.stopping:
                continue
            process.join()
            _mark_dead(process.pid)
            self._judge(process, started.is_set())
            self._start(ctx, slot)

    def _judge(self, process: BaseProcess, had_started: bool) -> None:
        """Raise CannotServe when restarting would only repeat the failure."""
        code = process.exitcode
        if not had_started:
            self.failed_startups += 1
            log.error("worker %s exited with code %s during start-up", process.pid, code)
            if self.failed_startups >= STARTUP_ATTEMPTS:
                raise CannotServe(
                    f"workers exited during start-up {self.failed_startups} times in a row (last exit code "
                    f"{code}); not restarting them: see the log above"
                )
            return
        now = time.monotonic()
        self.crashes.append(now)
        log.error("worker %s exited with code %s; starting another on its socket", process.pid, code)
        if len(self.crashes) == CRASHES_PER_MINUTE and now - self.crashes[0] < 60:
            raise CannotServe(f"workers crashed {CRASHES_PER_MINUTE} times within a minute; stopping")

    def _shutdown(self) -> None:
        """Drain: stop taking connections, let each worker finish its requests, then reap it."""
        for sock in self.listeners.sockets:
            sock.close()  # the workers' copies close as they stop accepting; then the port refuses
        processes = [s.process for s in self.slots if s.process is not None]
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes in-flight requests, runs lifespan shutdown
        for process in processes:
            process.join(timeout=GRACE_SECONDS + 10)
            if process.is_alive():
                log.error("worker %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join()
            _mark_dead(process.pid)


def _mark_dead(pid: int | None) -> None:
    """prometheus_client: drop a dead worker's live gauges (its counters and histograms stay summed)."""
    path = os.environ.get(MULTIPROC_ENV)
    if pid is None or not path:
        return
    multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
