"""`wealthgate policy import FILE.yaml` / `export`: the firm's suitability policy as a reviewable file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from wealthgate.cli.common import clean_errors, connection, operator, run_db

policy_app = typer.Typer(
    help="The firm's suitability policy: import (a new version), export.", no_args_is_help=True
)


@policy_app.command("import")
def policy_import(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="YAML (or JSON) policy document.")
    ],
    firm: Annotated[int, typer.Option(help="The firm whose policy this is.")],
    note: Annotated[str | None, typer.Option(help="Why it changed (kept in the audit trail).")] = None,
) -> None:
    """Validate the document and store it as the firm's next version, unless it equals the current one."""
    import yaml

    from wealthgate.auth.principal import operator_actor
    from wealthgate.errors import Invalid
    from wealthgate.settings import get_settings
    from wealthgate.suitability import policies

    async def work(url: str) -> tuple[policies.PolicyVersion, bool]:
        async with connection(url) as conn, conn.transaction():
            if not await conn.fetchval("SELECT 1 FROM firms WHERE id = $1", firm):
                raise Invalid(f"firm {firm} does not exist", field="firm")
            who = operator()
            return await policies.publish(
                conn, firm, content, actor=operator_actor(firm, who), created_by=who, note=note
            )

    with clean_errors():
        try:
            content: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise Invalid(f"{file} is not valid YAML: {str(exc).splitlines()[0]}") from exc
        if not isinstance(content, dict):
            raise Invalid(f"{file} must hold a mapping of policy settings")
        stored, created = run_db(get_settings(), work)
        state = "stored as" if created else "unchanged: already"
        typer.echo(f"policy {state} version {stored.version} of firm {firm} ({stored.content_hash})")


@policy_app.command("export")
def policy_export(
    firm: Annotated[int, typer.Option(help="The firm whose policy to export.")],
    version: Annotated[int | None, typer.Option(help="A past version (default: the current one).")] = None,
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Print the policy as YAML, headed by its version and content hash."""
    import yaml

    from wealthgate.settings import get_settings
    from wealthgate.suitability import policies

    async def work(url: str) -> policies.PolicyVersion:
        async with connection(url) as conn:
            if version is None:
                return await policies.current(conn, firm)
            return await policies.by_version(conn, firm, version)

    with clean_errors():
        found = run_db(get_settings(), work)
        text = (
            f"# wealthgate policy of firm {firm}: version {found.version}, {found.content_hash}\n"
            + yaml.safe_dump(found.content, sort_keys=True, allow_unicode=True)
        )
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            typer.echo(text, nl=False)
