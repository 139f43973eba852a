"""The SDK's typed methods cannot drift from the tool registry: one method per tool, with the input model's
parameter names in order, the same required/optional split and the same types; and each sends its own tool."""

from __future__ import annotations

import inspect
import json
import re
import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import httpx
from pydantic import BaseModel

from tests.conftest import REPO
from wealthgate.api.tool_calls import REGISTRY
from wealthgate.client import AsyncWealthgateClient, Trade, WealthgateClient
from wealthgate.client.tools import ToolMethods
from wealthgate.tools.registry import Registry, Tool, ToolSpec

# the trade argument model (derived from the suitability route's TradeIn), what the SDK's Trade mirrors
TradeArg: type[BaseModel] = get_args(REGISTRY["check_suitability"].input.model_fields["trades"].annotation)[0]

GENERIC = {"call"}


def bare(tp: Any) -> Any:
    """A type without its Annotated metadata (pydantic keeps constraints there), unions rebuilt."""
    origin = get_origin(tp)
    if origin is Annotated:
        return bare(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return Union[tuple(bare(a) for a in get_args(tp))]  # noqa: UP007 -- built from a tuple
    return tp


def typed_dict_matches(td: Any, model: type[BaseModel]) -> bool:
    hints = get_type_hints(td)
    fields = model.model_fields
    return (
        list(hints) == list(fields)
        and set(td.__required_keys__) == {n for n, f in fields.items() if f.is_required()}
        and all(hints[n] == bare(f.annotation) for n, f in fields.items())
    )


def param_type_matches(got: Any, expected: Any) -> bool:
    """Equal types, except that a list of argument models is taken as a Sequence of the matching TypedDict."""
    if get_origin(expected) is list and issubclass(get_args(expected)[0], BaseModel):
        return get_origin(got) is Sequence and typed_dict_matches(get_args(got)[0], get_args(expected)[0])
    return bool(got == expected)


def mismatches(cls: type, registry: Registry) -> list[str]:
    found = []
    for tool in registry:
        method = getattr(cls, tool.name, None)
        if method is None:
            found.append(f"{tool.name}: no method")
            continue
        params = [p for p in inspect.signature(method).parameters.values() if p.name != "self"]
        hints = get_type_hints(method)
        fields = tool.input.model_fields
        if [p.name for p in params] != list(fields):
            found.append(f"{tool.name}: parameters {[p.name for p in params]} != fields {list(fields)}")
        for p in params:
            field = fields.get(p.name)
            if field is None:
                continue
            if field.is_required() != (p.default is inspect.Parameter.empty):
                found.append(f"{tool.name}.{p.name}: required differs")
            if p.default not in (inspect.Parameter.empty, None):
                found.append(f"{tool.name}.{p.name}: default {p.default!r} (the server's default applies)")
            if not param_type_matches(hints[p.name], bare(field.annotation)):
                found.append(f"{tool.name}.{p.name}: {hints[p.name]} != {bare(field.annotation)}")
    names = set(registry.names())
    own = {n for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}
    found += [f"{n}: no such tool" for n in sorted(own - names - GENERIC)]
    return found


def test_every_registry_tool_has_a_method_with_its_parameters() -> None:
    assert mismatches(ToolMethods, REGISTRY) == []
    assert issubclass(WealthgateClient, ToolMethods)
    assert issubclass(AsyncWealthgateClient, ToolMethods)
    assert typed_dict_matches(Trade, TradeArg)


def test_the_drift_check_can_fail() -> None:
    class Drifted:  # deliberately not a ToolMethods: its signatures break the contract
        def get_risk(self, client_id: int, *, as_of: str | None = None, windows: int | None = None) -> Any:
            return None

        def get_drift(self, client_id: str, *, as_of: str | None = "2020-01-01") -> Any:
            return None

        def get_client_context(self, client_id: int, *, summary: bool) -> Any:
            return None

        def get_weather(self) -> Any:
            return None

    problems = mismatches(Drifted, REGISTRY)
    assert any(p.startswith("get_risk: parameters") for p in problems)
    assert "get_drift.client_id: <class 'str'> != <class 'int'>" in problems
    assert any(p.startswith("get_drift.as_of: default") for p in problems)
    assert "get_client_context.summary: required differs" in problems
    assert "get_weather: no such tool" in problems
    spec = ToolSpec(route="weather", name="get_weather", title="-", description="-", scope="clients:read")
    extra = Tool(spec=spec, input=TradeArg, output=TradeArg, method="GET", bindings=())
    assert "get_weather: no method" in mismatches(ToolMethods, Registry([*REGISTRY, extra]))


def test_each_method_carries_its_tools_description() -> None:
    for tool in REGISTRY:
        doc = getattr(WealthgateClient, tool.name).__doc__
        assert doc.startswith(tool.description)


def test_each_method_calls_its_own_tool_with_only_the_given_arguments() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, json.loads(request.content)))
        return httpx.Response(200, json={"ok": True})

    trade: Trade = {"side": "buy", "symbol": "AAPL", "quantity": "1"}
    required = {"client_id": 1, "trades": [trade], "rationale": "r", "agent_name": "a"}
    required |= {"recommendation_id": 7, "event_type": "note", "payload": "p"}
    with WealthgateClient("wg_1_1_x", transport=httpx.MockTransport(answer)) as wg:
        for tool in REGISTRY:
            fields = tool.input.model_fields
            given = {n: required[n] for n, f in fields.items() if f.is_required()}
            assert getattr(wg, tool.name)(**given) == {"ok": True}
            path, body = sent[-1]
            assert path == f"/tools/{tool.name}"
            if "idempotency_key" in fields:
                assert body.pop("idempotency_key").startswith("sdk-")
            assert body == given, tool.name
    assert len(sent) == len(REGISTRY.names())


def guide_table(text: str) -> dict[str, list[str]]:
    """docs/agents.md's tool table: tool name -> its arguments as written (required ones in bold)."""
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]*) \|", text, re.MULTILINE)
    return {name: [a.strip() for a in args.split(",") if a.strip()] for name, args in rows}


def table_drift(table: dict[str, list[str]], registry: Registry) -> list[str]:
    expected = {
        t.name: [f"**{n}**" if f.is_required() else n for n, f in t.input.model_fields.items()]
        for t in registry
    }
    return [f"{n}: {table.get(n)} != {args}" for n, args in expected.items() if table.get(n) != args] + [
        f"{n}: no such tool" for n in table if n not in expected
    ]


def test_the_agent_guide_lists_every_tool_with_its_arguments() -> None:
    table = guide_table((REPO / "docs" / "agents.md").read_text())
    assert table_drift(table, REGISTRY) == []
    broken = {**table, "get_risk": ["**client_id**", "as_of"], "get_weather": []}
    assert len(table_drift(broken, REGISTRY)) == 2
