"""`wealthgate`: run the service, migrate, manage keys, load demo and synthetic data."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, nullcontext, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import asyncpg
import typer

from wealthgate.cli.policy import policy_app
from wealthgate.cli.tools import tools_app
from wealthgate.db.server import database_url
from wealthgate.errors import DomainError
from wealthgate.settings import Settings, get_settings

app = typer.Typer(
    name="wealthgate",
    help="Audited, suitability-checked access to wealth data for AI agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: verification.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(policy_app, name="policy")
app.add_typer(tools_app, name="tools")

T = TypeVar("T")
AGENT_SCOPES = ["clients:read", "recommendations:write"]


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def clean_errors() -> Iterator[None]:
    """Every failure is one clear line on stderr and a non-zero exit, never a traceback."""
    try:
        yield
    except typer.Exit:
        raise
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


def run_db(settings: Settings, work: Callable[[str], Coroutine[Any, Any, T]]) -> T:
    """Run async CLI work against the configured database (the embedded one is started if needed)."""
    with database_url(settings) as url:
        return asyncio.run(work(url))


def migrate(url: str) -> None:
    from wealthgate.db.migrate import upgrade

    upgrade(url)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from wealthgate.db.migrate import upgrade

    with clean_errors(), database_url(get_settings()) as url:
        upgrade(url, revision)
        typer.echo(f"database at {revision}")


async def _create_key(
    url: str, firm: int, advisor: int | None, scopes: list[str], name: str, owner: str
) -> str:
    from wealthgate.auth.principal import operator_actor
    from wealthgate.auth.service import create_key
    from wealthgate.db.pool import connect

    conn = await connect(url)
    try:
        async with conn.transaction():
            created = await create_key(
                conn,
                firm_id=firm,
                scopes=scopes,
                name=name,
                owner=owner,
                advisor_id=advisor,
                actor=operator_actor(firm, operator()),
            )
        return created.secret_key
    finally:
        await conn.close()


@keys_app.command("create")
def keys_create(
    firm: Annotated[int, typer.Option(help="The firm the key belongs to.")],
    scope: Annotated[list[str], typer.Option(help="A scope; repeat for several.")],
    advisor: Annotated[int | None, typer.Option(help="Limit the key to this advisor's clients.")] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "api key",
    owner: Annotated[str | None, typer.Option(help="Who holds the key (person or agent).")] = None,
) -> None:
    """Create a key; the key itself is printed once, as the last line."""
    with clean_errors():
        settings = get_settings()
        key = run_db(settings, lambda url: _create_key(url, firm, advisor, scope, name, owner or name))
        typer.echo(
            f"created key for firm {firm} with scopes {', '.join(sorted(set(scope)))}; it is shown only once:"
        )
        typer.echo(key)


@keys_app.command("list")
def keys_list(firm: Annotated[int | None, typer.Option(help="Only this firm's keys.")] = None) -> None:
    """List keys (never their secrets)."""
    from rich.console import Console
    from rich.table import Table

    from wealthgate.auth.service import KeyInfo, list_keys
    from wealthgate.db.pool import connect

    async def work(url: str) -> list[KeyInfo]:
        conn = await connect(url)
        try:
            return list(await list_keys(conn, firm_id=firm))
        finally:
            await conn.close()

    with clean_errors():
        rows = run_db(get_settings(), work)
        table = Table("id", "firm", "advisor", "name", "owner", "scopes", "created", "revoked")
        for k in rows:
            table.add_row(
                str(k.key_id),
                str(k.firm_id),
                str(k.advisor_id or ""),
                k.name,
                k.owner,
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
    from wealthgate.db.pool import connect

    async def work(url: str) -> int:
        conn = await connect(url)
        try:
            async with conn.transaction():
                return await revoke_key(
                    conn, key_id=key_id, actor_for_firm=lambda f: operator_actor(f, operator())
                )
        finally:
            await conn.close()

    with clean_errors():
        firm = run_db(get_settings(), work)
        typer.echo(f"revoked key {key_id} of firm {firm}")


async def _load_demo(url: str) -> bool:
    from wealthgate.db.pool import connect
    from wealthgate.demo.load import load_demo_book

    conn = await connect(url)
    try:
        async with conn.transaction():
            return await load_demo_book(conn, operator=operator())
    finally:
        await conn.close()


class _Stop(Exception):
    """SIGTERM/SIGINT after uvicorn has shut down: leave normally so the embedded server is released."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


def _serve(url: str, host: str, port: int, workers: int, access_log: bool) -> None:
    from wealthgate.api.server import ServeOptions, serve

    os.environ["DATABASE_URL"] = url  # workers attach to this database instead of starting their own
    get_settings.cache_clear()
    # uvicorn captures these while serving and re-raises them once it has stopped; with the default
    # handlers that would kill the process before the embedded PostgreSQL is released.
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    with suppress(_Stop):
        serve(ServeOptions(host, port, workers, access_log, get_settings().log_level))


@audit_app.command("verify")
def audit_verify(
    firm: Annotated[int | None, typer.Option(help="Only this firm's chains.")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only events at or after this time (ISO 8601).")
    ] = None,
) -> None:
    """Recompute every hash chain; exit 0 when intact, 1 with the first broken event otherwise."""
    from wealthgate.audit.signing import configured_public_key
    from wealthgate.audit.verify import Verification, verify
    from wealthgate.db.pool import connect

    async def work(url: str) -> Verification:
        conn = await connect(url)
        try:
            return await verify(
                conn, firm_id=firm, since=since.astimezone(UTC) if since else None, public_key=public_key
            )
        finally:
            await conn.close()

    with clean_errors():
        public_key = configured_public_key(get_settings())
        result = run_db(get_settings(), work)
        typer.echo(json.dumps(result.as_dict(), indent=2))
        if not result.ok:
            raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    firm: Annotated[int | None, typer.Option(help="Only this firm (default: every firm).")] = None,
) -> None:
    """Sign the current chain heads (Ed25519, key outside the database) and print each checkpoint as JSON,
    to keep where the database administrator cannot rewrite it."""
    from wealthgate.audit import checkpoints
    from wealthgate.audit.signing import load_or_create
    from wealthgate.db.pool import connect

    async def work(url: str) -> list[checkpoints.Checkpoint]:
        conn = await connect(url)
        try:
            if firm is not None:
                return [await checkpoints.create(conn, key, firm)]
            return await checkpoints.create_for_all_firms(conn, key)
        finally:
            await conn.close()

    with clean_errors():
        settings = get_settings()
        key = load_or_create(settings)
        made = run_db(settings, work)
        for checkpoint in made:
            typer.echo(json.dumps({**checkpoint.as_dict(), "public_key": checkpoints.public_key_hex(key)}))


@audit_app.command("export")
def audit_export(
    firm: Annotated[int, typer.Option(help="The firm whose trail to export.")],
    since: Annotated[datetime | None, typer.Option("--from", help="Events at or after this time.")] = None,
    until: Annotated[datetime | None, typer.Option("--to", help="Events before this time.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Every event with its hash and chain position, plus the signed checkpoints: verifiable offline with
    `wealthgate audit verify-export` or the standalone wealthgate/audit/offline.py."""
    from wealthgate.audit.export import FORMATS, export
    from wealthgate.audit.signing import load_or_create
    from wealthgate.db.pool import connect

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")

    async def work(url: str) -> int:
        conn = await connect(url)
        lines = 0
        try:
            with output.open("w", encoding="utf-8") if output else nullcontext(sys.stdout) as sink:
                async for line in export(
                    conn,
                    firm_id=firm,
                    since=since.astimezone(UTC) if since else None,
                    until=until.astimezone(UTC) if until else None,
                    fmt=fmt,
                    signing_key=key,
                ):
                    sink.write(line)
                    lines += 1
            return lines
        finally:
            await conn.close()

    with clean_errors():
        key = load_or_create(get_settings())
        written = run_db(get_settings(), work)
        if output:
            typer.echo(f"wrote {written} lines to {output}", err=True)


@audit_app.command("verify-export")
def audit_verify_export(
    file: Annotated[Path, typer.Argument(help="An export (JSON lines or CSV).")],
    public_key: Annotated[str | None, typer.Option(help="The Ed25519 public key you trust (hex).")] = None,
) -> None:
    """Verify an export on its own, without the database; exit 0 when intact, 1 otherwise."""
    from wealthgate.audit.offline import verify_export

    with clean_errors():
        with file.open(encoding="utf-8") as handle:
            report = verify_export(handle, public_key)
        typer.echo(json.dumps(report, indent=2))
        if not report["ok"]:
            raise typer.Exit(1)


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

    from wealthgate.db.pool import connect
    from wealthgate.ledger.importing import ImportResult, import_csv

    async def work(url: str) -> ImportResult:
        conn = await connect(url)
        try:
            with file.open(encoding="utf-8", newline="") as handle, Progress(transient=True) as progress:
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
        finally:
            await conn.close()

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
Port = Annotated[int, typer.Option(help="TCP port.")]


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (use the core count).")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Migrate, then serve the API (PostgreSQL embedded unless DATABASE_URL is set)."""
    with clean_errors(), database_url(get_settings()) as url:
        migrate(url)
        _serve(url, host, port, workers, access_log)


@app.command()
def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Migrate, load the demo book if the database is empty, print a fresh agent key, serve."""
    with clean_errors(), database_url(get_settings()) as url:
        migrate(url)
        loaded = asyncio.run(_load_demo(url))
        typer.echo("demo book loaded" if loaded else "database already holds data; demo book not reloaded")
        key = asyncio.run(_create_key(url, 1, None, AGENT_SCOPES, "demo agent", "demo-agent"))
        typer.echo(f"API docs: http://{host}:{port}/docs")
        typer.echo(f"WEALTHGATE_API_KEY={key}")
        sys.stdout.flush()
        _serve(url, host, port, workers, True)


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

    from wealthgate.db.pool import connect
    from wealthgate.demo.synthetic import SyntheticResult, add_synthetic_book

    async def work(url: str) -> SyntheticResult:
        conn = await connect(url)
        try:
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
        finally:
            await conn.close()

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
