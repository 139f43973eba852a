"""Calling a tool: validate its arguments, run its REST twin in-process with the caller's own credentials,
audit the call. Every face (REST `/tools/{name}`, MCP over HTTP and stdio) goes through `invoke`, so a tool
answers, scopes and fails exactly like its route, and the error message is the problem+json `detail`.
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

from wealthgate.auth.authenticate import authenticate
from wealthgate.auth.principal import Principal
from wealthgate.tools.catalog import TOOLS
from wealthgate.tools.registry import Tool

INTERNAL = "http://wealthgate.internal"


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


def _client(app: FastAPI) -> httpx.AsyncClient:
    client: httpx.AsyncClient | None = getattr(app.state, "tool_client", None)
    if client is None:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=INTERNAL, timeout=60)
        app.state.tool_client = client
    return client


async def principal_of(app: FastAPI, key: str) -> Principal | None:
    return await authenticate(app.state.pool, app.state.key_cache, key)


def visible(principal: Principal) -> list[Tool]:
    return TOOLS.visible_to(principal.scopes)


async def invoke(
    app: FastAPI,
    principal: Principal,
    key: str,
    name: str,
    arguments: Any,
    *,
    face: str,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> Result:
    """Run tool `name` for `principal` (whose API key is `key`). Never raises for a caller's mistake.
    `idempotency_key` (the caller's `Idempotency-Key`) goes to the REST twin, so a retried write is stored
    once; a tool argument of that name wins; a twin that requires one and got none gets a fresh one."""
    tool = TOOLS.get(name)
    if tool is None or tool not in visible(principal):
        return _problem(404, "Not found", f"no tool named {name!r} is available to this key")
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
        return _problem(422, "Request validation failed", detail, errors=errors)
    call = tool.call(args)
    headers = {"authorization": f"Bearer {key}"}
    if request_id:
        headers["x-request-id"] = request_id
    idem = call.idempotency_key or idempotency_key
    if idem is None and tool.key_required:
        idem = f"tool-{uuid.uuid4()}"
    if idem is not None and call.method == "POST":
        headers["idempotency-key"] = idem
    response = await _client(app).request(
        call.method, call.path, params=call.params, json=call.json, headers=headers
    )
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:500]}
    if not isinstance(body, dict):
        body = {"items": body}
    result = Result(response.status_code, body)
    app.state.reads.tool_call(
        principal,
        # only a client the call could see joins that client's chain; a refused id is kept in the details
        call.client_id if not result.is_error else None,
        {
            "tool": name,
            "client_id": call.client_id,
            "face": face,
            "arguments_digest": digest(args.model_dump(mode="json")),
            "outcome": "ok" if not result.is_error else "error",
            "status": result.status,
            "problem": body.get("type") if result.is_error else None,
        },
        response.headers.get("x-request-id") or request_id,
    )
    return result
