"""Valuation, allocation and drift through the API: scoped, consistent, and right by hand on a small book."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.factories import Factory
from tests.integration.test_demo_book import replayed_lots, stored_lots
from tests.support import fetch, fetchval
from wealthgate.money import to_cents

ROUTES = ["portfolio", "allocation", "drift", "risk"]
D = Decimal


def get(api: TestClient, key: str, client_id: int, route: str, **params: Any) -> Any:
    return api.get(f"/clients/{client_id}/{route}", params=params, headers=Keys.auth(key))


@pytest.mark.parametrize("route", ROUTES)
def test_scoped_like_every_client_route(api: TestClient, keys: Keys, route: str) -> None:
    assert get(api, keys.agent, 1, route).status_code == 200
    assert get(api, keys.agent, 40, route).status_code == 404
    strip = lambda body: {k: v for k, v in body.items() if k not in ("instance", "request_id")}  # noqa: E731
    assert strip(get(api, keys.agent, 40, route).json()) == strip(get(api, keys.agent, 999_999, route).json())
    assert get(api, keys.advisor2, 1, route).status_code == 404
    assert get(api, keys.compliance, 1, route).status_code == 403
    assert api.get(f"/clients/1/{route}").status_code == 401
    assert get(api, keys.agent, 1, route, as_of="soon").status_code == 422


def test_current_valuation_agrees_with_the_context_and_the_ledger(api: TestClient, keys: Keys) -> None:
    context = api.get("/clients/1/context", headers=Keys.auth(keys.agent)).json()
    now = get(api, keys.agent, 1, "portfolio").json()
    assert now["as_of"] == context["totals"]["priced_as_of"] == "2018-04-11"
    assert D(now["totals"]["total_value"]) == D(context["totals"]["total_value"])
    replayed = get(api, keys.agent, 1, "portfolio", as_of="2018-04-11").json()
    assert replayed["totals"] == now["totals"]
    key = lambda h: (h["account_id"], h["symbol"])  # noqa: E731
    assert sorted(replayed["holdings"], key=key) == sorted(now["holdings"], key=key)


def test_as_of_before_the_first_trade_is_empty(api: TestClient, keys: Keys) -> None:
    before = get(api, keys.agent, 1, "portfolio", as_of="2015-01-01").json()
    assert before["holdings"] == []
    assert D(before["totals"]["total_value"]) == 0


def test_alice_allocation_sums_to_one_and_drift_uses_her_model(api: TestClient, keys: Keys) -> None:
    a = get(api, keys.agent, 1, "allocation").json()
    for dim in ("by_asset_class", "by_sector", "by_region", "by_account_type"):
        # each weight rounded on its own (half away from zero): within half a millionth per weight of 1
        assert abs(sum(D(w) for w in a[dim].values()) - 1) <= D("0.0000005") * len(a[dim])
    d = get(api, keys.agent, 1, "drift").json()
    assert d["risk_profile"] == "moderate"
    targets = {r["asset_class"]: D(r["target"]) for r in d["asset_classes"]}
    assert targets["equity"] == D("0.55")
    for r in d["asset_classes"]:
        assert D(r["actual"]) == D(a["by_asset_class"].get(r["asset_class"], "0"))
        assert r["in_band"] == (abs(D(r["actual"]) - D(r["target"])) <= D(r["band"]))


def test_a_small_book_by_hand(api: TestClient, factory: Factory) -> None:
    """Deposit 1,000; buy 10 TSTA at 12.345 (123.45) and 3 TSTB at 100 (300.00): cash 576.55, total 1,000.00.
    On 2018-04-12 TSTA closes at 15 (150.00) and TSTB at 98.5 (295.50): total 1,022.05."""
    for symbol, cls, closes in (
        ("TSTA", "equity", {"2018-04-11": "12.345", "2018-04-12": "15"}),
        ("TSTB", "fixed_income", {"2018-04-11": "100", "2018-04-12": "98.5"}),
    ):
        factory.security(symbol, asset_class=cls, sector="Test", region="Test", prices=closes)
    book = factory.client(name="Hand Book", risk_tolerance="moderate")
    account = factory.account(book, cash="1000", opened_on=date(2018, 4, 10))
    factory.post(account, "buy", "2018-04-11", symbol="TSTA", quantity="10", price="12.345")
    factory.post(account, "buy", "2018-04-11", symbol="TSTB", quantity="3", price="100")
    client, agent = book.id, factory.key(book.firm_id).secret

    then = get(api, agent, client, "portfolio", as_of="2018-04-11").json()
    assert then["totals"] == {
        "holdings_value": "423.45",
        "cash": "576.5500",
        "total_value": "1000.0000",
        "realized_gain": "0",
        "fifo": {"realized_gain": "0"},
    }
    later = get(api, agent, client, "portfolio", as_of="2018-04-12").json()
    by_symbol = {h["symbol"]: h for h in later["holdings"]}
    assert (by_symbol["TSTA"]["market_value"], by_symbol["TSTA"]["unrealized_gain"]) == ("150.00", "26.5500")
    assert (by_symbol["TSTB"]["market_value"], by_symbol["TSTB"]["unrealized_gain"]) == ("295.50", "-4.5000")
    assert later["totals"]["total_value"] == "1022.0500"
    alloc = get(api, agent, client, "allocation", as_of="2018-04-12").json()["by_asset_class"]
    # 150/1022.05 = 0.146764..., 295.5/1022.05 = 0.289125..., 576.55/1022.05 = 0.564111...
    assert alloc == {"cash_equivalent": "0.564111", "equity": "0.146764", "fixed_income": "0.289125"}
    d = {
        r["asset_class"]: r
        for r in get(api, agent, client, "drift", as_of="2018-04-12").json()["asset_classes"]
    }
    assert d["equity"]["difference"] == "-0.403236"  # 0.146764 - 0.55
    assert d["equity"]["in_band"] is False
    assert d["real_estate"]["actual"] == "0.000000"  # a weight, to 6 places like every other
    # 1,000 deposited on 2018-04-10 is worth 1,022.05 on 2018-04-12: +2.205%, no flows in between
    perf = get(api, agent, client, "performance", **{"to": "2018-04-12"}).json()["period"]["total"]
    assert (perf["from"], perf["start_value"], perf["end_value"]) == ("2018-04-10", "1000.00", "1022.05")
    assert (perf["twr"], perf["mwr"], perf["mwr_annualised"]) == ("0.022050", "0.022050", None)


def test_fifo_lots_after_postings_by_hand(api: TestClient, factory: Factory, db_url: str) -> None:
    """Through the ledger API, into a taxable account holding 7 SPY (no JPM before): buy 10 @ 100 (1,000.00)
    and 10 @ 120 with 5.00 fees (1,205.00), sell 15 @ 130 with 6.00 fees (1,944.00). FIFO: the first lot and
    half the second (602.50) go, 1,602.50: realized 341.50, left one lot of 5 costing 602.50. Average cost
    2,205 / 20 = 110.25: the sale removes 1,653.75, realized 290.25, left 551.25. Realized less open cost is
    -261.00 both ways (-1,000 - 1,205 + 1,944)."""
    owner = factory.client()
    account = factory.account(owner, cash="5000", opened_on=date(2018, 3, 1))
    factory.position(account, "SPY", "7", cost_basis="1750", acquired_on=date(2018, 3, 1))
    ledger = factory.key(owner.firm_id, ["admin"]).headers
    agent = factory.key(owner.firm_id).secret
    client, acct = owner.id, account.id
    trades = [
        ("2018-04-02", "buy", "10", "100", "0"),
        ("2018-04-03", "buy", "10", "120", "5"),
        ("2018-04-04", "sell", "15", "130", "6"),
    ]
    ids = []
    for day, kind, quantity, price, fees in trades:
        body = {"trade_date": day, "type": kind, "symbol": "JPM", "quantity": quantity, "price": price}
        r = api.post(f"/accounts/{acct}/transactions", json={**body, "fees": fees}, headers=ledger)
        assert r.status_code == 201, r.text
        ids.append(r.json()["transaction"]["id"])
    jpm = lambda body: next(h for h in body["holdings"] if (h["account_id"], h["symbol"]) == (acct, "JPM"))  # noqa: E731

    body = get(api, agent, client, "portfolio", lots="true").json()
    assert body["cost_basis_method"] == "average"
    h = jpm(body)
    price = D(h["price"])
    assert (h["quantity"], h["cost_basis"], h["realized_gain"]) == ("5", "551.2500", "290.2500")
    assert D(h["unrealized_gain"]) == to_cents(5 * price) - D("551.25")
    assert h["fifo"] == {
        "cost_basis": "602.5000",
        "unrealized_gain": str(to_cents(5 * price) - D("602.5000")),
        "realized_gain": "341.5000",
        "open_lots": 1,
    }
    assert h["lots"] == [
        {
            "acquired_on": "2018-04-03",
            "transaction_id": ids[1],
            "quantity": "5",
            "acquired_quantity": "10",
            "cost_basis": "602.5000",
            "unrealized_gain": str(to_cents(5 * price) - D("602.5000")),
        }
    ]
    others = [x for x in body["holdings"] if x is not h]
    assert [x["symbol"] for x in others] == ["SPY"]
    assert all(sum(D(lot["quantity"]) for lot in x["lots"]) == D(x["quantity"]) for x in others)
    assert D(body["totals"]["fifo"]["realized_gain"]) == sum(
        D(x["fifo"]["realized_gain"]) for x in body["holdings"]
    )
    assert "lots" not in jpm(get(api, agent, client, "portfolio").json())  # opt-in
    assert jpm(get(api, agent, client, "portfolio").json())["fifo"] == h["fifo"]
    assert jpm(get(api, agent, client, "portfolio", as_of="2018-04-11", lots="true").json()) == h
    only = ("firm_id = $1 AND account_id = $2", owner.firm_id, acct)
    assert stored_lots(db_url, *only) == replayed_lots(db_url, *only)
    assert len(stored_lots(db_url, *only)[(owner.firm_id, acct, "JPM")]) == 1

    # the sale reversed: both lots whole again, in the table as on the report
    r = api.post(f"/accounts/{acct}/transactions/{ids[2]}/reverse", headers=ledger)
    assert r.status_code == 201, r.text
    h = jpm(get(api, agent, client, "portfolio", lots="true").json())
    assert [(lot["transaction_id"], lot["quantity"], lot["cost_basis"]) for lot in h["lots"]] == [
        (ids[0], "10", "1000.0000"),
        (ids[1], "10", "1205.0000"),
    ]
    assert (h["fifo"]["realized_gain"], h["realized_gain"]) == ("0", "0")
    assert stored_lots(db_url, *only) == replayed_lots(db_url, *only)
    assert len(stored_lots(db_url, *only)[(owner.firm_id, acct, "JPM")]) == 2
    # the first buy reversed too: one lot left, table and report alike
    assert api.post(f"/accounts/{acct}/transactions/{ids[0]}/reverse", headers=ledger).status_code == 201
    h = jpm(get(api, agent, client, "portfolio", lots="true").json())
    assert [lot["transaction_id"] for lot in h["lots"]] == [ids[1]]
    assert stored_lots(db_url, *only) == replayed_lots(db_url, *only)
    assert stored_lots(db_url, *only)[(owner.firm_id, acct, "JPM")] == [
        (client, ids[1], date(2018, 4, 3), D(10), D(10), D("120.5"), D("1205"))
    ]


def test_alice_risk(api: TestClient, keys: Keys) -> None:
    r = get(api, keys.agent, 1, "risk").json()
    assert r["as_of"] == "2018-04-11"
    assert r["window"]["trading_days"] == 252
    assert r["window"]["left_out"] == []
    assert D(r["largest_position"]["weight"]) <= D(r["top5_weight"]) <= 1
    assert D(0) < D(r["annualised_volatility"]) < D(1)
    assert D(-1) <= D(r["max_drawdown"]) <= 0
    assert set(r["methods"]) >= {"hhi", "annualised_volatility", "max_drawdown"}
    portfolio = get(api, keys.agent, 1, "portfolio").json()
    total = D(portfolio["totals"]["total_value"])
    by_symbol: dict[str, Decimal] = {}
    for h in portfolio["holdings"]:
        by_symbol[h["symbol"]] = by_symbol.get(h["symbol"], D(0)) + D(h["market_value"])
    top = max(by_symbol, key=lambda s: by_symbol[s])
    assert r["largest_position"] == {
        "symbol": top,
        "weight": str((by_symbol[top] / total).quantize(D("0.000001"))),
    }
    short = get(api, keys.agent, 1, "risk", window=20).json()
    assert short["window"]["trading_days"] == 20
    assert get(api, keys.agent, 1, "risk", window=5).status_code == 422


def propose_for(api: TestClient, key: str, client_id: int, body: dict[str, Any] | None = None) -> Any:
    return api.post(f"/clients/{client_id}/rebalance-proposal", json=body, headers=Keys.auth(key))


def test_alice_rebalance_proposal_lands_in_band_and_executes_nothing(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    before = fetchval(db_url, "SELECT count(*) FROM transactions")
    r = propose_for(api, keys.agent, 1, {"cash_reserve": "5000", "min_trade": "100"})
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["executes"] is False
    assert p["in_band"] is True, p["notes"]
    assert all(row["in_band"] for row in p["projected_drift"])
    assert all(D(t["estimated_value"]) >= 100 for t in p["trades"])
    assert all(D(t["quantity"]) == D(t["quantity"]).to_integral_value() for t in p["trades"])
    weights = p["projected_allocation"].values()
    assert abs(sum(D(w) for w in weights) - 1) <= D("0.0000005") * len(weights)  # each rounded on its own
    assert fetchval(db_url, "SELECT count(*) FROM transactions") == before
    drift_now = get(api, keys.agent, 1, "drift").json()
    if drift_now["in_band"]:
        assert p["trades"] == []


def test_a_restricted_client_is_never_offered_what_it_excludes(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    restricted = fetch(
        db_url,
        "SELECT id, excluded_symbols, excluded_sectors FROM clients WHERE firm_id = 1 AND"
        " (cardinality(excluded_symbols) > 0 OR cardinality(excluded_sectors) > 0)",
    )
    assert restricted
    sectors = {r["symbol"]: r["sector"] for r in fetch(db_url, "SELECT symbol, sector FROM securities")}
    for row in restricted:
        p = propose_for(api, keys.agent, row["id"], {"fractional": True}).json()
        for t in p["trades"]:
            if t["side"] == "buy":
                assert t["symbol"] not in row["excluded_symbols"]
                assert sectors[t["symbol"]] not in row["excluded_sectors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cash_reserve": "-1"}, "cash_reserve"),
        ({"min_trade": 10.5}, "min_trade"),
        ({"fractional": "yes"}, "fractional"),
        ({"execute": True}, "execute"),
    ],
)
def test_rebalance_bad_input(api: TestClient, keys: Keys, body: dict[str, Any], field: str) -> None:
    r = propose_for(api, keys.agent, 1, body)
    assert r.status_code == 422
    assert field in {e["field"] for e in r.json()["errors"]}


def test_rebalance_scoping(api: TestClient, keys: Keys) -> None:
    assert propose_for(api, keys.agent, 40).status_code == 404
    assert propose_for(api, keys.advisor2, 1).status_code == 404
    assert propose_for(api, keys.compliance, 1).status_code == 403


def test_performance_of_alice(api: TestClient, keys: Keys) -> None:
    p = get(api, keys.agent, 1, "performance").json()
    assert p["as_of"] == "2018-04-11"
    total = p["period"]["total"]
    assert total["from"] == "2015-10-29"  # her first transaction
    # the base is the end of her first day: 750,000 deposited less that day's trading fees
    assert D(749_900) < D(total["start_value"]) < D(750_000)
    assert D("-0.5") < D(total["twr"]) < D("1")
    assert total["mwr_annualised"] is not None  # over two years
    assert set(p["windows"]) == {"1M", "3M", "YTD", "1Y", "since_inception"}
    assert p["windows"]["since_inception"]["twr"] == total["twr"]
    assert p["windows"]["1M"]["mwr_annualised"] is None  # under a year: not annualised
    assert set(p["period"]["accounts"]) == {"1", "2"}
    assert D(p["period"]["accounts"]["1"]["end_value"]) + D(p["period"]["accounts"]["2"]["end_value"]) == D(
        total["end_value"]
    )
    context = api.get("/clients/1/context", headers=Keys.auth(keys.agent)).json()
    assert abs(D(total["end_value"]) - D(context["totals"]["total_value"])) <= D("0.05")


def test_performance_bad_input_and_scoping(api: TestClient, keys: Keys) -> None:
    r = get(api, keys.agent, 1, "performance", **{"from": "2018-05-01", "to": "2018-01-01"})
    assert r.status_code == 422
    assert "from" in {e["field"] for e in r.json()["errors"]}
    assert get(api, keys.agent, 40, "performance").status_code == 404


def test_realized_gain_from_the_ledger(api: TestClient, keys: Keys, db_url: str) -> None:
    """Buy 10 at 10 (100.00), sell 4 at 15 (60.00): 4 shares' average cost was 40.00, realized 20.00."""
    post = lambda body: api.post("/accounts/1/transactions", json=body, headers=Keys.auth(keys.admin))  # noqa: E731
    assert (
        post(
            {"trade_date": "2018-04-12", "type": "buy", "symbol": "GE", "quantity": "10", "price": "10"}
        ).status_code
        == 201
    )
    before = get(api, keys.agent, 1, "portfolio").json()
    ge = [h for h in before["holdings"] if h["symbol"] == "GE" and h["account_id"] == 1]
    prior = D(ge[0]["realized_gain"]) if ge else D(0)
    held = fetchval(db_url, "SELECT quantity FROM positions WHERE account_id = 1 AND symbol = 'GE'")
    cost = fetchval(db_url, "SELECT cost_basis FROM positions WHERE account_id = 1 AND symbol = 'GE'")
    assert (
        post(
            {"trade_date": "2018-04-12", "type": "sell", "symbol": "GE", "quantity": "4", "price": "15"}
        ).status_code
        == 201
    )
    after = get(api, keys.agent, 1, "portfolio").json()
    ge_after = next(h for h in after["holdings"] if h["symbol"] == "GE" and h["account_id"] == 1)
    removed = cost - (cost * (held - 4) / held).quantize(D("0.0001"))
    assert D(ge_after["realized_gain"]) - prior == D(60) - removed
    assert D(after["totals"]["realized_gain"]) - D(before["totals"]["realized_gain"]) == D(60) - removed
