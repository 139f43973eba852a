"""The tool registry over REST: scope-filtered lists in every format, strict OpenAI schemas, and calls that
answer and fail exactly like their REST twins, audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.support import fetchval
from wealthgate.api.tool_calls import REGISTRY
from wealthgate.tools.schemas import STRICT_KEYWORDS, plain
from wealthgate.vocabulary import ASSET_CLASSES, SYMBOL_INPUT_PATTERN

REQUIRED_TOOLS = {
    "list_clients", "get_client_context", "get_portfolio", "get_allocation", "get_risk", "get_drift",
    "get_performance", "propose_rebalance", "search_transactions", "search_securities", "check_suitability",
    "propose_recommendation", "get_recommendation", "record_note",
}  # fmt: skip


def tools(api: TestClient, key: str, fmt: str = "wealthgate") -> list[dict[str, Any]]:
    r = api.get("/tools", params={"format": fmt}, headers=Keys.auth(key))
    assert r.status_code == 200, r.text
    return r.json()["tools"]  # type: ignore[no-any-return]


def call(api: TestClient, key: str, name: str, arguments: dict[str, Any]) -> Any:
    return api.post(f"/tools/{name}", json=arguments, headers=Keys.auth(key))


def assert_strict(schema: dict[str, Any], where: str = "parameters") -> None:
    """OpenAI strict mode: every object closed with every property required, no defaults, no $ref."""
    assert set(schema) <= STRICT_KEYWORDS, (where, set(schema) - STRICT_KEYWORDS)
    if schema.get("type") == "object":
        assert schema["additionalProperties"] is False, where
        assert schema["required"] == list(schema["properties"]), where
        for name, sub in schema["properties"].items():
            assert_strict(sub, f"{where}.{name}")
    for sub in schema.get("anyOf", []):
        assert_strict(sub, where)
    if "items" in schema:
        assert_strict(schema["items"], f"{where}[]")


def test_the_registry_has_every_tool_the_issue_names() -> None:
    assert set(REGISTRY.names()) >= REQUIRED_TOOLS
    assert len(REGISTRY.names()) == len(set(REGISTRY.names()))
    # the closed vocabularies a tool offers are the schema's own
    securities = REGISTRY["search_securities"].input
    asset_classes = securities.model_json_schema()["properties"]["asset_class"]["anyOf"][0]["enum"]
    assert tuple(asset_classes) == ASSET_CLASSES


def test_a_key_sees_only_the_tools_its_scopes_allow_in_every_format(api: TestClient, keys: Keys) -> None:
    for fmt in ("wealthgate", "openai", "anthropic", "mcp"):
        agent = tools(api, keys.agent, fmt)
        reader = tools(api, keys.reader, fmt)
        name = (lambda t: t["function"]["name"]) if fmt == "openai" else (lambda t: t["name"])
        assert {name(t) for t in agent} == set(REGISTRY.names())
        assert {name(t) for t in reader} == {t.name for t in REGISTRY if t.scope == "clients:read"}
        assert "propose_recommendation" not in {name(t) for t in reader}
    assert tools(api, keys.compliance) == []
    assert api.get("/tools").status_code == 401
    assert api.get("/tools", params={"format": "xml"}, headers=Keys.auth(keys.agent)).status_code == 422


def test_every_openai_schema_is_strict_valid(api: TestClient, keys: Keys) -> None:
    listed = tools(api, keys.agent, "openai")
    assert len(listed) == len(REGISTRY.names())
    for t in listed:
        assert t["type"] == "function"
        assert t["function"]["strict"] is True
        assert t["function"]["description"]
        assert_strict(t["function"]["parameters"], t["function"]["name"])


def test_anthropic_and_mcp_lists_match_the_registry(api: TestClient, keys: Keys) -> None:
    anthropic = {t["name"]: t for t in tools(api, keys.agent, "anthropic")}
    mcp = {t["name"]: t for t in tools(api, keys.agent, "mcp")}
    for t in REGISTRY:
        assert anthropic[t.name]["description"] == mcp[t.name]["description"] == t.description
        assert anthropic[t.name]["input_schema"] == mcp[t.name]["inputSchema"]
        assert set(anthropic[t.name]["input_schema"]["properties"]) == set(t.input.model_fields)
        assert mcp[t.name]["annotations"]["readOnlyHint"] is t.read_only
        assert mcp[t.name]["outputSchema"]["type"] == "object"


def test_a_tool_answers_like_its_rest_twin(api: TestClient, keys: Keys) -> None:
    via_tool = call(api, keys.agent, "get_client_context", {"client_id": 1})
    direct = api.get("/clients/1/context", headers=Keys.auth(keys.agent))
    assert via_tool.status_code == 200
    assert via_tool.json() == direct.json()
    assert via_tool.json()["client"]["name"] == "Alice Chen"
    other = call(api, keys.agent, "get_client_context", {"client_id": 40})
    twin = api.get("/clients/40/context", headers=Keys.auth(keys.agent))
    assert other.status_code == twin.status_code == 404
    assert other.json()["detail"] == twin.json()["detail"]
    assert other.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("name", "arguments", "field"),
    [
        ("get_client_context", {}, "client_id"),
        ("get_client_context", {"client_id": "one"}, "client_id"),
        ("get_risk", {"client_id": 1, "window": 5}, "window"),
        (
            "check_suitability",
            {"client_id": 1, "trades": [{"side": "hold", "symbol": "AAPL"}]},
            "trades.0.side",
        ),
        ("get_portfolio", {"client_id": 1, "surprise": True}, "surprise"),
    ],
)
def test_bad_arguments_are_a_422_naming_the_field(
    api: TestClient, keys: Keys, name: str, arguments: dict[str, Any], field: str
) -> None:
    r = call(api, keys.agent, name, arguments)
    assert r.status_code == 422
    assert field in {e["field"] for e in r.json()["errors"]}


def test_hidden_and_unknown_tools_are_404(api: TestClient, keys: Keys) -> None:
    note = {"client_id": 1, "event_type": "x", "payload": "y"}
    assert call(api, keys.reader, "record_note", note).status_code == 404
    assert call(api, keys.agent, "no_such_tool", {}).status_code == 404


def test_tool_calls_and_their_writes_are_audited(api: TestClient, keys: Keys, db_url: str) -> None:
    r = call(
        api,
        keys.agent,
        "propose_recommendation",
        {
            "client_id": 1,
            "trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}],
            "rationale": "More bonds.",
            "agent_name": "tool-test",
            "idempotency_key": "tool-1",
        },
    )
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["status"] in ("proposed", "needs_review")
    again = call(
        api,
        keys.agent,
        "propose_recommendation",
        {
            "client_id": 1,
            "trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}],
            "rationale": "More bonds.",
            "agent_name": "tool-test",
            "idempotency_key": "tool-1",
        },
    )
    assert again.json()["id"] == rec["id"]  # a retried tool call with the same key stores nothing new
    assert fetchval(db_url, "SELECT count(*) FROM recommendations WHERE agent_name = 'tool-test'") == 1
    api.portal.call(api.app.state.reads.flush)  # type: ignore[union-attr,attr-defined]  # tool calls are batched
    n = fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'tool.called'"
        " AND details->>'tool' = 'propose_recommendation' AND details->>'outcome' = 'ok'",
    )
    assert n == 2
    assert fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'recommendation.proposed' AND target_id = $1",
        str(rec["id"]),
    )


def test_an_idempotency_key_on_a_tool_call_reaches_its_twin(api: TestClient, keys: Keys, db_url: str) -> None:
    """A write tool retried with the same Idempotency-Key is stored once (the SDK relies on it)."""
    note = {"client_id": 1, "event_type": "tool-note", "payload": "once"}
    headers = {**Keys.auth(keys.agent), "Idempotency-Key": "tool-note-1"}
    first = api.post("/tools/record_note", json=note, headers=headers)
    second = api.post("/tools/record_note", json=note, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert fetchval(db_url, "SELECT count(*) FROM audit_events WHERE details->>'payload' = 'once'") == 1
    fresh = api.post("/tools/record_note", json=note, headers={**headers, "Idempotency-Key": "tool-note-2"})
    assert fresh.json()["audit_event_id"] != first.json()["audit_event_id"]


# ---- the derived input schemas against the hand-written ones they replaced --------------------------------

BEFORE = json.loads((Path(__file__).parent / "data" / "tool_input_schemas_before.json").read_text())
# What derivation from the routes changed on purpose, beyond descriptions and property order. Each is the
# route's own rule, which the twin enforced anyway: a call it refuses is now refused at the tool (still a 422
# naming the field), and an agent may now write a ticker in any case, which the route upper-cases.
INTENDED = {
    ("list_clients", "cursor"): {"maxLength": 200},
    ("search_transactions", "q"): {"minLength": 1, "pattern": "^[^\\x00]*$"},
    ("search_transactions", "account_id"): {"maximum": 2**63 - 1},
    ("search_transactions", "cursor"): {"maxLength": 300},
    ("search_securities", "q"): {"minLength": 1, "pattern": "^[^\\x00]*$"},
    ("check_suitability", "trades.symbol"): {"pattern": SYMBOL_INPUT_PATTERN},
    ("propose_recommendation", "trades.symbol"): {"pattern": SYMBOL_INPUT_PATTERN},
    ("propose_recommendation", "agent_model"): {"minLength": 1, "pattern": "^[^\\x00]*$"},
    # issue 14: stored text says it refuses NUL (validation.StoredText), as the service always did
    ("propose_recommendation", "agent_name"): {"pattern": "^[^\\x00]*$"},
    ("propose_recommendation", "rationale"): {"pattern": "^[^\\x00]*$"},
    ("record_note", "payload"): {"pattern": "^[^\\x00]*$"},
}


def constraints(schema: dict[str, Any], path: str = "") -> dict[str, dict[str, Any]]:
    """Each property's rules (type, enum, bounds, pattern, required-ness), by dotted path, without the words
    (descriptions) a model reads; nullable properties are reduced to their non-null form."""
    found: dict[str, dict[str, Any]] = {}
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        where = f"{path}{name}"
        options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
        (inner,) = options
        found[where] = {
            k: v for k, v in inner.items() if k not in {"description", "properties", "required", "items"}
        } | {"required": name in required, "nullable": "anyOf" in prop}
        if "items" in inner:
            found[where]["items"] = {k: v for k, v in inner["items"].items() if k == "type"}
            found |= constraints(inner["items"], f"{where}.")
        if "properties" in inner:
            found |= constraints(inner, f"{where}.")
    return found


def test_derived_input_schemas_keep_the_arguments_agents_know() -> None:
    """Same tools, same argument names, same required ones, same types and rules as the hand-written
    catalog had (captured in tests/api/data before the catalog was derived), except the changes listed."""
    assert set(BEFORE) == set(REGISTRY.names())
    differences = {}
    for tool in REGISTRY:
        before, now = constraints(BEFORE[tool.name]), constraints(plain(tool.input))
        assert set(before) == set(now), tool.name
        for path in before:
            changed = {k: now[path].get(k) for k in set(before[path]) | set(now[path])
                       if before[path].get(k) != now[path].get(k)}  # fmt: skip
            if changed:
                differences[(tool.name, path)] = changed
    assert differences == INTENDED


def test_the_schema_comparison_can_fail() -> None:
    narrowed = json.loads(json.dumps(BEFORE["get_risk"]))
    narrowed["properties"]["window"]["anyOf"][0]["maximum"] = 100
    narrowed["required"].append("window")
    got = constraints(narrowed)["window"]
    assert (got["maximum"], got["required"]) == (100, True)
    assert constraints(BEFORE["get_risk"])["window"]["maximum"] == 2520


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("get_client_context", {"client_id": 1}),
        ("record_note", {"client_id": 1, "event_type": "note", "payload": "called back"}),
    ],
)
def test_a_malformed_read_after_position_is_refused_on_the_tool_face_too(
    api: TestClient, keys: Keys, tool: str, arguments: dict[str, Any]
) -> None:
    """`WealthGate-Read-After` (docs/scaling.md) is checked wherever it is taken, without replicas too: on the
    tool face before any tool runs (a write tool's twin would not look at it), and on a read route."""
    bad = {**Keys.auth(keys.agent), "WealthGate-Read-After": "12ab"}
    for answer in (
        api.post(f"/tools/{tool}", json=arguments, headers=bad),
        api.get("/clients/1/context", headers=bad),
    ):
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "WealthGate-Read-After"
    good = {**Keys.auth(keys.agent), "WealthGate-Read-After": "123"}
    assert api.post(f"/tools/{tool}", json=arguments, headers=good).status_code in (200, 201)
