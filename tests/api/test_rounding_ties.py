"""One rounding rule on every face: exact ties (a holding worth 10.125, a weight of 0.0078125) show the same
figure, rounded half away from zero, in the context, the portfolio, the allocation, the drift and the tools.

The books are built with the factories so that every figure is known by hand: a new moderate client with one
taxable account holds only what the test gives it (each position transferred in at no cost)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.factories import Factory

D = Decimal


def book(factory: Factory, holdings: list[tuple[str, str, str, str, str]], cash: str) -> tuple[int, str]:
    """A new client holding exactly `holdings` (symbol, asset class, sector, quantity, price) and `cash`:
    its id and an agent key of its firm."""
    account = factory.account(factory.client(risk_tolerance="moderate"), cash=cash)
    for symbol, cls, sector, quantity, price in holdings:
        factory.security(symbol, asset_class=cls, sector=sector, risk_rating=2, prices={"2018-04-11": price})
        factory.position(account, symbol, quantity, cost_basis="0")
    return account.client_id, factory.key(account.firm_id).secret


# 1 TIEA at 10.125 = 10.13 (half to even: 10.12);
# TIEB 1.00 of 128.00 = 0.0078125 -> 0.007813 (even: 0.007812);
# TIEC 0.16 of 128.00 = 0.00125 -> 0.0013 at the context summary's 4 places (even: 0.0012); cash 116.71.
TIES = [
    ("TIEA", "equity", "Industrials", "1", "10.125"),
    ("TIEB", "fixed_income", "Government", "1", "1"),
    ("TIEC", "real_estate", "Real Estate", "1", "0.16"),
]


def call(api: TestClient, key: str, client: int, route: str, **params: Any) -> Any:
    r = api.get(f"/clients/{client}/{route}", params=params, headers=Keys.auth(key))
    assert r.status_code == 200, r.text
    return r.json()


def tool(api: TestClient, key: str, client: int, name: str, **arguments: Any) -> Any:
    r = api.post(f"/tools/{name}", json={"client_id": client, **arguments}, headers=Keys.auth(key))
    assert r.status_code == 200, r.text
    return r.json()


def check_context(doc: Any) -> None:
    by_symbol = {h["symbol"]: h for h in doc["portfolio"]}
    assert by_symbol["TIEA"]["market_value"] == "10.13"
    assert by_symbol["TIEB"]["weight"] == "0.007813"
    assert doc["totals"]["holdings_value"] == "11.29"
    assert D(doc["totals"]["total_value"]) == D("128.00")


def check_portfolio(doc: Any) -> None:
    by_symbol = {h["symbol"]: h for h in doc["holdings"]}
    assert by_symbol["TIEA"]["market_value"] == "10.13"
    assert D(by_symbol["TIEA"]["unrealized_gain"]) == D("10.13")
    assert by_symbol["TIEB"]["weight"] == "0.007813"
    assert doc["totals"]["holdings_value"] == "11.29"
    assert D(doc["totals"]["total_value"]) == D("128.00")


def check_allocation(doc: Any) -> None:
    assert doc["by_asset_class"]["fixed_income"] == "0.007813"
    assert doc["by_sector"]["Government"] == "0.007813"


def check_drift(doc: Any) -> None:
    rows = {r["asset_class"]: r for r in doc["asset_classes"]}
    assert rows["fixed_income"]["actual"] == "0.007813"


def test_a_tie_shows_the_same_figure_on_every_route(api: TestClient, factory: Factory) -> None:
    client, agent = book(factory, TIES, "116.71")
    context = call(api, agent, client, "context", summary="true")
    check_context(context)
    assert context["summary"]["allocation_by_asset_class"]["real_estate"] == "0.0013"
    check_portfolio(call(api, agent, client, "portfolio", lots="true"))
    check_allocation(call(api, agent, client, "allocation"))
    check_drift(call(api, agent, client, "drift"))


def test_a_tie_shows_the_same_figure_through_the_tools(api: TestClient, factory: Factory) -> None:
    client, agent = book(factory, TIES, "116.71")
    check_context(tool(api, agent, client, "get_client_context", summary=True))
    check_portfolio(tool(api, agent, client, "get_portfolio"))
    check_allocation(tool(api, agent, client, "get_allocation"))
    check_drift(tool(api, agent, client, "get_drift"))


# Fixed income is 400,000.40 of 1,000,000.00: 0.4000004 exactly, 0.0000004 beyond its band (0.35 +/- 0.05).
# Rounded to 6 places it would be 0.400000, on the edge and so "in band"; judged exactly it is out.
EDGE = [
    ("EDGQ", "equity", "Industrials", "5200", "100"),  # 0.52 (0.55 +/- 0.05)
    ("EDGF", "fixed_income", "Government", "400000", "1.000001"),  # 0.4000004
    ("EDGR", "real_estate", "Real Estate", "1000", "40"),  # 0.04 (0.05 +/- 0.03)
]


def test_drift_is_judged_on_exact_weights(api: TestClient, factory: Factory) -> None:
    client, agent = book(factory, EDGE, "39999.60")  # cash 0.0399996 (0.05 +/- 0.03)
    drift = call(api, agent, client, "drift")
    rows = {r["asset_class"]: r for r in drift["asset_classes"]}
    assert rows["fixed_income"]["actual"] == "0.400000"  # shown rounded ...
    assert rows["fixed_income"]["in_band"] is False  # ... judged exactly
    assert [c for c, r in rows.items() if not r["in_band"]] == ["fixed_income"]
    assert drift["in_band"] is False
    summary = call(api, agent, client, "context", summary="true")["summary"]
    assert summary["drift_status"] == "out_of_band"
    assert summary["out_of_band"] == ["fixed_income"]
    assert tool(api, agent, client, "get_drift")["in_band"] is False
