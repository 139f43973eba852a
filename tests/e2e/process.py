"""Start the real `wealthgate` command as a process, read its output, and stop it."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

WEALTHGATE = str(Path(sys.executable).with_name("wealthgate"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_HOME = tempfile.mkdtemp(prefix="wealthgate-e2e-")


def env(**overrides: str | None) -> dict[str, str]:
    """The test's environment for a child process: no inherited database, a throwaway WEALTHGATE_HOME."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WEALTHGATE_DATABASE_URL")}
    base["WEALTHGATE_HOME"] = _HOME
    for key, value in overrides.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def cli(*args: str, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WEALTHGATE, *args], env=env(**overrides), capture_output=True, text=True, timeout=180, check=False
    )


class Server:
    """A `wealthgate demo|serve` process; lines of its output are collected as they come."""

    def __init__(self, *args: str, **overrides: str | None) -> None:
        self.proc = subprocess.Popen(
            [WEALTHGATE, *args],
            env=env(**overrides),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for_line(self, prefix: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if line.startswith(prefix):
                return line.strip()
        raise AssertionError(f"no line starting {prefix!r}; output:\n{''.join(self.output)}")

    def wait_healthy(self, base_url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"server never became healthy; output:\n{''.join(self.output)}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
