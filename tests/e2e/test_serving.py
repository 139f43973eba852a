"""Serving that fails safe: a taken port is one line and exit 1 for any worker count, a second instance never
joins a port, workers that cannot start are not restarted in a loop, a crashed worker is replaced, SIGTERM
drains the requests in flight, and the workers share a Prometheus multiprocess directory."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from tests.e2e.process import WEALTHGATE, Server, env, free_port
from tests.support import make_key
from wealthgate.api import server
from wealthgate.db import urls

pytestmark = pytest.mark.e2e

HANG_GUARD = 180  # seconds: only against a command that never returns (the old supervisor looped forever)


def run(*args: str, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WEALTHGATE, *args],
        env=env(**overrides),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )


def until(condition: object, what: str, timeout: float = 30) -> None:
    """Poll `condition` (a callable) until it holds; fail naming `what` if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def workers(server_: Server) -> list[psutil.Process]:
    """The serving parent's worker processes (those listening on a socket)."""
    return [
        child
        for child in psutil.Process(server_.proc.pid).children()
        if any(c.status == psutil.CONN_LISTEN for c in child.net_connections("tcp"))
    ]


def started_count(server_: Server) -> int:
    """How many workers of `server_` have completed their start-up (uvicorn's line, once per worker)."""
    return sum("Application startup complete" in line for line in server_.output)


@pytest.fixture
def serving(db_url: str) -> Iterator[tuple[Server, str]]:
    """`wealthgate serve --workers 2` on a free port of the test's database; stopped after the test."""
    port = free_port()
    started = Server("serve", "--port", str(port), "--workers", "2", "--no-access-log", DATABASE_URL=db_url)
    base = f"http://127.0.0.1:{port}"
    try:
        started.wait_healthy(base)
        until(lambda: len(workers(started)) == 2, "two workers listening")
        # A spawned worker holds its socket before its lifespan has run: wait until both have started, or a
        # test could kill one mid start-up (a start-up death, which the supervisor rightly treats otherwise).
        until(lambda: started_count(started) == 2, "both workers started", timeout=HANG_GUARD)
        yield started, base
    finally:
        started.stop()


@pytest.mark.parametrize("holder_reuses_port", [False, True], ids=["plain-listener", "reuseport-listener"])
@pytest.mark.parametrize("count", ["1", "2"])
def test_a_busy_port_is_one_line_and_exit_1(count: str, holder_reuses_port: bool, empty_db_url: str) -> None:
    """Before: with --workers 2 the supervisor restarted workers forever; a SO_REUSEPORT holder (an old
    multi-worker wealthgate) was joined silently."""
    with socket.socket() as holder:
        if holder_reuses_port:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run("serve", "--port", str(port), "--workers", count, DATABASE_URL=empty_db_url)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: port {port} on 127.0.0.1 is in use by another process: choose another with --port"
    ]


def test_a_second_instance_is_refused_and_the_first_keeps_serving(
    serving: tuple[Server, str], db_url: str, tmp_path: Path
) -> None:
    first, base = serving
    port = base.rsplit(":", 1)[1]
    for args in (["--workers", "2"], ["--workers", "1"], ["--workers", "2", "--host", "0.0.0.0"]):  # noqa: S104
        second = run("serve", "--port", port, *args, DATABASE_URL=db_url)
        assert second.returncode == 1, args
        assert len(second.stderr.splitlines()) == 1, second.stderr
        assert second.stderr.startswith(
            f"error: port {port} is already served by another wealthgate (pid {first.proc.pid};"
        )
    # Without the lock (another runtime directory: a container with its own /tmp) the probe still refuses.
    blind = run("serve", "--port", port, "--workers", "2", DATABASE_URL=db_url, XDG_RUNTIME_DIR=str(tmp_path))
    assert blind.returncode == 1
    assert blind.stderr.splitlines() == [
        f"error: port {port} on 127.0.0.1 is in use by another process: choose another with --port"
    ]
    listening = {p.pid for p in psutil.process_iter() if _listens(p, int(port))}
    assert listening == {first.proc.pid, *(w.pid for w in workers(first))}
    assert httpx.get(f"{base}/healthz").status_code == 200


def test_port_0_serves_on_a_free_port_it_names_and_holds(db_url: str) -> None:
    """`--port 0`: the kernel picks the port, every worker listens on that one, the log names it, and the
    claim holds it (a second instance on it is refused, as on any port). Before: not supported."""
    started = Server("serve", "--port", "0", "--workers", "2", "--no-access-log", DATABASE_URL=db_url)
    try:
        until(
            lambda: any("serving on http://127.0.0.1:" in line for line in started.output), "the port named"
        )
        line = next(line for line in started.output if "serving on http://127.0.0.1:" in line)
        port = int(re.search(r"serving on http://127\.0\.0\.1:(\d+)", line).group(1))  # type: ignore[union-attr]
        assert port > 0
        base = f"http://127.0.0.1:{port}"
        started.wait_healthy(base)
        until(lambda: len(workers(started)) == 2, "two workers listening")
        assert all(_listens(w, port) for w in workers(started))
        second = run("serve", "--port", str(port), "--workers", "1", DATABASE_URL=db_url)
        assert second.returncode == 1
        assert second.stderr.startswith(f"error: port {port} is already served by another wealthgate")
    finally:
        started.stop()


def _listens(process: psutil.Process, port: int) -> bool:
    try:
        return any(c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in process.net_connections())
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        return False


@pytest.mark.parametrize("count", ["1", "2"])
def test_workers_that_cannot_start_are_not_restarted_in_a_loop(
    count: str, db_url: str, tmp_path: Path
) -> None:
    """A start-up failure only the workers meet (their lifespan refuses a witness inside the database
    directory): the service stops with one line naming it, instead of restarting workers forever."""
    home = tmp_path / "home"
    result = run(
        "serve",
        "--port",
        str(free_port()),
        "--workers",
        count,
        DATABASE_URL=db_url,
        WEALTHGATE_HOME=str(home),
        WEALTHGATE_AUDIT_WITNESS_DIR=str(home / "pgdata" / "witness"),
    )
    assert result.returncode == 1, result.stderr
    last = result.stderr.splitlines()[-1]
    if count == "1":
        assert last == "error: the application failed to start (exit code 3); see the log above"
    else:
        assert last.startswith("error: workers exited during start-up 3 times in a row (last exit code 3)")
        deaths = [line for line in result.stderr.splitlines() if "exited with code 3 during start-up" in line]
        assert len(deaths) == 3, result.stderr
    assert "lies inside the database directory" in result.stderr  # the workers' own log says why


def test_a_crashed_worker_is_replaced_on_its_socket_and_its_metrics_marked_dead(
    serving: tuple[Server, str],
) -> None:
    first, base = serving
    victim, other = workers(first)
    metrics = Path(victim.environ()["PROMETHEUS_MULTIPROC_DIR"])
    assert metrics.is_dir()
    assert other.environ()["PROMETHEUS_MULTIPROC_DIR"] == str(metrics)
    live_gauge = metrics / f"gauge_livesum_{victim.pid}.db"  # what a worker's live gauge leaves behind
    live_gauge.write_bytes(b"")
    victim.kill()
    until(lambda: not live_gauge.exists(), "the dead worker's live gauge removed (mark_process_dead)")
    until(
        lambda: len(workers(first)) == 2 and victim.pid not in {w.pid for w in workers(first)},
        "a replacement worker on the dead one's socket",
    )
    until(lambda: started_count(first) == 3, "the replacement worker started", timeout=HANG_GUARD)
    crash = f"worker {victim.pid} exited with code -9; starting another on its socket"
    assert any(crash in line for line in first.output), "".join(first.output)  # a crash, not a start-up death
    for _ in range(20):  # both sockets are served again: none of these lands on a dead socket
        with httpx.Client() as client:
            assert client.get(f"{base}/healthz").status_code == 200
    assert first.stop() == 0
    assert not metrics.exists(), "the supervisor's own directory is removed at exit"


def test_an_operators_metrics_directory_is_used_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "metrics"
    monkeypatch.setenv(server.MULTIPROC_ENV, str(mine))
    with server.metrics_dir() as path:
        assert path == mine
        assert mine.is_dir()
    assert mine.is_dir()
    assert os.environ[server.MULTIPROC_ENV] == str(mine)
    monkeypatch.delenv(server.MULTIPROC_ENV)
    with server.metrics_dir() as path:
        assert os.environ[server.MULTIPROC_ENV] == str(path)
        assert path.is_dir()
        assert not any(path.iterdir()), "fresh and empty"
    assert not path.exists()
    assert server.MULTIPROC_ENV not in os.environ


def test_sigterm_drains_a_request_in_flight_then_refuses_connections(
    serving: tuple[Server, str], db_url: str
) -> None:
    first, base = serving
    port = int(base.rsplit(":", 1)[1])
    key = make_key(db_url, 1, ["clients:read"])
    answers: list[httpx.Response] = []
    with psycopg.connect(urls.plain(db_url)) as blocker:
        # Hold the clients table: the context read below waits on this lock, in flight, until it is released.
        blocker.execute("LOCK TABLE clients IN ACCESS EXCLUSIVE MODE")
        request = threading.Thread(
            target=lambda: answers.append(
                httpx.get(f"{base}/clients/1/context", headers={"X-API-Key": key}, timeout=HANG_GUARD)
            )
        )
        request.start()
        with psycopg.connect(urls.plain(db_url), autocommit=True) as watcher:
            until(
                lambda: (
                    watcher.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock' AND query LIKE '%clients%'"
                    ).fetchone()
                    == (1,)
                ),
                "the request waiting on the clients lock",
            )
        first.proc.send_signal(signal.SIGTERM)
        until(lambda: _refused(port), "new connections refused after SIGTERM")
        assert answers == [], "the request is still in flight"
        blocker.rollback()  # release the table
        request.join(HANG_GUARD)
    assert len(answers) == 1
    assert answers[0].status_code == 200
    assert answers[0].json()["client"]["name"] == "Alice Chen"
    assert first.proc.wait(HANG_GUARD) == 0


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
