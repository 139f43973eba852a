"""`wealthgate tools export --format openai|anthropic|mcp|wealthgate [--scope S ...]`: the tool schemas."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from wealthgate.api.tool_calls import REGISTRY
from wealthgate.tools.schemas import FORMATS, render
from wealthgate.vocabulary import AGENT_SCOPES, SCOPES

tools_app = typer.Typer(
    help="The agent tool registry: export its function-calling schemas.", no_args_is_help=True
)


@tools_app.command("export")
def tools_export(
    format: Annotated[str, typer.Option(help=f"One of {', '.join(FORMATS)}.")] = "openai",
    scope: Annotated[
        list[str] | None, typer.Option(help="The key's scopes (repeatable); default: an agent's.")
    ] = None,
) -> None:
    """Print the tools a key with these scopes may use, as JSON, in the chosen schema format."""
    held = scope or list(AGENT_SCOPES)
    if bad := [s for s in held if s not in SCOPES]:
        typer.echo(f"error: unknown scope {bad[0]!r}; scopes: {', '.join(SCOPES)}", err=True)
        raise typer.Exit(2)
    if format not in FORMATS:
        typer.echo(f"error: format must be one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    typer.echo(json.dumps(render(REGISTRY.visible_to(held), format), indent=2))
