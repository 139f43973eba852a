"""The CLI contract: keys create/list/revoke, demo-data, embedded PostgreSQL, one-line errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.process import Server, cli, free_port
from tests.support import fetchval

pytestmark = pytest.mark.e2e


def test_keys_lifecycle_through_the_cli(db_url: str) -> None:
    made = cli(
        "keys",
        "create",
        "--firm",
        "1",
        "--advisor",
        "2",
        "--scope",
        "clients:read",
        "--name",
        "ops",
        DATABASE_URL=db_url,
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("wg_1_")
    key_id = key.split("_")[2]
    listed = cli("keys", "list", "--firm", "1", DATABASE_URL=db_url)
    assert listed.returncode == 0
    assert "ops" in listed.stdout
    assert key not in listed.stdout

    port = free_port()
    server = Server(
        "serve",
        "--port",
        str(port),
        "--no-access-log",
        DATABASE_URL=db_url,
        WEALTHGATE_AUTH_CACHE_SECONDS="0",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        server.wait_healthy(base)
        headers = {"X-API-Key": key}
        assert httpx.get(f"{base}/clients/21/context", headers=headers).status_code == 200
        assert (
            httpx.get(f"{base}/clients/1/context", headers=headers).status_code == 404
        )  # advisor 1's client
        revoked = cli("keys", "revoke", key_id, DATABASE_URL=db_url)
        assert revoked.returncode == 0, revoked.stderr
        assert httpx.get(f"{base}/clients/21/context", headers=headers).status_code == 401
    finally:
        assert server.stop() == 0
    assert fetchval(db_url, "SELECT count(*) FROM audit_events WHERE action LIKE 'api_key.%'") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--firm", "999", "--scope", "clients:read"], "firm 999 does not exist"),
        (["keys", "create", "--firm", "1", "--scope", "root"], "scopes must be chosen from"),
        (["keys", "create", "--firm", "1", "--advisor", "3", "--scope", "clients:read"], "advisor 3"),
        (["keys", "revoke", "424242"], "no active API key"),
    ],
)
def test_errors_are_one_clear_line(db_url: str, args: list[str], message: str) -> None:
    result = cli(*args, DATABASE_URL=db_url)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]


def test_a_bad_database_url_is_one_clear_line() -> None:
    result = cli("db", "upgrade", DATABASE_URL="mysql://nope")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: ValueError: DATABASE_URL must be a postgresql:// URL, got scheme mysql"
    ]


def test_embedded_postgres_without_database_url(tmp_path: Path) -> None:
    home = tmp_path / "home"
    upgraded = cli("db", "upgrade", WEALTHGATE_HOME=str(home), DATABASE_URL=None)
    assert upgraded.returncode == 0, upgraded.stderr
    pgdata = home / "pgdata"
    assert (pgdata / "PG_VERSION").read_text().strip() == "18"
    assert not (pgdata / "postmaster.pid").exists(), "the embedded server must stop when the command exits"

    small_book = (
        "demo-data",
        "--clients",
        "4",
        "--positions-per-client",
        "3",
        "--transactions-per-client",
        "5",
    )
    loaded = cli(*small_book, WEALTHGATE_HOME=str(home), DATABASE_URL=None)
    assert loaded.returncode == 0, loaded.stderr
    assert "added_clients=4" in loaded.stdout
    again = cli(*small_book, WEALTHGATE_HOME=str(home), DATABASE_URL=None)
    assert "added_clients=0" in again.stdout
    assert "existing_clients=4" in again.stdout

    made = cli(
        "keys",
        "create",
        "--firm",
        "1",
        "--scope",
        "clients:read",
        WEALTHGATE_HOME=str(home),
        DATABASE_URL=None,
    )
    assert made.returncode == 0, made.stderr
    port = free_port()
    server = Server("serve", "--port", str(port), WEALTHGATE_HOME=str(home), DATABASE_URL=None)
    try:
        server.wait_healthy(f"http://127.0.0.1:{port}")
        r = httpx.get(
            f"http://127.0.0.1:{port}/clients/1/context",
            headers={"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"},
        )
        assert r.json()["client"]["name"] == "Alice Chen"
    finally:
        assert server.stop() == 0
    assert not (pgdata / "postmaster.pid").exists()


def test_serve_with_several_workers_gives_each_its_own_socket_and_stops_cleanly(db_url: str) -> None:
    key = cli("keys", "create", "--firm", "1", "--scope", "clients:read", DATABASE_URL=db_url).stdout.split()[
        -1
    ]
    port = free_port()
    server = Server("serve", "--port", str(port), "--workers", "2", "--no-access-log", DATABASE_URL=db_url)
    try:
        base = f"http://127.0.0.1:{port}"
        server.wait_healthy(base)
        listeners = [
            child
            for child in psutil.Process(server.proc.pid).children(recursive=True)
            if any(
                c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in child.net_connections("tcp")
            )
        ]
        assert len(listeners) == 2, "each worker owns a listening socket (SO_REUSEPORT)"
        for _ in range(20):
            with httpx.Client() as client:
                assert client.get(f"{base}/clients/1/context", headers={"X-API-Key": key}).status_code == 200
    finally:
        assert server.stop() == 0
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in listeners)


def test_version_prints_the_package_version() -> None:
    from wealthgate import __version__

    result = cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wealthgate {__version__}\n"
