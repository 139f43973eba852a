"""The OpenAPI document declares what the service does (errors as problem+json, the headers it reads,
operationIds that are the SDK's method names, an example for every body that the service accepts), and input
the document refuses is refused by the service with a 4xx naming the field: dates out of range or not ISO,
NUL characters, forged cursors, numeric strings where a tool takes an integer. Never a 5xx, never stored."""

from __future__ import annotations

import base64
import inspect
import json
import re
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.support import fetchval, make_key
from wealthgate.api import openapi
from wealthgate.api.app import create_app
from wealthgate.api.tool_calls import REGISTRY
from wealthgate.client import WealthgateClient
from wealthgate.client.tools import TOOL_METHODS
from wealthgate.pagination import encode_cursor, encode_keyset
from wealthgate.settings import Settings

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
LAX_INT = re.compile(r"(?<![\w.])int\b(?!, Strict)")  # `int` not followed by its Strict marker


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document of an app built, not started (it touches no database)."""
    app = create_app(Settings(home=tmp_path_factory.mktemp("contract-home")))
    document: dict[str, Any] = TestClient(app).get("/openapi.json").json()
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


# ---- every answer and every header declared ----------------------------------------------------------------


# Error statuses a route answers with a body of its own, not a problem: readiness says which check failed.
OWN_BODIES = {("get", "/readyz", "503"): "#/components/schemas/Readiness"}


def test_every_error_answer_is_declared_as_a_problem(spec: dict[str, Any]) -> None:
    assert spec["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for method, path, op in operations(spec):
        where = f"{method.upper()} {path}"
        statuses = {int(s) for s in op["responses"]}
        assert 503 in statuses, where
        if path not in openapi.PUBLIC_PATHS:
            assert {401, 403, 429} <= statuses, where
            assert op["security"] == [{"bearer": []}, {"apiKey": []}], where
        if "requestBody" in op:
            assert {404, 413, 415, 422} <= statuses, where
        if "{" in path:
            assert 404 in statuses, where
        if (method, path) in openapi.IDEMPOTENT:
            assert {400, 409} <= statuses, where
        for status, response in op["responses"].items():
            assert response["headers"]["X-Request-ID"]["required"] is True, (where, status)
            own = OWN_BODIES.get((method, path, status))
            if own is not None:  # the route's own body for this status, kept as declared
                assert response["content"] == {"application/json": {"schema": {"$ref": own}}}, where
                continue
            if int(status) >= 400:
                assert response["content"] == {"application/problem+json": {"schema": PROBLEM_REF}}, where
            if int(status) in (429, 503):
                assert "Retry-After" in response["headers"], (where, status)


def test_every_header_the_service_reads_is_declared(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKey"]["in"] == "header"
    assert schemes["apiKey"]["name"] == "X-API-Key"
    for method, path, op in operations(spec):
        headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        assert "X-Request-ID" in headers, (method, path)
        assert ("Idempotency-Key" in headers) == ((method, path) in openapi.IDEMPOTENT), (method, path)


def test_the_central_declaration_notices_a_route_it_does_not_cover() -> None:
    """The check above can fail: an operation left undeclared lacks what `declare` adds."""
    bare: dict[str, Any] = {"responses": {"200": {"description": "ok"}}, "requestBody": {}}
    assert "422" not in bare["responses"]
    openapi.declare("/things/{id}", "post", bare)
    assert {"401", "403", "404", "413", "415", "422", "429", "503"} <= set(bare["responses"])


def test_integer_bounds_are_exact(spec: dict[str, Any]) -> None:
    """Pydantic writes `le=2**63 - 1` in a body as a double (= 2**63); the document says the integer."""
    note = spec["components"]["schemas"]["AuditNoteIn"]["properties"]["client_id"]
    assert note["maximum"] == 2**63 - 1
    assert isinstance(note["maximum"], int)
    assert openapi.exact_bounds({"type": "integer", "maximum": 9.223372036854776e18}) == {
        "type": "integer",
        "maximum": 2**63 - 1,
    }


# ---- operationIds are the SDK's method names ---------------------------------------------------------------


def test_operation_ids_are_unique_and_the_sdk_method_names(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    sdk = {
        name
        for name, member in inspect.getmembers(WealthgateClient, inspect.isfunction)
        if not name.startswith("_") and name not in ("request", "close")  # any route; the HTTP client
    }
    assert set(TOOL_METHODS) <= sdk
    assert sdk - {"call"} <= set(ids) | {"call"}
    assert sdk <= set(ids), sorted(sdk - set(ids))  # every SDK method is an operation
    # and the reverse: every route a tool runs on is named as the SDK method that calls it
    for tool in REGISTRY:
        assert openapi.operation_id(tool.spec.route) == tool.name
        assert hasattr(WealthgateClient, tool.name)
    by_path = {(method, path): op["operationId"] for method, path, op in operations(spec)}
    assert by_path[("get", "/clients/{client_id}/context")] == "get_client_context"
    assert by_path[("get", "/tools")] == "tools"
    assert by_path[("post", "/tools/{name}")] == "call"


# ---- every request body has an example the service accepts -------------------------------------------------


def body_schema(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = op["requestBody"]["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}


def test_every_request_body_has_an_example_valid_against_its_schema(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        if "requestBody" not in op:
            continue
        examples = openapi.body_examples(op, spec["components"]["schemas"])
        assert examples, f"{method.upper()} {path} has no example"
        assert op["requestBody"]["content"]["application/json"]["example"] == examples[0]
        for example in examples:
            jsonschema.Draft202012Validator(body_schema(spec, op)).validate(example)


def examples_of(spec: dict[str, Any], method: str, path: str) -> list[Any]:
    return openapi.body_examples(spec["paths"][path][method], spec["components"]["schemas"])


def test_the_service_accepts_every_example(
    spec: dict[str, Any], api: TestClient, keys: Keys, db_url: str
) -> None:
    admin = Keys.auth(
        make_key(
            db_url, 1, ["admin", "compliance:review"], name="admin-person", user="admin@demo.wealthgate.test"
        )
    )
    agent, reviewer = Keys.auth(keys.agent), Keys.auth(keys.compliance)
    account = fetchval(db_url, "SELECT min(id) FROM accounts WHERE client_id = 1")

    def send(method: str, path: str, body: Any, headers: dict[str, str]) -> dict[str, Any]:
        answer = api.request(method, path, json=body, headers=headers)
        assert answer.status_code < 300, (method, path, body, answer.text)
        found: dict[str, Any] = answer.json()
        return found

    for body in examples_of(spec, "post", "/clients/{client_id}/rebalance-proposal"):
        send("POST", "/clients/1/rebalance-proposal", body, agent)
    for body in examples_of(spec, "post", "/clients/{client_id}/suitability-check"):
        send("POST", "/clients/1/suitability-check", body, agent)
    for body in examples_of(spec, "post", "/tools/{name}"):
        send("POST", "/tools/get_client_context", body, agent)
    for body in examples_of(spec, "post", "/audit/recommendation"):
        send("POST", "/audit/recommendation", body, agent)
    for body in examples_of(spec, "put", "/policy"):
        send("PUT", "/policy", body, admin)
    for body in examples_of(spec, "post", "/admin/advisors"):
        send("POST", "/admin/advisors", body, admin)
    for body in examples_of(spec, "post", "/admin/users"):
        send("POST", "/admin/users", body, admin)
    posted = [
        send("POST", f"/accounts/{account}/transactions", body, admin)["transaction"]["id"]
        for body in examples_of(spec, "post", "/accounts/{account_id}/transactions")
    ]
    for body in examples_of(spec, "post", "/accounts/{account_id}/transactions/{transaction_id}/reverse"):
        send("POST", f"/accounts/{account}/transactions/{posted[-1]}/reverse", body, admin)
    (proposal,) = examples_of(spec, "post", "/recommendations")
    rec_ids = [
        send("POST", "/recommendations", proposal, {**agent, "Idempotency-Key": f"example-{n}"})["id"]
        for n in range(2)
    ]
    (review,) = examples_of(spec, "post", "/recommendations/{rec_id}/approve")
    send("POST", f"/recommendations/{rec_ids[0]}/approve", review, reviewer)
    send("POST", f"/recommendations/{rec_ids[1]}/reject", review, reviewer)
    # execution names the trades that carried the recommendation out: the example's ids are placeholders, so
    # its shape is sent with the buy posted above (the first example is the buy)
    (execution,) = examples_of(spec, "post", "/recommendations/{rec_id}/execute")
    send(
        "POST", f"/recommendations/{rec_ids[0]}/execute", {**execution, "transaction_ids": posted[:1]}, admin
    )


# ---- input hygiene: 4xx naming the field, never 5xx, never stored ------------------------------------------


def assert_refused(answer: Any, field: str) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    named = {e["field"] for e in body.get("errors", [])}
    assert field in named, body


@pytest.mark.parametrize(
    "as_of",
    ["0", "1", "20240131", "0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01", "2024-02-30", "2024-1-5"],
)
def test_dates_outside_the_sane_range_or_not_iso_are_refused(api: TestClient, keys: Keys, as_of: str) -> None:
    answer = api.get("/clients/1/portfolio", params={"as_of": as_of}, headers=Keys.auth(keys.reader))
    assert_refused(answer, "as_of")


@pytest.mark.parametrize("day", ["1900-01-01", "2200-12-31", "2024-02-29"])
def test_dates_inside_the_range_are_read(api: TestClient, keys: Keys, day: str) -> None:
    answer = api.get("/clients/1/allocation", params={"as_of": day}, headers=Keys.auth(keys.reader))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "0"])
def test_a_transaction_dated_out_of_range_is_refused_and_not_stored(
    api: TestClient, keys: Keys, db_url: str, day: str
) -> None:
    account = fetchval(db_url, "SELECT min(id) FROM accounts WHERE client_id = 1")
    before = fetchval(db_url, "SELECT count(*) FROM transactions")
    answer = api.post(
        f"/accounts/{account}/transactions",
        json={"trade_date": day, "type": "deposit", "amount": "10.00"},
        headers=Keys.auth(keys.admin),
    )
    assert_refused(answer, "trade_date")
    assert fetchval(db_url, "SELECT count(*) FROM transactions") == before


@pytest.mark.parametrize("moment", ["0", "2024-01-01T00:00:00", "0001-01-01T00:00:00Z", "9999-12-31"])
def test_audit_times_must_be_rfc3339_in_range(api: TestClient, keys: Keys, moment: str) -> None:
    answer = api.get("/audit/events", params={"from": moment}, headers=Keys.auth(keys.compliance))
    assert_refused(answer, "from")


@pytest.mark.parametrize(
    "moment", ["2024-01-01T00:00:00Z", "2024-01-01T09:30:00.123456789+02:00", "2024-01-01"]
)
def test_audit_times_in_rfc3339_or_as_a_day_are_read(api: TestClient, keys: Keys, moment: str) -> None:
    answer = api.get("/audit/events", params={"from": moment}, headers=Keys.auth(keys.compliance))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("field", ["action", "target_type", "target_id"])
def test_a_nul_in_an_audit_filter_is_a_422_naming_it(api: TestClient, keys: Keys, field: str) -> None:
    answer = api.get("/audit/events", params={field: "a\x00b"}, headers=Keys.auth(keys.compliance))
    assert_refused(answer, field)


@pytest.mark.parametrize(
    ("path", "field"),
    [("/securities", "q"), ("/clients/1/transactions", "q"), ("/clients/1/transactions", "symbol")],
)
def test_a_nul_in_any_text_query_is_refused(api: TestClient, keys: Keys, path: str, field: str) -> None:
    assert_refused(api.get(path, params={field: "A\x00"}, headers=Keys.auth(keys.reader)), field)


def test_a_nul_in_a_body_text_is_refused_and_not_stored(api: TestClient, keys: Keys, db_url: str) -> None:
    before = fetchval(db_url, "SELECT count(*) FROM advisors")
    answer = api.post(
        "/admin/advisors", json={"name": "A\x00B", "email": "a@example.com"}, headers=Keys.auth(keys.admin)
    )
    assert_refused(answer, "name")
    assert fetchval(db_url, "SELECT count(*) FROM advisors") == before


def b64(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


FORGED = [
    "not base64 at all!",
    "AAAA",
    b64({"after": -1}),
    b64({"after": 2**64}),
    b64({"k": [2**70]}),
    b64({"k": [-5]}),
    b64({"k": [True]}),
    b64({"k": ["A\x00B"]}),
    b64({"k": [["nested"]]}),
    b64({"k": [{"x": 1}]}),
    b64({"k": ["1e999999", "2024-01-01", 1]}),
    b64({"k": ["1e-50", "2024-01-01", 1]}),
    b64({"k": ["0.5", "2024-01-01", "1"]}),
    b64({"k": ["0.5", "2024-01-01", 2**64]}),
    b64({"k": ["0.5", "not a day", 1]}),
    b64({"k": ["1_0", "2024-01-01", 1]}),
    b64({"k": "VTI"}),
    b64([1, 2]),
    encode_keyset(["A" * 400]),
]
CURSOR_ROUTES = [
    ("/review-queue", "compliance"),
    ("/securities", "reader"),
    ("/clients", "reader"),
    ("/clients/1/transactions", "reader"),
    ("/audit/events", "compliance"),
]


@pytest.mark.parametrize(("path", "who"), CURSOR_ROUTES)
def test_a_forged_cursor_is_a_422_naming_it_on_every_list(
    api: TestClient, keys: Keys, path: str, who: str
) -> None:
    headers = Keys.auth(getattr(keys, who))
    for cursor in FORGED:
        answer = api.get(path, params={"cursor": cursor}, headers=headers)
        assert_refused(answer, "cursor")
    honest = encode_keyset([1]) if path == "/review-queue" else encode_cursor(1)
    if path in ("/review-queue", "/clients", "/audit/events"):
        assert api.get(path, params={"cursor": honest}, headers=headers).status_code == 200


def test_a_method_the_path_lacks_is_a_405_naming_every_method_it_has(api: TestClient, keys: Keys) -> None:
    answer = api.delete("/policy", headers=Keys.auth(keys.admin))
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, PUT"
    assert api.options("/admin/users").headers["allow"] == "GET, POST"


# ---- tools: JSON types are strict --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [{"client_id": "1"}, {"client_id": 1.0}, {"client_id": True}, {"client_id": 1, "summary": "true"}],
)
def test_a_tool_refuses_a_string_or_float_where_it_takes_an_integer(
    api: TestClient, keys: Keys, arguments: dict[str, Any]
) -> None:
    answer = api.post("/tools/get_client_context", json=arguments, headers=Keys.auth(keys.agent))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in answer.json()["errors"]} & {"client_id", "summary"}


def test_a_tool_takes_json_integers_and_booleans(api: TestClient, keys: Keys) -> None:
    answer = api.post(
        "/tools/get_client_context", json={"client_id": 1, "summary": True}, headers=Keys.auth(keys.agent)
    )
    assert answer.status_code == 200, answer.text


def test_every_tool_argument_model_is_strict_about_integers() -> None:
    """The MCP faces validate with the same models: no tool reads "12" as 12."""
    for tool in REGISTRY:
        for name, field in tool.input.model_fields.items():
            strict = any(getattr(m, "strict", False) for m in field.metadata)
            written = repr(field.annotation)
            lax = not strict if field.annotation is int else bool(LAX_INT.search(written))
            if lax:
                pytest.fail(f"{tool.name}.{name} is a lax integer: {written}")
    with pytest.raises(ValueError, match="recommendation_id"):
        REGISTRY["get_recommendation"].input.model_validate({"recommendation_id": "12"})
