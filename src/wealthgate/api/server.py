"""Running the API: uvicorn, with N worker processes that each own an SO_REUSEPORT socket.

uvicorn's own multi-worker mode shares one listening socket, and the kernel then hands most keep-alive
connections to whichever worker accepts first (measured here: 30 of 32 wrk connections on one of two
workers). With a socket per worker and SO_REUSEPORT the kernel spreads connections across workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

import uvicorn

log = logging.getLogger("wealthgate.server")
APP = "wealthgate.api.app:create_app"


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
    )


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(options: ServeOptions) -> None:
    sock = _bind(options.host, options.port)
    uvicorn.Server(_config(options)).run(sockets=[sock])


def serve(options: ServeOptions) -> None:
    """Serve until SIGINT/SIGTERM; returns after every worker has shut down gracefully."""
    if options.workers == 1:
        uvicorn.Server(_config(options)).run()
        return
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        process = ctx.Process(target=_worker, args=(options,), daemon=False)
        process.start()
        return process

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(options.workers)]
    log.info("serving on %s:%d with %d workers", options.host, options.port, options.workers)
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    log.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                    processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes in-flight requests, runs lifespan shutdown
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
