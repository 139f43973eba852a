"""A real PgBouncer in transaction mode in front of one test database (tests/integration/test_pgbouncer.py).

PgBouncer refuses to run as root: as root it runs as the user that owns the embedded server (`pgserver`, see
../shared/NOTES-embedded-postgres.md), with its ini, log, pid file and socket in a temporary directory that
user owns (pytest's basetemp is mode 700, closed to it), and reaches the server over the server's own Unix
socket (or host and port for TEST_DATABASE_URL). It listens on a free port on 127.0.0.1 with
`auth_type = trust`: a test's choice, not a deployment's (docs/scaling.md).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg

BINARY_PATHS = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")
ADMIN_USER = "pgbouncer"  # the admin console's user (database `pgbouncer`)


def binary() -> str | None:
    """The pgbouncer binary, or None (`make pgbouncer` installs it with apt on Debian, as root)."""
    return shutil.which("pgbouncer") or next((p for p in BINARY_PATHS if os.access(p, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_address(url: str) -> tuple[str, int, str]:
    """(host or socket directory, port, database) of a libpq URL."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "/tmp"])[0]  # noqa: S108  (libpq's default socket dir)
    port = int(query.get("port", [str(parts.port or 5432)])[0])
    return host, port, parts.path.lstrip("/")


def ini(*, server: str, port: int, dbname: str, listen_port: int, workdir: Path, pool_size: int) -> str:
    """The configuration under test: transaction mode, a small pool, named statements dropped after each
    transaction (asyncpg's cursors use named statements; docs/scaling.md)."""
    return f"""\
[databases]
{dbname} = host={server} port={port} dbname={dbname}

[pgbouncer]
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 200
server_reset_query = DEALLOCATE ALL
server_reset_query_always = 1
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir = {workdir}
auth_type = trust
auth_file = {workdir}/userlist.txt
admin_users = {ADMIN_USER}
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
"""


@dataclass(frozen=True)
class Bouncer:
    """A running PgBouncer: `url(user)` reaches the database through it, `show(...)` asks its console."""

    port: int
    dbname: str
    workdir: Path

    def url(self, user: str) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{self.dbname}"

    def show(self, what: str) -> list[dict[str, Any]]:
        """`SHOW <what>` on the admin console (simple query protocol, as the console requires)."""
        with psycopg.connect(
            self.url(ADMIN_USER).replace(f"/{self.dbname}", "/pgbouncer"), autocommit=True
        ) as c:
            cur = c.execute(f"SHOW {what}", prepare=False)
            names = [d.name for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def log(self) -> str:
        path = self.workdir / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _run_as() -> str | None:
    """As root, the user that runs PgBouncer (it refuses root): the embedded server's owner."""
    if os.geteuid() != 0:
        return None
    for name in ("pgserver", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


def _ready(bouncer: Bouncer, process: subprocess.Popen[bytes]) -> None:
    """Wait for PgBouncer's "process up" line on its standard error (written once it listens), then keep
    draining that pipe so that its later log lines never block it."""
    assert process.stderr is not None
    for line in process.stderr:
        if b"process up" in line:
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return
    raise RuntimeError(f"pgbouncer exited with {process.wait()}:\n{bouncer.log()}")


@contextmanager
def running(server_url: str, users: list[str], *, pool_size: int = 2) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode in front of `server_url`'s database, for `users` (and the console)."""
    exe = binary()
    if exe is None:
        raise FileNotFoundError("pgbouncer")
    server, port, dbname = _server_address(server_url)
    workdir = Path(tempfile.mkdtemp(prefix="wg-pgbouncer-"))
    try:
        listen_port = _free_port()
        (workdir / "pgbouncer.ini").write_text(
            ini(
                server=server,
                port=port,
                dbname=dbname,
                listen_port=listen_port,
                workdir=workdir,
                pool_size=pool_size,
            )
        )
        (workdir / "userlist.txt").write_text("".join(f'"{u}" ""\n' for u in [*users, ADMIN_USER]))
        user = _run_as()
        command = [exe, str(workdir / "pgbouncer.ini")]
        if user is not None:
            owner = pwd.getpwnam(user)
            for path in (workdir, *workdir.iterdir()):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            command[1:1] = ["-u", user]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        bouncer = Bouncer(port=listen_port, dbname=dbname, workdir=workdir)
        try:
            _ready(bouncer, process)
            yield bouncer
        finally:
            process.send_signal(signal.SIGTERM)  # immediate shutdown: the test has closed its clients
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
