"""A real streaming replica for tests: an embedded primary of the test's own, migrated and loaded with the
demo book, and a hot standby built from it with the embedded PostgreSQL's own binaries (`pg_basebackup -R`,
then `pg_ctl start` on a socket directory of its own). Run as root, both servers run as the `pgserver`
system user that owns the primary's data directory (../shared/NOTES-embedded-postgres.md)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from tests.support import fetchval, load_demo, with_conn
from wealthgate.audit import keyring
from wealthgate.db import urls
from wealthgate.db.embedded import EmbeddedPostgres
from wealthgate.db.migrate import upgrade
from wealthgate.db.replicas import PRIMARY_POSITION
from wealthgate.db.server import EMBEDDED_DBNAME, ensure_database

PORT = "5432"  # both servers use it: their socket directories tell them apart


def _owner_of(path: Path) -> str:
    return pwd.getpwuid(path.stat().st_uid).pw_name


def _as_owner(owner: str, *argv: str | Path) -> list[str]:
    """`argv` run as `owner` (the servers' user) when we are root and it is someone else."""
    command = [str(a) for a in argv]
    if os.geteuid() == 0 and owner != "root":
        return ["runuser", "-u", owner, "--", *command]
    return command


@dataclass
class Replication:
    """`primary_url` and `standby_url` name the same database on the two servers."""

    root: Path
    primary: EmbeddedPostgres
    primary_url: str
    standby_dir: Path
    standby_socket: Path
    standby_url: str

    @property
    def owner(self) -> str:
        return _owner_of(self.primary.pgdata)

    def _run(self, *argv: str | Path) -> None:
        bin_dir = self.primary.bin_dir()
        command = _as_owner(self.owner, bin_dir / str(argv[0]), *argv[1:])
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")

    def start_standby(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            self.standby_dir,
            "-o",
            f"-h '' -k {self.standby_socket} -p {PORT}",
            "-l",
            self.standby_dir.parent / "standby.log",
            "-w",
            "start",
        )

    def stop_standby(self) -> None:
        self._run("pg_ctl", "-D", self.standby_dir, "-m", "fast", "-w", "stop")

    def stop_primary(self) -> None:
        self._run("pg_ctl", "-D", self.primary.pgdata, "-m", "fast", "-w", "stop")

    def start_primary(self) -> None:
        """Start the primary again as the embedded server runs it (Unix socket in its data directory only)."""
        pgdata = self.primary.pgdata
        log = self.standby_dir.parent / "primary.log"
        self._run("pg_ctl", "-D", pgdata, "-o", f"-h '' -k {pgdata}", "-l", log, "-w", "start")

    def pause_replay(self) -> None:
        fetchval(self.standby_url, "SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        fetchval(self.standby_url, "SELECT pg_wal_replay_resume()")

    def wait_replayed(self) -> None:
        """Until the standby has replayed everything the primary has written so far (a bounded wait)."""

        target = int(fetchval(self.primary_url, PRIMARY_POSITION))

        async def replayed(conn: asyncpg.Connection) -> None:
            query = "SELECT (pg_last_wal_replay_lsn() - '0/0')::bigint >= $1"
            for _ in range(2000):
                if await conn.fetchval(query, target):
                    return
                await conn.execute("SELECT pg_sleep(0.005)")
            raise AssertionError("the standby did not catch up within 10 s")

        with_conn(self.standby_url, replayed)

    def close(self) -> None:
        for stop in (self.stop_standby, self.stop_primary, self.primary.stop):
            with contextlib.suppress(Exception):  # already stopped by the test
                stop()


SOCKET_PATH_MAX = 107  # bytes of a Unix socket's path (sun_path), on Linux


def build(root: Path) -> Replication:
    """A primary in `root/primary` with the demo book, and its standby in `root/standby`, both running. Each
    server's socket lives under `root`: a root too deep is refused here, by name, rather than by the server
    or pg_basebackup further on (use a short directory such as `tmp_path_factory.mktemp(...)`)."""
    deepest = root / "primary" / "pgdata" / f".s.PGSQL.{PORT}"
    if len(os.fsencode(deepest)) > SOCKET_PATH_MAX:
        raise ValueError(
            f"{root} is too deep for the servers' Unix sockets (at most {SOCKET_PATH_MAX} bytes)"
        )
    root.mkdir(parents=True, exist_ok=True)
    primary = EmbeddedPostgres(root / "primary" / "pgdata")
    ensure_database(primary.url, EMBEDDED_DBNAME)
    primary_url = primary.url_for(EMBEDDED_DBNAME)
    upgrade(primary_url)
    load_demo(primary_url, keyring.installed(), operator="pytest")
    return attach(root, primary, primary_url)


def attach(root: Path, primary: EmbeddedPostgres, primary_url: str) -> Replication:
    """A hot standby of the running `primary` in `root/standby` (a base backup taken now), started."""
    owner = _owner_of(primary.pgdata)
    root.chmod(0o755)  # the servers' user must reach the standby's directories (a temporary one is 0700)
    standby_dir, socket = root / "standby" / "pgdata", root / "standby" / "socket"
    for made in (standby_dir, socket):
        made.mkdir(parents=True, mode=0o700)
        shutil.chown(made, owner, owner)
        shutil.chown(made.parent, owner, owner)
    dbname = urlsplit(primary_url).path.lstrip("/")
    replication = Replication(
        root=root,
        primary=primary,
        primary_url=primary_url,
        standby_dir=standby_dir,
        standby_socket=socket,
        standby_url=urls.with_database(f"postgresql://postgres@/postgres?host={socket}", dbname),
    )
    replication._run(
        "pg_basebackup", "-h", primary.pgdata, "-p", PORT, "-U", "postgres", "-D", standby_dir, "-R", "-X",
        "stream", "-c", "fast",
    )  # fmt: skip
    replication.start_standby()
    return replication
