"""`AsyncWealthgateClient`: the asyncio client (httpx.AsyncClient); the same methods, awaited."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Mapping
from types import TracebackType
from typing import Any

import httpx

from wealthgate.client import calls
from wealthgate.client.retry import Outcome, RetryPolicy
from wealthgate.client.tools import SchemaFormat, ToolMethods


class AsyncWealthgateClient(ToolMethods[Awaitable[dict[str, Any]]]):
    """wealthgate's agent tools over HTTP, for asyncio: `await client.get_risk(1)`.

    Key, URL, retries and errors as `WealthgateClient`. `transport` may be e.g. `httpx.ASGITransport(app)`."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.connection = calls.Connection.resolve(api_key, base_url, timeout, retry)
        self.read_after = calls.ReadAfter()  # this client's writes, read back on any host (calls.ReadAfter)
        self._http = httpx.AsyncClient(transport=transport, **self.connection.client_options())

    async def tools(self, format: SchemaFormat = "wealthgate") -> list[dict[str, Any]]:
        """The tools this key may use, as function-calling schemas (openai, anthropic, mcp, wealthgate)."""
        listed: list[dict[str, Any]] = calls.as_object(await self._send(calls.list_tools(format)))["tools"]
        return listed

    async def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Call any tool by name with its arguments (what a function-calling loop dispatches to)."""
        return calls.as_object(await self._send(calls.tool_call(name, arguments)))

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Any REST route (e.g. `GET /recommendations/{id}/replay`), with the same retries and errors."""
        prepared = calls.rest(method, path, params=params, json=json, idempotency_key=idempotency_key)
        return await self._send(prepared)

    async def _send(self, prepared: calls.Prepared) -> Any:
        request = prepared.request(self._http, self.read_after)
        policy = self.connection.retry
        for attempt in itertools.count():
            outcome: Outcome
            try:
                outcome = await self._http.send(request)
            except httpx.TransportError as exc:
                outcome = exc
            self.read_after.observe(outcome)
            wait = policy.next_wait(attempt, outcome, replay_safe=prepared.replay_safe)
            if wait is None:
                return calls.result(prepared, outcome, attempt + 1)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncWealthgateClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
