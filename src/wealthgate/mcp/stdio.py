"""`wealthgate mcp`: the MCP server on stdio, for desktop agents that start a command (Claude Desktop, IDEs).

The key comes from WEALTHGATE_API_KEY (or the guide's FASTAPI_WEALTH_API_KEY). With a URL (WEALTHGATE_URL) the
tools are those of that running server, over its REST tool face (`GET /tools?format=mcp`, `POST
/tools/{name}`), which records the calls as face `rest` (and, as the proxy's claim, `client_face: mcp-stdio`);
without one the app runs in this process on the configured database and calls `invoke` directly (face
`mcp-stdio`, each call under a request id of its own). Standard input and output carry the protocol and
nothing else: from the start fd 1 points at stderr and fd 0 at the null device, and the protocol uses private
duplicates of the originals.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

import anyio
import httpx
from fastapi import FastAPI
from mcp.server import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_REQUEST

from wealthgate import __version__
from wealthgate.api.app import create_app
from wealthgate.api.routes.tools import FACE_HEADER
from wealthgate.api.tool_calls import Result, invoke, principal_of, visible
from wealthgate.mcp.server import Context, build, entries
from wealthgate.observability import logs
from wealthgate.settings import Settings, get_settings

KEY_VARIABLES = ("WEALTHGATE_API_KEY", "FASTAPI_WEALTH_API_KEY")
REVOKED = "the API key is invalid or revoked"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # one JSON-RPC message per line
# Names passed on to the server, which refuses and records an unknown one (an agent's made-up `getClient`);
# any other character (a slash, a space) or dots alone could make the name another path on the way: such a
# name is refused here, unrecorded.
FORWARDED = re.compile(r"[A-Za-z0-9_.-]{1,128}")


class Refused(Exception):
    """The server cannot start: no key, a refused key, or an unreachable URL. The message is for the user."""


def api_key(environ: dict[str, str] | None = None) -> str:
    environ = dict(os.environ) if environ is None else environ
    for name in KEY_VARIABLES:
        if value := environ.get(name, "").strip():
            return value
    raise Refused(f"set {KEY_VARIABLES[0]} to an API key (wg_...) for the MCP server to act with")


@dataclass(frozen=True, slots=True)
class Wire:
    """The process's original stdin and stdout, kept for the protocol alone."""

    stdin: int  # a file descriptor
    stdout: BinaryIO


@contextmanager
def protocol_wire() -> Iterator[Wire]:
    """Keep stdin and stdout for the protocol: take private duplicates, and meanwhile point fd 1 at stderr and
    fd 0 at the null device, so nothing else (logs, a child process, a stray print) touches the MCP stream."""
    sys.stdout.flush()
    stdin, stdout = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    try:
        with os.fdopen(stdout, "wb", closefd=False) as stream:
            yield Wire(stdin, stream)
    finally:
        sys.stdout.flush()
        os.dup2(stdout, 1)
        os.dup2(stdin, 0)
        os.close(stdout)
        os.close(stdin)


class _Lines:
    """stdin as lines read on the event loop rather than in a worker thread: cancelling the server (SIGTERM)
    then does not wait for a line that may never come."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        line = await self.reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


def _unauthorized(detail: str = REVOKED) -> Result:
    return Result(401, {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail})


async def _stdin(fd: int) -> Any:
    """Lines of `fd` for the SDK's stdio transport: on the event loop for a pipe (how MCP clients start us),
    else (a regular file) read in a worker thread, as the SDK does by default."""
    reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
    pipe = os.fdopen(os.dup(fd), "rb", buffering=0)
    try:
        await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    except (ValueError, OSError, NotImplementedError):
        return anyio.wrap_file(io.TextIOWrapper(pipe, encoding="utf-8", errors="replace"))
    return _Lines(reader)


async def _serve(server: Server[Any], wire: Wire) -> None:
    text = io.TextIOWrapper(wire.stdout, encoding="utf-8", newline="\n", write_through=True)
    async with stdio_server(stdin=await _stdin(wire.stdin), stdout=anyio.wrap_file(text)) as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def in_process(settings: Settings, key: str, wire: Wire) -> None:
    """Run the app here (its lifespan: pool, audit batching) and serve its tools for `key`."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # a refusal is raised after the lifespan: inside it, it would surface as an ExceptionGroup
        refused = await principal_of(app, key) is None
        if not refused:
            await _serve(tools_server(app, key), wire)
    if refused:
        raise Refused(REVOKED)


def tools_server(app: FastAPI, key: str) -> Server[Any]:
    """The MCP server of `app`'s tools for `key`, called in this process (face `mcp-stdio`); the app's
    lifespan must be running."""

    async def listing(ctx: Context) -> list[dict[str, Any]]:
        principal = await principal_of(app, key)
        if principal is None:
            raise MCPError(INVALID_REQUEST, REVOKED)
        return entries(visible(principal))

    async def calling(ctx: Context, name: str, arguments: dict[str, Any]) -> Result:
        principal = await principal_of(app, key)
        if principal is None:
            return _unauthorized()
        return await invoke(app, app.state.reads, principal, key, name, arguments, face="mcp-stdio")

    return build(listing, calling)


class Remote:
    """A running wealthgate server's REST tool face, called with the key."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.url,
            headers={
                "authorization": f"Bearer {key}",
                "user-agent": f"wealthgate-mcp-stdio/{__version__}",
                # the server records the calls under its own face (rest) and keeps this claim beside it
                FACE_HEADER: "mcp-stdio",
            },
            timeout=60,
        )

    async def tools(self) -> list[dict[str, Any]]:
        try:
            response = await self.http.get("/tools", params={"format": "mcp"})
        except httpx.HTTPError as exc:
            raise Refused(f"cannot reach {self.url}: {exc}") from exc
        if response.status_code != 200:
            raise Refused(f"{self.url} answered {response.status_code}: {_result(response).message}")
        tools: list[dict[str, Any]] = response.json()["tools"]
        return tools

    async def call(self, name: str, arguments: dict[str, Any]) -> Result:
        if not FORWARDED.fullmatch(name) or not name.strip("."):  # never let a name become another path
            detail = f"no tool named {name!r} is available to this key"
            return Result(404, {"type": "about:blank", "title": "Not found", "status": 404, "detail": detail})
        try:
            response = await self.http.post(f"/tools/{quote(name, safe='')}", json=arguments)
        except httpx.HTTPError as exc:
            return Result(502, {"status": 502, "detail": f"cannot reach {self.url}: {exc}"})
        return _result(response)


def _result(response: httpx.Response) -> Result:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:500]}
    return Result(response.status_code, body if isinstance(body, dict) else {"items": body})


async def proxy(url: str, key: str, wire: Wire) -> None:
    """Serve the tools of the server at `url` for `key` (checked before serving)."""
    remote = Remote(url, key)
    try:
        await remote.tools()

        async def listing(ctx: Context) -> list[dict[str, Any]]:
            try:
                return await remote.tools()
            except Refused as exc:
                raise MCPError(INVALID_REQUEST, str(exc)) from exc

        async def calling(ctx: Context, name: str, arguments: dict[str, Any]) -> Result:
            return await remote.call(name, arguments)

        await _serve(build(listing, calling), wire)
    finally:
        await remote.http.aclose()


def run(work: Coroutine[Any, Any, None]) -> None:
    """Run until the client closes stdin; SIGTERM (how MCP clients stop a server that lingers) ends it
    cleanly, so the pool closes and an embedded PostgreSQL is released."""
    logs.configure("warning", get_settings().log_format)  # stderr only: stdout is the protocol's

    async def main() -> None:
        task = asyncio.current_task()
        if task is not None:
            with suppress(NotImplementedError):  # no signal handlers on Windows' event loop
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await work

    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        pass
    except BaseExceptionGroup as group:  # the SDK's task groups wrap a failure: report the failure itself
        leaf: BaseException = group
        while isinstance(leaf, BaseExceptionGroup) and len(leaf.exceptions) == 1:
            leaf = leaf.exceptions[0]
        raise leaf from group
