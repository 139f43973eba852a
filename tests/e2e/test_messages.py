"""What an operator sees from the real `wealthgate` when the configuration is wrong: a bad setting is one line
naming the variable (exit 2); a database that cannot be reached is one line naming the host and the setting,
never the password (exit 1), from the CLI and from `serve`; and the same from the service's own start."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.e2e.process import cli, free_port
from wealthgate.api.app import create_app
from wealthgate.db.pool import connect, create_pool
from wealthgate.db.reach import DatabaseUnreachable, unreachable, where
from wealthgate.settings import Settings

pytestmark = pytest.mark.e2e

PASSWORD = "S3cret-Pw_9"  # noqa: S105  (a password that must never be printed)


def closed_url(setting_password: str = PASSWORD) -> tuple[str, int]:
    port = free_port()  # free a moment ago: nothing listens there
    return f"postgresql://app:{setting_password}@127.0.0.1:{port}/wealthgate", port


@pytest.mark.parametrize(
    "args", [("keys", "list"), ("db", "upgrade"), ("serve", "--port", "0")], ids=" ".join
)
def test_a_bad_setting_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    result = cli(*args, WEALTHGATE_DB_POOL_MAX="abc")
    assert result.returncode == 2
    assert result.stderr == "error: WEALTHGATE_DB_POOL_MAX: must be an integer between 1 and 50 (got 'abc')\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [("keys", "list"), ("db", "upgrade"), ("audit", "verify"), ("serve", "--port", "0")],
    ids=" ".join,
)
def test_an_unreachable_database_names_the_host_and_setting_not_the_password(args: tuple[str, ...]) -> None:
    url, port = closed_url()
    if args[0] == "serve":
        args = ("serve", "--port", str(free_port()))
    result = cli(*args, DATABASE_URL=url)
    assert result.returncode == 1, result.stderr
    line = f"error: cannot reach PostgreSQL at 127.0.0.1:{port} (DATABASE_URL): connection refused"
    assert line in result.stderr.splitlines()
    assert PASSWORD not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_the_other_name_of_the_setting_is_named_when_it_is_the_one_set() -> None:
    url, port = closed_url()
    result = cli("keys", "list", DATABASE_URL=None, WEALTHGATE_DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: cannot reach PostgreSQL at 127.0.0.1:{port} (WEALTHGATE_DATABASE_URL): connection refused\n"
    )


def test_the_service_start_names_the_host_not_the_password(tmp_path: Path) -> None:
    """A worker's start (the app's lifespan opening its pool) fails with the same line."""
    url, port = closed_url()
    settings = Settings(database_url=url, home=tmp_path, audit_checkpoint_seconds=0)
    with pytest.raises(DatabaseUnreachable) as refused, TestClient(create_app(settings)):
        pass
    assert (
        str(refused.value)
        == f"cannot reach PostgreSQL at 127.0.0.1:{port} (DATABASE_URL): connection refused"
    )
    assert refused.value.__cause__ is None  # the driver's exception (and the URL it may hold) is not chained


def test_the_pool_and_a_single_connection_say_the_same() -> None:
    url, port = closed_url()
    for opening in (connect(url), create_pool(url, min_size=1, max_size=1)):
        with pytest.raises(DatabaseUnreachable, match=rf"^cannot reach PostgreSQL at 127\.0\.0\.1:{port} "):
            asyncio.run(opening)  # type: ignore[arg-type]


def test_reasons_and_places_in_few_words() -> None:
    password = "p%40ss:word"  # noqa: S105  percent-encoded in the URL, printed decoded nowhere either
    url = f"postgresql://app:{password}@db.example/wg"
    assert where(url) == "db.example:5432"
    assert where("postgresql://u@[::1]:6543/wg") == "[::1]:6543"
    assert where("postgresql://u@h1:5432,h2/wg") == "h1:5432,h2:5432"
    assert where("postgresql://postgres:@/wg?host=/run/pg") == "socket /run/pg"
    found = unreachable(url, socket.gaierror(-2, "Name or service not known"))
    assert str(found) == "cannot reach PostgreSQL at db.example:5432 (DATABASE_URL): host not found"
    leaked = unreachable(url, OSError(f"odd failure mentioning p@ss:word and {password}"))
    assert "p@ss:word" not in str(leaked)
    assert password not in str(leaked)
    assert str(unreachable(url, TimeoutError())).endswith(": timed out")
