"""Claiming a port before serving: one owner per port, a clear refusal when it is taken.

Workers get one `SO_REUSEPORT` socket each (api/server.py says why). `SO_REUSEPORT` lets any process of the
same user bind the same port again, so without care a second multi-worker instance binds beside the first
and the kernel splits requests between two services (and two databases). The claim closes that door in three
steps, all in the serving parent before any worker, database or migration starts:

1. An exclusive `flock` on `<runtime dir>/port-<port>.lock`, held for the parent's lifetime. A second
   wealthgate on the port fails here and names the holder's pid. The lock is per port, not per address:
   `0.0.0.0:8000` and `127.0.0.1:8000` would share connections just the same.
2. A probe: a plain bind (no `SO_REUSEPORT`) of the address. Any listener on the port, wealthgate or not and
   `SO_REUSEPORT` or not, makes it fail with `EADDRINUSE`. Without the lock, two instances could both probe
   before either binds; the lock makes probe-then-bind one step for wealthgate processes.
3. The parent binds the sockets itself (one plain socket for one worker; `SO_REUSEPORT` sockets for several)
   and listens at once. Workers receive theirs; the parent keeps its copies, so a restarted worker takes over
   the same socket and connections queued on it are not lost.

The kernel refuses `SO_REUSEPORT` sharing across users, so a per-user runtime directory is enough. Processes
of the same user with different `/tmp` (containers on the host network) do not see each other's lock: the
probe still refuses them unless both bind in the same instant.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BACKLOG = 2048


class CannotServe(Exception):
    """The service cannot start or keep serving; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class Listeners:
    """The claimed port: its listening sockets (one per worker) and the lock file that proves the claim."""

    host: str
    port: int
    sockets: tuple[socket.socket, ...]
    lock_path: Path


def runtime_dir() -> Path:
    """Where port locks live: `$XDG_RUNTIME_DIR/wealthgate`, else `<tmp>/wealthgate-<uid>` (mode 700)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    path = Path(base) / "wealthgate" if base else Path(tempfile.gettempdir()) / f"wealthgate-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _address(
    host: str, port: int
) -> tuple[socket.AddressFamily, tuple[str, int] | tuple[str, int, int, int]]:
    try:
        family, _kind, _proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise CannotServe(f"cannot listen on {host}: {exc.strerror}") from None
    return family, address  # type: ignore[return-value]


def _lock(port: int) -> tuple[int, Path]:
    path = runtime_dir() / f"port-{port}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise CannotServe(
            f"port {port} is already served by another wealthgate (pid {holder}; lock {path})"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd, path


def _busy(host: str, port: int, exc: OSError) -> CannotServe:
    if exc.errno == errno.EADDRINUSE:
        return CannotServe(f"port {port} on {host} is in use by another process: choose another with --port")
    return CannotServe(f"cannot listen on {host}:{port}: {exc.strerror}")


def _probe(host: str, port: int) -> None:
    """A plain bind: fails if anything listens on the port, with or without SO_REUSEPORT."""
    family, address = _address(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT leftover is no conflict
        try:
            probe.bind(address)
            probe.listen(1)  # SO_REUSEADDR lets bound-but-idle sockets pair up; a listening one never does
        except OSError as exc:
            raise _busy(host, port, exc) from None


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family, address = _address(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise _busy(host, port, exc) from None
    return sock


@contextlib.contextmanager
def claim(host: str, port: int, workers: int) -> Iterator[Listeners]:
    """Lock, probe and bind the port for `workers` processes; released (sockets closed, lock dropped) on exit.

    Port 0: the kernel picks a free port for the first socket (nothing listens on it, so no probe), the
    lock is taken for that port and the other workers' sockets join it; `Listeners.port` is the one picked.

    Raises CannotServe with one line when the port is taken."""
    sockets: list[socket.socket] = []
    fd = -1
    try:
        if port == 0:
            sockets.append(_bind(host, 0, reuse_port=workers > 1))
            port = int(sockets[0].getsockname()[1])
            fd, lock_path = _lock(port)
        else:
            fd, lock_path = _lock(port)
            _probe(host, port)
        while len(sockets) < workers:
            sockets.append(_bind(host, port, reuse_port=workers > 1))
        yield Listeners(host, port, tuple(sockets), lock_path)
    finally:
        for sock in sockets:
            sock.close()
        if fd >= 0:
            os.close(fd)  # releases the flock; the file stays (removing it would race a waiting claimant)
