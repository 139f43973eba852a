"""The tool registry over the app's routes, and calling a tool: validate its arguments, run its REST twin
in-process (at the path the app's router gives the twin's name) with the caller's own credentials, audit the
call. Every face (REST `/tools/{name}`, MCP over HTTP and stdio) goes through `invoke`, so a tool
answers, scopes and fails exactly like its route, and the error message is the problem+json `detail`.

Every call is recorded as `tool.called`, a refused one too (an unknown tool, one outside the key's scopes,
invalid arguments: outcome `refused`): an agent probing for tools it may not use leaves a trace.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from pydantic import ValidationError

from wealthgate.api.deps import READ_AFTER
from wealthgate.api.middleware import INNER_REQUEST, RequestIds, new_request_id
from wealthgate.api.routes import (
    audit,
    clients,
    portfolio,
    recommendations,
    securities,
    suitability,
    transactions,
)
from wealthgate.audit.context import CLIENT_REQUEST_ID
from wealthgate.audit.reads import ReadRecorder
from wealthgate.auth.authenticate import authenticate
from wealthgate.auth.principal import Principal
from wealthgate.tools.catalog import GLOSSARY, SPECS
from wealthgate.tools.derive import registry_of
from wealthgate.tools.registry import Registry, Tool

TWINS = (clients, portfolio, transactions, securities, suitability, recommendations, audit)
REGISTRY: Registry[Tool] = Registry(registry_of(SPECS, [r for m in TWINS for r in m.router.routes], GLOSSARY))
"""Every declared tool over its twin, found by name among these routers (the app includes the same ones)."""

INTERNAL = "http://wealthgate.internal"
MAX_NAME_SHOWN = 64


@dataclass(frozen=True, slots=True)
class Result:
    status: int
    body: dict[str, Any]

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    @property
    def message(self) -> str:
        """What a caller is told on failure: the problem's detail (as the REST answer carries it)."""
        return str(self.body.get("detail") or self.body.get("title") or f"HTTP {self.status}")


def _problem(status: int, title: str, detail: str, **extra: Any) -> Result:
    slug = title.lower().replace(" ", "-")
    return Result(
        status,
        {
            "type": f"urn:wealthgate:problem:{slug}",
            "title": title,
            "status": status,
            "detail": detail,
            **extra,
        },
    )


def digest(arguments: Any) -> str:
    return "sha256:" + hashlib.sha256(orjson.dumps(arguments, option=orjson.OPT_SORT_KEYS)).hexdigest()


def received_digest(arguments: Any) -> str:
    """The digest of a refused call's arguments as received: they may not be JSON at all (a bare body that is
    no object, an integer past 64 bits), so those are hashed in their `repr` form, marked by the prefix."""
    try:
        return digest(arguments)
    except TypeError:  # orjson.JSONEncodeError is one
        return (
            "sha256-repr:" + hashlib.sha256(repr(arguments).encode("utf-8", "backslashreplace")).hexdigest()
        )


def shown(name: str) -> str:
    """A tool name as the audit trail keeps it. Over MCP a caller may name a tool with any string; the event
    keeps a short storable text (no NUL, no control character), so an odd or long name is kept escaped."""
    if 0 < len(name) <= MAX_NAME_SHOWN and name.isprintable():
        return name
    return ascii(name[:MAX_NAME_SHOWN]) + ("..." if len(name) > MAX_NAME_SHOWN else "")


def claimed_client(arguments: Any) -> int | None:
    """The client id a refused call's arguments name, when it is one (kept in the details, not the chain)."""
    value = arguments.get("client_id") if isinstance(arguments, dict) else None
    return value if type(value) is int and 0 < value < 2**63 else None


def _client(app: FastAPI) -> httpx.AsyncClient:
    client: httpx.AsyncClient | None = getattr(app.state, "tool_client", None)
    if client is None:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=INTERNAL, timeout=60)
        app.state.tool_client = client
    return client


async def principal_of(app: FastAPI, key: str) -> Principal | None:
    return await authenticate(app.state.key_source, app.state.key_cache, key)


def visible(principal: Principal) -> list[Tool]:
    return REGISTRY.visible_to(principal.scopes)


@dataclass(frozen=True, slots=True)
class _Outcome:
    result: Result
    client_id: int | None  # the client the arguments name
    seen: bool  # the call could see that client: its event joins the client's chain
    arguments_digest: str
    outcome: str  # ok, error (the twin refused) or refused (never reached the twin)


async def invoke(
    app: FastAPI,
    reads: ReadRecorder,
    principal: Principal,
    key: str,
    name: str,
    arguments: Any,
    *,
    face: str,
    request_id: str | None = None,
    client_request_id: str | None = None,
    client_face: str | None = None,
    idempotency_key: str | None = None,
    read_after: str | None = None,
) -> Result:
    """Run tool `name` for `principal` (whose API key is `key`) against `app`, and record the call with
    `reads`, refused ones too (an unknown or out-of-scope tool, invalid arguments). Never raises for a
    caller's mistake.

    `face` is the server's own name for the way in (`rest`, `mcp-http`, `mcp-stdio`); a face the caller claims
    is only `client_face`. `request_id` is the server's id of the request carrying the call (a fresh one when
    there is none, as on stdio) and `client_request_id` the caller's own: both reach the twin's events too.
    `idempotency_key` (the caller's `Idempotency-Key`) goes to the REST twin, so a retried write is stored
    once; a tool argument of that name wins; a twin that requires one and got none gets a fresh one.
    `read_after` (the caller's `WealthGate-Read-After`) goes to the twin too, so a read tool sees the caller's
    writes on any host (docs/scaling.md)."""
    ids = RequestIds(request_id or new_request_id(), client_request_id)
    token = CLIENT_REQUEST_ID.set(ids.client)  # a face need not run in the HTTP request's own context
    try:
        done = await _run(app, principal, key, name, arguments, ids, idempotency_key, read_after)
        result = done.result
        reads.tool_call(
            principal,
            # only a client the call could see joins that client's chain; a refused id is kept in the details
            done.client_id if done.seen else None,
            {
                "tool": shown(name),
                "client_id": done.client_id,
                "face": face,
                **({"client_face": client_face} if client_face else {}),
                "arguments_digest": done.arguments_digest,
                "outcome": done.outcome,
                "status": result.status,
                "problem": result.body.get("type") if result.is_error else None,
            },
            ids.server,
        )
        return result
    finally:
        CLIENT_REQUEST_ID.reset(token)


async def _run(
    app: FastAPI,
    principal: Principal,
    key: str,
    name: str,
    arguments: Any,
    ids: RequestIds,
    idempotency_key: str | None,
    read_after: str | None,
) -> _Outcome:
    tool = REGISTRY.get(name)
    if tool is None or tool not in visible(principal):
        refusal = _problem(404, "Not found", f"no tool named {name!r} is available to this key")
        return _Outcome(refusal, claimed_client(arguments), False, received_digest(arguments), "refused")
    try:
        args = tool.input.model_validate(arguments if arguments is not None else {})
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"]) or "arguments",
                "message": e["msg"],
                "type": e["type"],
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        refusal = _problem(422, "Request validation failed", detail, errors=errors)
        return _Outcome(refusal, claimed_client(arguments), False, received_digest(arguments), "refused")
    call = tool.call(args)
    headers = {"authorization": f"Bearer {key}"}
    idem = call.idempotency_key or idempotency_key
    if idem is None and tool.key_required:
        idem = f"tool-{uuid.uuid4()}"
    if idem is not None and call.method == "POST":
        headers["idempotency-key"] = idem
    if read_after is not None:
        headers[READ_AFTER] = read_after
    path = app.url_path_for(call.route, **call.path_params)
    inner = INNER_REQUEST.set(ids)  # the twin's events carry this request's ids (see middleware.py)
    try:
        response = await _client(app).request(
            call.method, path, params=call.params, json=call.json, headers=headers
        )
    finally:
        INNER_REQUEST.reset(inner)
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:500]}
    if not isinstance(body, dict):
        body = {"items": body}
    result = Result(response.status_code, body)
    return _Outcome(
        result,
        call.client_id,
        not result.is_error,
        digest(args.model_dump(mode="json")),
        "error" if result.is_error else "ok",
    )
