"""The tool registry over REST: list (in any schema format) and call by name."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import orjson
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from wealthgate.api import tool_calls as invoke
from wealthgate.api.deps import (
    Reads,
    client_request_id_of,
    presented_key,
    read_after_of,
    request_id_of,
    require,
)
from wealthgate.api.problems import MEDIA_TYPE
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.auth.principal import Principal
from wealthgate.tools import schemas
from wealthgate.vocabulary import SCOPES

router = APIRouter(route_class=StrictJSONRoute, tags=["tools"])
AnyKey = Depends(require(*SCOPES))
FACE_HEADER = "x-wealthgate-face"  # a proxy (e.g. `wealthgate mcp` on stdio) names the face it serves
FACES = {"mcp-stdio", "sdk"}  # the claims kept (as `client_face`); the face recorded is always `rest`
# What the body is meant to be (any JSON reaches invoke); the example calls get_client_context.
ARGUMENTS_SCHEMA = {"type": "object", "examples": [{"client_id": 1, "summary": True}]}
Format = Literal["wealthgate", "openai", "anthropic", "mcp"]
# A tool's answer is its REST twin's body: one of the twins' response models (deduplicated, in catalog order).
# Built from the registry, so a new tool's answer is described without touching this file.
ToolAnswer: Any = Union.__getitem__(tuple(dict.fromkeys(t.output for t in invoke.REGISTRY)))


class ToolList(BaseModel):
    """The tools a key may use, rendered as `format` asks (each entry is that format's own JSON schema)."""

    format: Format
    tools: list[dict[str, Any]]  # function-calling schemas are JSON documents in the vendor's format


def client_face(claimed: str | None) -> str | None:
    """The face a caller claims to serve, kept beside the server's own when it is one we know. A header is
    the caller's word: it never replaces the face the server saw the call arrive on."""
    return claimed if claimed in FACES else None


@router.get(
    "/tools", summary="The agent tools this key may use, as function-calling schemas", response_model=ToolList
)
async def list_tools(
    principal: Annotated[Principal, AnyKey],
    format: Annotated[
        Format,
        Query(description="openai: strict function schemas; anthropic: tools; mcp: tools/list entries."),
    ] = "wealthgate",
) -> ToolList:
    """Only the tools the key's scopes allow. OpenAI schemas are valid for strict mode."""
    return ToolList(format=format, tools=schemas.render(invoke.visible(principal), format))


@router.post(
    "/tools/{name:path}",
    summary="Call a tool by name (what function-calling loops dispatch to)",
    response_model=ToolAnswer,
    responses={404: {"description": "No such tool for this key"}, 422: {"description": "Bad arguments"}},
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": ARGUMENTS_SCHEMA}}}},
)
async def call_tool(
    name: Annotated[str, Path(description="The tool's name, as `GET /tools` lists it.")],
    principal: Annotated[Principal, AnyKey],
    reads: Reads,
    request: Request,
    arguments: Annotated[Any, Body(description="The tool's arguments.")] = None,
) -> Response:
    """Runs the tool's REST twin with the caller's credentials and returns its answer unchanged (status and
    body, problem+json on failure); the call is recorded in the audit trail (`tool.called`), a refused one
    too. An `Idempotency-Key` header is passed on to the twin: a retried write is stored once."""
    # Any name and any JSON body reach `invoke`, which refuses (404, 422) and records what a narrower
    # signature would have turned away unrecorded: a made-up tool name, arguments that are no object.
    read_after = read_after_of(request)  # a malformed one is a 422 before any tool runs
    result = await invoke.invoke(
        request.app,
        reads,
        principal,
        presented_key(request) or "",
        name,
        {} if arguments is None else arguments,
        face="rest",
        request_id=request_id_of(request),
        client_request_id=client_request_id_of(request),
        client_face=client_face(request.headers.get(FACE_HEADER)),
        idempotency_key=request.headers.get("idempotency-key"),
        read_after=str(read_after) if read_after else None,
    )
    return Response(
        orjson.dumps(result.body),
        status_code=result.status,
        media_type=MEDIA_TYPE if result.is_error else "application/json",
    )
