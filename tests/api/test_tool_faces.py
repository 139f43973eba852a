"""Every tool through every face: REST `/tools/{name}`, MCP (streamable HTTP at `/mcp`, what MCP clients call)
and the SDK (its typed method), with the same arguments. The three answers agree, and a read's answer is its
REST twin's own (a write's too, but for what each call creates anew: ids, times).

One row per tool; a row names the twin request written out by hand, not rebuilt from the registry, so a tool
mapped onto the wrong route, path, parameter or body field fails here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.support import mcp_tool_call
from wealthgate.api.tool_calls import REGISTRY
from wealthgate.client import AsyncWealthgateClient

TRADES = [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}]
BASE = "http://wealthgate.test"


@dataclass(frozen=True)
class Row:
    tool: str
    arguments: dict[str, Any]
    method: str  # the twin request
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    fresh: frozenset[str] = frozenset()  # answer fields each call makes anew (a write's id, its times)


ROWS = [
    Row("list_clients", {"limit": 3}, "GET", "/clients", {"limit": 3}),
    Row("get_client_context", {"client_id": 1, "summary": True}, "GET", "/clients/1/context",
        {"summary": "true"}),
    Row("get_portfolio", {"client_id": 1, "as_of": "2018-04-11", "lots": True}, "GET", "/clients/1/portfolio",
        {"as_of": "2018-04-11", "lots": "true"}),
    Row("get_allocation", {"client_id": 1, "as_of": "2018-04-11"}, "GET", "/clients/1/allocation",
        {"as_of": "2018-04-11"}),
    Row("get_risk", {"client_id": 1, "window": 60}, "GET", "/clients/1/risk", {"window": 60}),
    Row("get_drift", {"client_id": 2}, "GET", "/clients/2/drift"),
    Row("get_performance", {"client_id": 1, "from_date": "2017-01-03", "to_date": "2018-04-11"}, "GET",
        "/clients/1/performance", {"from": "2017-01-03", "to": "2018-04-11"}),
    Row("propose_rebalance", {"client_id": 1, "min_trade": "1000", "fractional": True}, "POST",
        "/clients/1/rebalance-proposal", json={"min_trade": "1000", "fractional": True}),
    Row("search_transactions", {"client_id": 1, "type": "dividend", "from_date": "2016-01-01", "limit": 5},
        "GET", "/clients/1/transactions", {"type": "dividend", "from": "2016-01-01", "limit": 5}),
    Row("search_securities", {"q": "bond", "asset_class": "fixed_income", "max_risk": 3, "limit": 5}, "GET",
        "/securities", {"q": "bond", "asset_class": "fixed_income", "max_risk": 3, "limit": 5}),
    Row("get_recommendation", {"recommendation_id": 0}, "GET", "/recommendations/0"),  # 0: made by the test
    Row("check_suitability", {"client_id": 1, "trades": TRADES}, "POST", "/clients/1/suitability-check",
        json={"trades": TRADES}, fresh=frozenset({"check_id"})),
    Row("propose_recommendation",
        {"client_id": 1, "trades": TRADES, "rationale": "Bonds.", "agent_name": "faces", "agent_model": "m"},
        "POST", "/recommendations",
        json={"client_id": 1, "trades": TRADES, "rationale": "Bonds.",
              "agent": {"name": "faces", "model": "m"}},
        fresh=frozenset({"id", "created_at", "expires_at", "audit_event_id"})),
    Row("record_note", {"client_id": 1, "event_type": "faces", "payload": '{"seen": true}'}, "POST",
        "/audit/recommendation", json={"client_id": 1, "event_type": "faces", "payload": '{"seen": true}'},
        fresh=frozenset({"audit_event_id"})),
]  # fmt: skip


def test_the_table_covers_every_tool() -> None:
    assert sorted(r.tool for r in ROWS) == sorted(REGISTRY.names())


def over_rest(api: TestClient, key: str, row: Row, arguments: dict[str, Any]) -> tuple[int, Any]:
    r = api.post(f"/tools/{row.tool}", json=arguments, headers=Keys.auth(key))
    return r.status_code, r.json()


def over_mcp(api: TestClient, key: str, row: Row, arguments: dict[str, Any]) -> Any:
    result = mcp_tool_call(api, key, row.tool, arguments).json()["result"]
    assert not result.get("isError"), result
    return result["structuredContent"]


def over_sdk(api: TestClient, key: str, row: Row, arguments: dict[str, Any]) -> Any:
    """The SDK's typed method for the tool (async client, in the app's own event loop)."""
    first, *_ = REGISTRY[row.tool].input.model_fields
    positional = [arguments[first]] if first.endswith("_id") else []
    keywords = {k: v for k, v in arguments.items() if not positional or k != first}

    async def call() -> Any:
        transport = httpx.ASGITransport(app=api.app)
        async with AsyncWealthgateClient(key, base_url=BASE, transport=transport) as wg:
            return await getattr(wg, row.tool)(*positional, **keywords)

    return api.portal.call(call)  # type: ignore[union-attr]  # the portal runs while the app does


def over_twin(api: TestClient, key: str, row: Row, arguments: dict[str, Any]) -> tuple[int, Any]:
    path = row.path
    if row.tool == "get_recommendation":
        path = f"/recommendations/{arguments['recommendation_id']}"
    headers = Keys.auth(key) | ({"Idempotency-Key": f"twin-{row.tool}"} if row.method == "POST" else {})
    r = api.request(row.method, path, params=row.params, json=row.json, headers=headers)
    return r.status_code, r.json()


def without(answer: Any, fresh: frozenset[str]) -> Any:
    assert isinstance(answer, dict), answer
    for name in fresh:
        assert name in answer, name  # what each call makes anew is there, only different
    return {k: v for k, v in answer.items() if k not in fresh}


@pytest.mark.parametrize("row", ROWS, ids=[r.tool for r in ROWS])
def test_every_face_answers_like_the_twin(api: TestClient, keys: Keys, row: Row) -> None:
    arguments = dict(row.arguments)
    if row.tool == "get_recommendation":
        proposed = api.post(
            "/recommendations",
            json={"client_id": 1, "trades": TRADES, "rationale": "r", "agent": {"name": "faces"}},
            headers={**Keys.auth(keys.agent), "Idempotency-Key": "faces-seed"},
        )
        assert proposed.status_code == 201, proposed.text
        arguments["recommendation_id"] = proposed.json()["id"]
    status, rest = over_rest(api, keys.agent, row, arguments)
    mcp = over_mcp(api, keys.agent, row, arguments)
    sdk = over_sdk(api, keys.agent, row, arguments)
    twin_status, twin = over_twin(api, keys.agent, row, arguments)
    assert status == twin_status, rest
    assert status < 300, rest
    assert without(rest, row.fresh) == without(mcp, row.fresh) == without(sdk, row.fresh)
    assert without(rest, row.fresh) == without(twin, row.fresh)
    if row.fresh:  # a write through each face made its own record
        assert len({str({k: a[k] for k in sorted(row.fresh)}) for a in (rest, mcp, sdk, twin)}) == 4
