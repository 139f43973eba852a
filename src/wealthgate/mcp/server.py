"""One MCP server for every face: tools/list is computed per caller from the registry, tools/call goes through
the same `invoke` as REST `/tools/{name}`, so a tool answers, scopes, fails and is audited like its REST twin.

A face supplies two functions of the request context: `listing` (the caller's tools as `/tools?format=mcp`
entries) and `calling` (a tool call's `Result`). Over HTTP the caller is the request's API key, over stdio the
process's key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import cache
from typing import Any

import orjson
from mcp import types
from mcp.server import Server, ServerRequestContext

from wealthgate import __version__
from wealthgate.api.tool_calls import REGISTRY, Result
from wealthgate.tools.registry import Tool
from wealthgate.tools.schemas import render

Context = ServerRequestContext[Any, Any]
Listing = Callable[[Context], Awaitable[list[dict[str, Any]]]]
Calling = Callable[[Context, str, dict[str, Any]], Awaitable[Result]]

INSTRUCTIONS = (
    "wealthgate: audited, suitability-checked access to a wealth-management book. Only the tools your API "
    "key's scopes allow are listed. Figures are exact decimal strings: quote them as given. Every call is "
    "recorded in the firm's audit trail. Start with list_clients, then get_client_context."
)


@cache
def _entries() -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in render(REGISTRY, "mcp")}


def entries(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """The tools/list entries of `tools` (rendered once per process: the schemas do not change)."""
    rendered = _entries()
    return [rendered[t.name] for t in tools]


def _input_schema(name: str) -> Mapping[str, Any] | None:
    entry = _entries().get(name)
    return entry["inputSchema"] if entry else None


def answer(result: Result) -> types.CallToolResult:
    """The REST answer as a tool result: the body as structured content plus its JSON as text, or a tool
    error whose text is the problem's detail (what the REST problem+json says)."""
    if result.is_error:
        return types.CallToolResult(content=[types.TextContent(text=result.message)], is_error=True)
    return types.CallToolResult(
        content=[types.TextContent(text=orjson.dumps(result.body).decode())],
        structured_content=result.body,
    )


def build(listing: Listing, calling: Calling) -> Server[Any]:
    async def list_tools(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool.model_validate(e) for e in await listing(ctx)])

    async def call_tool(ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
        return answer(await calling(ctx, params.name, params.arguments or {}))

    return Server(
        "wealthgate",
        version=__version__,
        title="wealthgate",
        instructions=INSTRUCTIONS,
        # only for the 2026-07-28 Mcp-Param-* header check (none of our schemas uses it): without this the
        # SDK would run tools/list before every call to find the schema
        get_tool_input_schema=_input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
