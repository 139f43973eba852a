"""The OpenAPI document as a contract a generator can trust (tests/api/test_contract.py runs schemathesis):

- every answer the service can give is declared with its media type and schema: errors are RFC 9457
  `application/problem+json` (`Problem`), declared centrally here by what a route does (`error_statuses`);
- every header the service reads is declared: the two API key schemes, `Idempotency-Key` on the operations
  that honour it, `X-Request-ID` everywhere (and those it answers with: `X-Request-ID`, `Retry-After`);
- operationIds are the SDK's method names (`get_client_context`, `check_suitability`, `tools`, `call`), and
  the route's own name elsewhere, a few of them qualified (`approve` -> `approve_recommendation`);
- every request body has an example (its model's), shown as the body's `example` for Swagger's "Try it out".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from wealthgate.api.deps import AGENT_CONNECTIONS, READ_AFTER, READ_AFTER_PATTERN
from wealthgate.api.idempotent import HEADER
from wealthgate.api.problems import MEDIA_TYPE
from wealthgate.tools.catalog import SPECS

PUBLIC_PATHS = {"/healthz", "/readyz", "/metrics"}

# Operations that run under `idempotent.run` (or pass the header on to one that does), and whether the key is
# required. The routes read the header from the request themselves, so FastAPI cannot see it: it is declared
# here. tests/api/test_docs_offline.py reads the route modules and fails when this table misses one.
IDEMPOTENT: dict[tuple[str, str], bool] = {
    ("post", "/recommendations"): True,
    ("post", "/recommendations/{rec_id}/approve"): False,
    ("post", "/recommendations/{rec_id}/reject"): False,
    ("post", "/recommendations/{rec_id}/execute"): False,
    ("post", "/clients/{client_id}/suitability-check"): False,
    ("post", "/accounts/{account_id}/transactions"): False,
    ("post", "/accounts/{account_id}/transactions/{transaction_id}/reverse"): False,
    ("post", "/audit/recommendation"): False,
    ("post", "/tools/{name}"): False,
}
BIGINT_MAX = 2**63 - 1
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # what idempotent.run accepts: 1 to 255 printable ASCII characters

# operationIds: a tool's route is named as the tool (the SDK's method of that name calls it); the SDK's own
# methods over the registry routes; and routes whose function name says too little outside its module.
SDK_METHODS = {"list_tools": "tools", "call_tool": "call"}  # route name -> WealthgateClient method
QUALIFIED = {
    "approve": "approve_recommendation",
    "reject": "reject_recommendation",
    "execute": "execute_recommendation",
    "replay": "replay_recommendation",
    "review_queue": "list_review_queue",
    "current_policy": "get_policy",
    "policy_versions": "list_policy_versions",
    "policy_version": "get_policy_version",
    "verify_trail": "verify_audit_trail",
    "list_events": "list_audit_events",
    "export_trail": "export_audit_trail",
}
TOOL_ROUTES = {spec.route: spec.name for spec in SPECS}

PROBLEM = "Problem"
PROBLEM_SCHEMAS: dict[str, Any] = {
    PROBLEM: {
        "type": "object",
        "title": "Problem",
        "description": "RFC 9457 problem details: every error the service answers.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {
                "type": "string",
                "description": "`about:blank`, or a `urn:wealthgate:problem:<kind>` naming the kind of error",
            },
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "What went wrong, safe to show (or relay)"},
            "instance": {"type": "string", "description": "The request's path"},
            "request_id": {"type": "string", "description": "The server's id of the request (X-Request-ID)"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemField"}},
        },
    },
    "ProblemField": {
        "type": "object",
        "title": "ProblemField",
        "description": "One invalid input, named.",
        "required": ["field", "message"],
        "properties": {
            "field": {"type": "string", "description": "The input's name (dotted inside a body)"},
            "in": {"type": "string", "description": "body, query, path or header"},
            "message": {"type": "string"},
            "type": {"type": "string", "description": "The validation error's kind"},
        },
    },
}
WHY = {
    400: "The Idempotency-Key header is missing (where required) or malformed",
    401: "Missing, invalid or revoked API key",
    403: "The key lacks the route's scope",
    404: "Not found (another firm's object looks the same as a missing one)",
    409: "Conflict with the current state (or a request with this Idempotency-Key is still running)",
    413: "The request body exceeds the service's limit",
    415: "The request body is not JSON",
    422: "Invalid input: `errors` names each field",
    429: "Too many requests for this key: wait `Retry-After` seconds",
    503: "The service cannot reach its database now: retry after `Retry-After` seconds",
}
REQUEST_ID_PARAMETER: dict[str, Any] = {
    "name": "X-Request-ID",
    "in": "header",
    "required": False,
    "description": (
        "Your own id for the request (1 to 128 printable characters): kept beside the server's own id in the "
        "audit trail and echoed as `X-Client-Request-ID`."
    ),
    "schema": {"type": "string"},
}
REQUEST_ID_HEADER: dict[str, Any] = {
    "description": "The server's id of this request (what the audit trail records)",
    "required": True,
    "schema": {"type": "string"},
}
RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Seconds to wait before retrying",
    "schema": {"type": "string", "pattern": r"^\d+$"},
}


def idempotency_parameter(required: bool) -> dict[str, Any]:
    use = "Required" if required else "Optional"
    return {
        "name": HEADER,
        "in": "header",
        "required": required,
        "description": (
            f"{use}. A fresh unique value per intended write (a UUID, say): a retry of the same request "
            "with the same key returns the first answer (`Idempotent-Replayed: true`) and writes nothing."
        ),
        "schema": {"type": "string", "pattern": KEY_PATTERN, "minLength": 1, "maxLength": 255},
    }


def operation_id(route_name: str) -> str:
    """The operationId of the route named `route_name` (its endpoint function's name)."""
    return TOOL_ROUTES.get(route_name) or SDK_METHODS.get(route_name) or QUALIFIED.get(route_name, route_name)


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, by what it does: a key (401, 403, 429), parameters or a
    body (422), a body (413, 415), a path or a body naming an object (404), an Idempotency-Key (400, 409),
    and 503 for all (the database away)."""
    statuses = {503}
    if path not in PUBLIC_PATHS:
        statuses |= {401, 403, 429}
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {404, 413, 415}  # a body may name an object (a client, an advisor) not visible here
    if "{" in path:
        statuses.add(404)
    if (method, path) in IDEMPOTENT:
        statuses |= {400, 409}
    return statuses


def _problem_response(description: str, status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM}"}}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}
    return response


def _own_body(response: dict[str, Any]) -> bool:
    """A response the route declared with a model of its own (not FastAPI's generic validation error)."""
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return bool(ref) and not ref.endswith("/HTTPValidationError")


def declare(path: str, method: str, operation: dict[str, Any]) -> None:
    """Declare on one operation: its error answers as problem+json, the headers it reads and answers."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in error_statuses(path, method, operation) | {int(s) for s in responses if s[0] in "45"}:
        if _own_body(responses.get(str(status), {})):
            continue  # the route answers this status with a body of its own (e.g. /readyz's Readiness)
        described = responses.get(str(status), {}).get("description")
        if described in (None, "Validation Error"):
            described = WHY.get(status, "Error")
        responses[str(status)] = _problem_response(described, status)
    operation["responses"] = dict(sorted(responses.items()))
    for response in operation["responses"].values():
        response.setdefault("headers", {})["X-Request-ID"] = REQUEST_ID_HEADER
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    parameters.append(REQUEST_ID_PARAMETER)
    if path not in PUBLIC_PATHS:
        operation["security"] = [{"bearer": []}, {"apiKey": []}]


READ_AFTER_PARAMETER: dict[str, Any] = {
    "name": READ_AFTER,
    "in": "header",
    "required": False,
    "description": (
        "With read replicas: the `WealthGate-Read-After` of an earlier write's answer, so that this read "
        "sees that write whichever host serves it (the SDK sends it by itself). Checked, and otherwise "
        "ignored, without replicas."
    ),
    "schema": {"type": "string", "pattern": READ_AFTER_PATTERN},
}


def declare_read_after(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """`WealthGate-Read-After` on each operation that reads through a connection a replica may serve (and
    on the tool face, which passes it on to the tool's twin)."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        calls = {d.call for d in route.dependant.dependencies}
        if not calls & set(AGENT_CONNECTIONS) and context.path_format != "/tools/{name}":
            continue
        for method in context.methods or ():
            found = schema["paths"].get(context.path_format, {}).get(method.lower())
            if found is not None:
                found.setdefault("parameters", []).append(READ_AFTER_PARAMETER)


def name_operations(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """Set each operation's id (included routers' routes are reached through FastAPI's route contexts)."""
    for context in iter_route_contexts(routes):
        if isinstance(context.original_route, APIRoute) and context.name:
            for method in context.methods or ():
                found = schema["paths"].get(context.path_format, {}).get(method.lower())
                if found is not None:
                    found["operationId"] = operation_id(context.name)


def body_examples(operation: dict[str, Any], schemas: dict[str, Any]) -> list[Any]:
    """The examples of an operation's JSON body: its model's (`json_schema_extra`), or its schema's own."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    for option in [body, *body.get("anyOf", [])]:
        ref = option.get("$ref", "")
        found = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else option
        if found.get("examples"):
            return list(found["examples"])
    return []


def show_example(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The body's first example as the media type's `example` too (what Swagger's "Try it out" fills in)."""
    examples = body_examples(operation, schemas)
    if examples:
        operation["requestBody"]["content"]["application/json"]["example"] = examples[0]


def exact_bounds(node: Any) -> Any:
    """Integer bounds as JSON integers. Pydantic writes a body field's `le=2**63 - 1` as the double
    9.223372036854776e+18, which is 2**63: a generator then sends 2**63 + 191 as valid. A bound that is a
    whole double is written as the integer it stands for (the BIGINT limit where it rounds to 2**63)."""
    if isinstance(node, list):
        return [exact_bounds(v) for v in node]
    if not isinstance(node, dict):
        return node
    fixed = {k: exact_bounds(v) for k, v in node.items()}
    if fixed.get("type") == "integer":
        for bound in ("minimum", "maximum"):
            value = fixed.get(bound)
            if isinstance(value, float) and value.is_integer():
                fixed[bound] = BIGINT_MAX if value == float(BIGINT_MAX) else int(value)
    return fixed


def build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`"},
        "apiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "`X-API-Key: <key>`",
        },
    }
    name_operations(schema, app.routes)
    declare_read_after(schema, app.routes)
    for (method, path), required in IDEMPOTENT.items():
        operation = schema.get("paths", {}).get(path, {}).get(method)
        if operation is not None:  # a missing one is caught by the test, not by the service's users
            operation.setdefault("parameters", []).append(idempotency_parameter(required))
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            declare(path, method, operation)
    call = schema.get("paths", {}).get("/tools/{name}", {}).get("post")
    if call is not None:  # a tool answers as its REST twin does: 201 from one that creates
        call["responses"]["201"] = {**call["responses"]["200"], "description": "The twin created something"}
        call["responses"] = dict(sorted(call["responses"].items()))
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body; ours is a Problem
        schemas.pop(unused, None)
    schemas.update(PROBLEM_SCHEMAS)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            show_example(operation, schemas)
    components["schemas"] = dict(sorted(schemas.items()))
    fixed: dict[str, Any] = exact_bounds(schema)
    return fixed


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema
