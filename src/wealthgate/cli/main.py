"""`wealthgate`: run the service, migrate, manage keys, load demo and synthetic data."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
import typer

from wealthgate import __version__
from wealthgate.api.listeners import CannotServe, Listeners, claim
from wealthgate.audit import keyring
from wealthgate.cli.audit import audit_app
from wealthgate.cli.common import clean_errors, connection, fail, migrate, operator, run_db
from wealthgate.cli.people import advisors_app, firms_app, users_app
from wealthgate.cli.policy import policy_app
from wealthgate.cli.tools import tools_app
from wealthgate.db.server import database_url
from wealthgate.demo.book import DEMO_PASSWORD
from wealthgate.observability import logs
from wealthgate.settings import get_settings

app = typer.Typer(
    name="wealthgate",
    help="Audited, suitability-checked access to wealth data for AI agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(advisors_app, name="advisors")
app.add_typer(audit_app, name="audit")
app.add_typer(firms_app, name="firms")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(policy_app, name="policy")
app.add_typer(tools_app, name="tools")
app.add_typer(users_app, name="users")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"wealthgate {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    pass


T = TypeVar("T")
AGENT_SCOPES = ["clients:read", "recommendations:write"]


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from wealthgate.db.migrate import upgrade
    from wealthgate.db.pool import session_url

    with clean_errors(), database_url(get_settings()) as url:
        upgrade(session_url(get_settings(), url), revision)  # a session advisory lock: never via a pooler
        typer.echo(f"database at {revision}")


async def _create_key(
    url: str,
    firm: int,
    advisor: int | None,
    scopes: list[str],
    name: str,
    owner: str | None,
    user: str | None = None,
) -> str:
    """A new key's secret; with `user` (an email of the firm) the key acts for that person and is owned by
    them unless `owner` says otherwise."""
    from wealthgate.auth.principal import operator_actor
    from wealthgate.auth.service import create_key
    from wealthgate.firms.service import user_by_email

    async with connection(url) as conn:
        async with conn.transaction():
            person = None if user is None else await user_by_email(conn, firm, user)
            created = await create_key(
                conn,
                firm_id=firm,
                scopes=scopes,
                name=name,
                owner=owner or (person.email if person else name),
                advisor_id=advisor,
                actor=operator_actor(firm, operator()),
                user_id=person.id if person else None,
            )
        return created.secret_key


@keys_app.command("create")
def keys_create(
    firm: Annotated[int, typer.Option(help="The firm the key belongs to.")],
    scope: Annotated[list[str], typer.Option(help="A scope; repeat for several.")],
    advisor: Annotated[int | None, typer.Option(help="Limit the key to this advisor's clients.")] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "api key",
    owner: Annotated[str | None, typer.Option(help="Who holds the key (person or agent).")] = None,
    user: Annotated[
        str | None,
        typer.Option(help="The email of the firm's user the key acts for (needed to review with it)."),
    ] = None,
) -> None:
    """Create a key; the key itself is printed once, as the last line. A key that reviews recommendations
    must act for a compliance or admin user (--user EMAIL): the review then names that person."""
    with clean_errors():
        settings = get_settings()
        key = run_db(settings, lambda url: _create_key(url, firm, advisor, scope, name, owner, user))
        acting = f" acting for {user.strip().lower()}" if user else ""
        typer.echo(
            f"created key for firm {firm}{acting} with scopes {', '.join(sorted(set(scope)))};"
            " it is shown only once:"
        )
        typer.echo(key)


@keys_app.command("list")
def keys_list(firm: Annotated[int | None, typer.Option(help="Only this firm's keys.")] = None) -> None:
    """List keys (never their secrets)."""
    from rich.console import Console
    from rich.table import Table

    from wealthgate.auth.service import KeyInfo, list_keys

    async def work(url: str) -> list[KeyInfo]:
        async with connection(url) as conn:
            return list(await list_keys(conn, firm_id=firm))

    with clean_errors():
        rows = run_db(get_settings(), work)
        table = Table("id", "firm", "advisor", "name", "owner", "user", "scopes", "created", "revoked")
        for k in rows:
            table.add_row(
                str(k.key_id),
                str(k.firm_id),
                str(k.advisor_id or ""),
                k.name,
                k.owner,
                k.user_email or "",
                ",".join(k.scopes),
                k.created_at.isoformat(timespec="seconds"),
                k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "",
            )
        Console().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see `keys list`).")]) -> None:
    """Revoke a key. Running servers stop accepting it within WEALTHGATE_AUTH_CACHE_SECONDS."""
    from wealthgate.auth.principal import operator_actor
    from wealthgate.auth.service import revoke_key

    async def work(url: str) -> int:
        async with connection(url) as conn, conn.transaction():
            return await revoke_key(
                conn, key_id=key_id, actor_for_firm=lambda f: operator_actor(f, operator())
            )

    with clean_errors():
        firm = run_db(get_settings(), work)
        typer.echo(f"revoked key {key_id} of firm {firm}")


async def _load_demo(url: str) -> bool:
    from wealthgate.demo.load import load_demo_book

    async with connection(url) as conn, conn.transaction():
        return await load_demo_book(conn, operator=operator())


class _Stop(Exception):
    """SIGTERM/SIGINT after uvicorn has shut down: leave normally so the embedded server is released."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


@contextmanager
def _serving_errors() -> Iterator[None]:
    """A port that is taken, or workers that cannot start: one line and exit 1."""
    try:
        yield
    except CannotServe as exc:
        fail(str(exc))


def _serve(url: str, listeners: Listeners, access_log: bool) -> None:
    from wealthgate.api.server import ServeOptions, serve

    os.environ["DATABASE_URL"] = url  # workers attach to this database instead of starting their own
    get_settings.cache_clear()
    # uvicorn captures these while serving and re-raises them once it has stopped; with the default
    # handlers that would kill the process before the embedded PostgreSQL is released.
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)  # the supervisor's own lines, as the workers'
    workers = len(listeners.sockets)
    options = ServeOptions(listeners.host, listeners.port, workers, access_log, settings.log_level)
    with suppress(_Stop):
        serve(options, listeners)


@app.command("import")
def import_file(
    kind: Annotated[
        str, typer.Argument(help="clients, accounts, securities, prices, transactions or positions.")
    ],
    file: Annotated[Path, typer.Argument(help="A CSV file with a header row.")],
    firm: Annotated[int, typer.Option(help="The firm the rows belong to.")] = 1,
    partial: Annotated[bool, typer.Option(help="Commit the good rows and report the bad ones.")] = False,
) -> None:
    """Import a CSV file; a bad row is reported with its line number, and without --partial nothing is stored.
    Re-running the same file adds nothing."""
    from rich.progress import Progress

    from wealthgate.ledger.importing import ImportResult, import_csv, read_csv

    async def work(url: str) -> ImportResult:
        async with connection(url) as conn:
            with read_csv(file) as handle, Progress(transient=True) as progress:  # UTF-8, BOM or not
                rows = sum(1 for _ in handle) - 1
                handle.seek(0)
                task = progress.add_task(f"importing {kind}", total=max(rows, 0))
                return await import_csv(
                    conn,
                    kind,
                    handle,
                    firm_id=firm,
                    operator=operator(),
                    partial=partial,
                    on_row=lambda: progress.advance(task),
                )

    with clean_errors():
        result = run_db(get_settings(), work)
        for line, column, message in result.errors:
            typer.echo(f"line {line}: {column + ': ' if column else ''}{message}", err=True)
        state = "committed" if result.committed else "nothing stored"
        typer.echo(
            f"{kind}: {result.rows} rows, {result.added} added, {result.unchanged} already there, "
            f"{len(result.errors)} rejected; {state}"
        )
        if result.errors and not result.committed:
            raise typer.Exit(1)


Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: a free one, logged when serving).")]


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (use the core count).")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Claim the port, migrate, then serve the API (PostgreSQL embedded unless DATABASE_URL is set; a busy
    port is one line and exit 1: docs/serving.md). Needs the audit keyring
    (`wealthgate audit keys init`, or WEALTHGATE_AUDIT_KEYRING_FILE / WEALTHGATE_AUDIT_KEYRING)."""
    with clean_errors():
        keyring.load(get_settings())  # before anything starts: a missing keyring is one line
    # The port is claimed first (a busy one fails at once, before the database starts) and held until exit.
    with (
        clean_errors(),
        _serving_errors(),
        claim(host, port, workers) as listeners,
        database_url(get_settings()) as url,
    ):
        migrate(url)
        _serve(url, listeners, access_log)


@app.command()
def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Migrate, load the demo book if the database is empty, print a fresh agent key, serve. The first run
    creates the audit keyring if there is none (the only command that creates keys without being asked)."""
    with clean_errors():
        settings = get_settings()
        if not keyring.exists(settings):
            keyring.save(keyring.generate(), settings.keyring_path)
            typer.echo(f"created the audit keyring at {settings.keyring_path}")
    with (
        clean_errors(),
        _serving_errors(),
        claim(host, port, workers) as listeners,
        database_url(get_settings()) as url,
    ):
        migrate(url)
        loaded = asyncio.run(_load_demo(url))
        typer.echo("demo book loaded" if loaded else "database already holds data; demo book not reloaded")
        key = asyncio.run(_create_key(url, 1, None, AGENT_SCOPES, "demo agent", "demo-agent"))
        base = f"http://{host}:{listeners.port}"
        typer.echo(f"API docs: {base}/docs")
        typer.echo(
            f"Console: {base}/console/ (demo users, e.g. compliance@demo.wealthgate.test,"
            f" password {DEMO_PASSWORD}: demo data only)"
        )
        typer.echo(f"WEALTHGATE_API_KEY={key}")
        sys.stdout.flush()
        _serve(url, listeners, True)


@app.command("mcp")
def mcp_stdio(
    url: Annotated[
        str | None,
        typer.Option(envvar="WEALTHGATE_URL", help="A running wealthgate server; default: run in-process."),
    ] = None,
) -> None:
    """Serve the agent tools over MCP on stdio (Claude Desktop and other MCP clients), acting with the key in
    WEALTHGATE_API_KEY. Standard output carries only the protocol; see docs/mcp.md."""
    from wealthgate.mcp import stdio

    with clean_errors(), stdio.protocol_wire() as wire:
        try:
            key = stdio.api_key()
            if url:
                stdio.run(stdio.proxy(url, key, wire))
                return
            settings = get_settings()
            with database_url(settings) as db:
                migrate(db)
                stdio.run(stdio.in_process(settings.model_copy(update={"database_url": db}), key, wire))
        except stdio.Refused as exc:
            fail(str(exc))


@app.command("demo-data")
def demo_data(
    clients: Annotated[
        int, typer.Option(min=0, max=10_000_000, help="Synthetic clients wanted in total.")
    ] = 1000,
    positions_per_client: Annotated[int, typer.Option(min=0, help="Positions per client.")] = 20,
    transactions_per_client: Annotated[int, typer.Option(min=0, help="Transactions per client.")] = 25,
    firm: Annotated[int, typer.Option(help="Firm to add them to.")] = 1,
) -> None:
    """Add a deterministic synthetic book (for benchmarks); re-running adds only what is missing."""
    from rich.progress import Progress

    from wealthgate.demo.synthetic import SyntheticResult, add_synthetic_book

    async def work(url: str) -> SyntheticResult:
        async with connection(url) as conn:
            await _load_demo_if_empty(conn)
            with Progress(transient=False) as progress:
                task = progress.add_task("synthetic clients", total=clients)
                return await add_synthetic_book(
                    conn,
                    firm_id=firm,
                    clients=clients,
                    positions_per_client=positions_per_client,
                    transactions_per_client=transactions_per_client,
                    on_progress=lambda n: progress.advance(task, n),
                )

    with clean_errors(), database_url(get_settings()) as url:
        migrate(url)
        result = asyncio.run(work(url))
        typer.echo(str(result))


async def _load_demo_if_empty(conn: asyncpg.Connection) -> None:
    from wealthgate.demo.load import load_demo_book

    async with conn.transaction():
        await load_demo_book(conn, operator=operator())


if __name__ == "__main__":  # pragma: no cover
    app()
