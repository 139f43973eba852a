"""The OpenAPI document, with the API key schemes every non-public route accepts and the `Idempotency-Key`
header on every operation that honours it (so Swagger's "Try it out" can send one)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from wealthgate.api.idempotent import HEADER

PUBLIC_PATHS = {"/healthz"}

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
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # what idempotent.run accepts: 1 to 255 printable ASCII characters


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


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`"},
            "apiKey": {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
                "description": "`X-API-Key: <key>`",
            },
        }
        for path, operations in schema.get("paths", {}).items():
            if path in PUBLIC_PATHS:
                continue
            for operation in operations.values():
                operation["security"] = [{"bearer": []}, {"apiKey": []}]
                operation.setdefault("responses", {}).setdefault(
                    "401", {"description": "Missing or invalid key"}
                )
                operation["responses"].setdefault("403", {"description": "The key lacks the route's scope"})
        for (method, path), required in IDEMPOTENT.items():
            operation = schema.get("paths", {}).get(path, {}).get(method)
            if operation is not None:  # a missing one is caught by the test, not by the service's users
                operation.setdefault("parameters", []).append(idempotency_parameter(required))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema
