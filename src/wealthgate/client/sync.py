"""`WealthgateClient`: the blocking client (httpx.Client)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from wealthgate.client import calls
from wealthgate.client.retry import Outcome, RetryPolicy
from wealthgate.client.tools import SchemaFormat, ToolMethods


class WealthgateClient(ToolMethods[dict[str, Any]]):
    """wealthgate's agent tools over HTTP.

    The key is `api_key`, else `WEALTHGATE_API_KEY`, else `FASTAPI_WEALTH_API_KEY`; the service is `base_url`,
    else `WEALTHGATE_URL`, else http://127.0.0.1:8000. Errors raise `WealthgateError` subclasses. Pass
    `transport` to reach the service some other way (a proxy, a test double)."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.connection = calls.Connection.resolve(api_key, base_url, timeout, retry)
        self.read_after = calls.ReadAfter()  # this client's writes, read back on any host (calls.ReadAfter)
        self._http = httpx.Client(transport=transport, **self.connection.client_options())

    def tools(self, format: SchemaFormat = "wealthgate") -> list[dict[str, Any]]:
        """The tools this key may use, as function-calling schemas (openai, anthropic, mcp, wealthgate)."""
        listed: list[dict[str, Any]] = calls.as_object(self._send(calls.list_tools(format)))["tools"]
        return listed

    def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Call any tool by name with its arguments (what a function-calling loop dispatches to)."""
        return calls.as_object(self._send(calls.tool_call(name, arguments)))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Any REST route (e.g. `GET /recommendations/{id}/replay`), with the same retries and errors."""
        return self._send(calls.rest(method, path, params=params, json=json, idempotency_key=idempotency_key))

    def _send(self, prepared: calls.Prepared) -> Any:
        request = prepared.request(self._http, self.read_after)
        policy = self.connection.retry
        for attempt in itertools.count():
            outcome: Outcome
            try:
                outcome = self._http.send(request)
            except httpx.TransportError as exc:
                outcome = exc
            self.read_after.observe(outcome)
            wait = policy.next_wait(attempt, outcome, replay_safe=prepared.replay_safe)
            if wait is None:
                return calls.result(prepared, outcome, attempt + 1)
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WealthgateClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
