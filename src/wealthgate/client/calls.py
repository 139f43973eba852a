"""What both clients share: building each request (headers, Idempotency-Key, replay safety), and turning an
outcome into a result or a typed error. The sync and async clients only send and sleep."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from wealthgate import __version__
from wealthgate.client.config import resolve_key, resolve_url
from wealthgate.client.errors import ConnectionFailed, WealthgateError, error_for
from wealthgate.client.retry import NEVER_SENT, Outcome, RetryPolicy
from wealthgate.tools.catalog import TOOLS

IDEMPOTENCY_HEADER = "Idempotency-Key"
READ_AFTER_HEADER = "WealthGate-Read-After"
READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Connection:
    """Resolved once per client: the key (argument, env, guide's env), the service URL, timeouts, retries."""

    api_key: str = field(repr=False)
    base_url: str
    timeout: float
    retry: RetryPolicy

    @classmethod
    def resolve(
        cls, api_key: str | None, base_url: str | None, timeout: float, retry: RetryPolicy | None
    ) -> Connection:
        return cls(resolve_key(api_key), resolve_url(base_url), timeout, retry or RetryPolicy())

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for `httpx.Client` / `httpx.AsyncClient`."""
        return {
            "base_url": self.base_url,
            "timeout": self.timeout,
            "headers": {
                "Authorization": f"Bearer {self.api_key}",
                "Accept": "application/json",
                "User-Agent": f"wealthgate-sdk/{__version__}",
            },
        }


@dataclass(frozen=True, slots=True)
class Prepared:
    """One logical call: sent once, and again on a retry with exactly the same headers and body."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    replay_safe: bool = True

    def request(self, http: httpx.Client | httpx.AsyncClient, read_after: ReadAfter) -> httpx.Request:
        headers = {**self.headers, **read_after.headers()}
        return http.build_request(self.method, self.path, params=self.params, json=self.json, headers=headers)


@dataclass(slots=True)
class ReadAfter:
    """Reads that see this client's writes on whichever host serves them: with read replicas, the answer to
    a write carries `WealthGate-Read-After` (where the primary's log stood after it); the client keeps the
    furthest it has seen and sends it with every later request, and a replica serves a read only once it has
    replayed that far (docs/scaling.md). Without replicas no answer carries it and nothing is sent."""

    position: int = 0

    def headers(self) -> dict[str, str]:
        return {READ_AFTER_HEADER: str(self.position)} if self.position else {}

    def observe(self, outcome: Outcome) -> None:
        if isinstance(outcome, httpx.Response):
            seen = outcome.headers.get(READ_AFTER_HEADER, "")
            if seen.isascii() and seen.isdigit():  # "²" is a digit to str.isdigit, not to int()
                self.position = max(self.position, int(seen))


def new_idempotency_key() -> str:
    return f"sdk-{uuid.uuid4()}"


def rest(
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    idempotency_key: str | None = None,
) -> Prepared:
    """A REST route. Every POST carries an Idempotency-Key (one per logical call; the service's creating
    POSTs honour it), so it is replay-safe; other writes are not retried once they may have arrived."""
    verb = method.upper()
    headers: dict[str, str] = {}
    if verb == "POST":
        headers[IDEMPOTENCY_HEADER] = idempotency_key or new_idempotency_key()
    elif idempotency_key:
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    safe = verb in READS or IDEMPOTENCY_HEADER in headers
    return Prepared(verb, path, dict(params) if params else None, json, headers, safe)


def list_tools(fmt: str) -> Prepared:
    return Prepared("GET", "/tools", {"format": fmt})


def tool_call(name: str, arguments: Mapping[str, Any] | None) -> Prepared:
    """`POST /tools/{name}`. The Idempotency-Key goes in the header, which the tool face forwards to the
    tool's REST twin, and for a tool that takes an `idempotency_key` argument (propose_recommendation) in that
    argument too, unless the caller gave one. Every registry tool is therefore replay-safe: a read changes
    nothing and a write under the same key is stored once. An unknown name: retried only if unsent."""
    args = dict(arguments or {})
    spec = TOOLS.get(name)
    keyed = spec is not None and spec.idempotency_key
    key = new_idempotency_key()
    if keyed:
        if args.get("idempotency_key") is None:
            args["idempotency_key"] = key
        key = str(args["idempotency_key"])
    safe = spec is not None
    return Prepared("POST", f"/tools/{quote(name, safe='')}", None, args, {IDEMPOTENCY_HEADER: key}, safe)


def result(prepared: Prepared, outcome: Outcome, attempts: int) -> Any:
    """The decoded JSON of a success; otherwise the typed error."""
    if isinstance(outcome, httpx.TransportError):
        unsure = not (isinstance(outcome, NEVER_SENT) or prepared.replay_safe)
        maybe = "; it may have been applied" if unsure else ""
        tries = f"{attempts} tries" if attempts > 1 else "1 try"
        raise ConnectionFailed(
            f"{prepared.method} {prepared.path}: no answer after {tries} "
            f"({type(outcome).__name__}: {outcome}){maybe}"
        ) from outcome
    if outcome.status_code >= 400:
        raise error_for(outcome)
    if not outcome.content:
        return None
    return outcome.json()


def as_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise WealthgateError(f"expected a JSON object, got {type(body).__name__}")
    return body
