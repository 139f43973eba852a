"""What every command shares: one-line failures, the operator's name, running async work on the database."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import asyncpg
import typer

from wealthgate.audit import keyring, registry
from wealthgate.db.server import database_url
from wealthgate.errors import DomainError
from wealthgate.settings import Settings, SettingsError, get_settings

T = TypeVar("T")
BAD_SETTING = 2  # the exit code of a bad setting, as of a bad command line: the operator's input to fix


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def clean_errors() -> Iterator[None]:
    """Every failure is one clear line on stderr and a non-zero exit, never a traceback. A bad setting is a
    line per variable (its name, what it accepts, what it got) and exit 2."""
    try:
        yield
    except typer.Exit:
        raise
    except SettingsError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(BAD_SETTING) from None
    except DomainError as exc:
        fail(exc.detail)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as exc:  # the CLI's last line of defence: name the failure, hide the trace
        fail(f"{type(exc).__name__}: {exc}".splitlines()[0])


def operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@asynccontextmanager
async def connection(url: str) -> AsyncIterator[asyncpg.Connection]:
    """One connection for a command's work, closed however the work ends: the one way the CLI connects."""
    from wealthgate.db.pool import connect

    conn = await connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def check_keyring(settings: Settings, url: str) -> None:
    """A command that writes audit events must hold the deployment's registered keyring (audit/registry.py);
    another one is refused with one line. Without a keyring nothing is checked: read-only commands work, and
    the first audited write fails with one line naming the setting."""
    if not keyring.exists(settings):
        return
    ring = keyring.load(settings)
    async with connection(url) as conn:
        try:
            await registry.ensure(conn, ring)
        except asyncpg.UndefinedTableError:  # a database not migrated yet: nothing to check against
            return
    keyring.install(ring)


def run_db(settings: Settings, work: Callable[[str], Coroutine[Any, Any, T]]) -> T:
    """Run async CLI work against the configured database (the embedded one is started if needed)."""

    async def checked(url: str) -> T:
        await check_keyring(settings, url)
        return await work(url)

    from wealthgate.db.pool import session_url

    with database_url(settings) as url:
        # the CLI's connection caches statements and may hold session locks: never through a pooler
        return asyncio.run(checked(session_url(settings, url)))


def migrate(url: str) -> None:
    from wealthgate.db.migrate import upgrade
    from wealthgate.db.pool import session_url

    url = session_url(get_settings(), url)  # migrations hold a session advisory lock: never through a pooler
    upgrade(url)
    asyncio.run(check_keyring(get_settings(), url))
