"""A real Redis for the rate limits shared across hosts (tests/integration/test_rate_limit_store.py).

Debian's `redis-server` (`make redis` installs it as root), started per test on a free port of 127.0.0.1
with nothing saved to disk, and stopped after. Redis runs as root with a warning only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

BINARY_PATHS = ("/usr/bin/redis-server", "/usr/sbin/redis-server")


def binary() -> str | None:
    return shutil.which("redis-server") or next((p for p in BINARY_PATHS if os.access(p, os.X_OK)), None)


def required() -> str:
    """The binary, or the test fails where `make redis` could have installed it and skips elsewhere."""
    found = binary()
    if found is None:
        if os.geteuid() == 0 and Path("/etc/debian_version").exists():
            pytest.fail(
                "Redis is missing but installable here: run `make redis` (apt-get install redis-server)"
            )
        pytest.skip("Redis is not installed and cannot be installed here (needs root on Debian: make redis)")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Redis:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def uri(self) -> str:
        """The `limits` storage URI of this server, as WEALTHGATE_RATE_LIMIT_STORAGE takes it."""
        return f"async+redis://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def running(workdir: Path) -> Iterator[Redis]:
    port = _free_port()
    process = subprocess.Popen(
        [
            required(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Redis(port, process)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield server
    finally:
        server.stop()
