"""The agent context keeps the guide's shape and gives exact, consistent figures."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.factories import Account, Factory
from tests.support import fetch, fetchval


def context(api: TestClient, key: Keys | str, client_id: int = 1, summary: bool = False) -> dict:  # type: ignore[type-arg]
    """The context of `client_id` as `key` sees it (the `keys` fixture: its agent key)."""
    params = {"summary": "true"} if summary else {}
    secret = key.agent if isinstance(key, Keys) else key
    r = api.get(f"/clients/{client_id}/context", params=params, headers=Keys.auth(secret))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    return r.json()  # type: ignore[no-any-return]


def test_the_guides_keys_are_there(api: TestClient, keys: Keys) -> None:
    doc = context(api, keys)
    assert doc["client"]["id"] == 1
    assert doc["client"]["name"] == "Alice Chen"
    assert doc["client"]["risk_profile"] == "moderate"
    assert isinstance(doc["instructions"], list)  # a list of sentences, not a JSON string holding one
    assert "Use risk profile before making any recommendation" in doc["instructions"]
    assert "Write every decision to audit_events" in doc["instructions"]
    for holding in doc["portfolio"]:
        assert {"id", "client_id", "symbol", "quantity"} <= holding.keys()
        assert holding["client_id"] == 1


def test_figures_are_strings_and_add_up(api: TestClient, keys: Keys, db_url: str) -> None:
    doc = context(api, keys)
    total = Decimal(doc["totals"]["total_value"])
    holdings = Decimal(doc["totals"]["holdings_value"])
    cash = Decimal(doc["totals"]["cash"])
    assert holdings + cash == total
    assert sum(Decimal(h["market_value"]) for h in doc["portfolio"]) == holdings
    assert cash == sum(Decimal(a["cash"]) for a in doc["accounts"])
    for h in doc["portfolio"]:
        assert isinstance(h["quantity"], str)
        assert isinstance(h["market_value"], str)
        expected = (Decimal(h["quantity"]) * Decimal(h["price"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert Decimal(h["market_value"]) == expected  # ties away from zero (docs/api.md, Figures)
        weight = (Decimal(h["market_value"]) / total).quantize(Decimal("0.000001"), ROUND_HALF_UP)
        assert Decimal(h["weight"]) == weight
    weights = sum(Decimal(h["weight"]) for h in doc["portfolio"]) + cash / total
    assert abs(weights - 1) < Decimal("0.0001")
    positions = fetchval(db_url, "SELECT count(*) FROM positions WHERE client_id = 1 AND firm_id = 1")
    assert doc["totals"]["positions"] == len(doc["portfolio"]) == positions


def test_holdings_use_each_symbols_latest_price(api: TestClient, factory: Factory) -> None:
    client = factory.client()
    for account in (factory.account(client), factory.account(client, account_type="ira")):
        factory.position(account, "AAPL", "10", cost_basis="1500")
    factory.position(account, "SPY", "5", cost_basis="1250")
    factory.prices("AAPL", {"2018-04-12": "180.5"})
    doc = context(api, factory.key(client.firm_id).secret, client.id)
    aapl = [h for h in doc["portfolio"] if h["symbol"] == "AAPL"]
    assert len(aapl) == 2
    assert all(h["price"] == "180.5" and h["price_date"] == "2018-04-12" for h in aapl)
    assert [h["price_date"] for h in doc["portfolio"] if h["symbol"] == "SPY"] == ["2018-04-11"]
    assert doc["totals"]["priced_as_of"] == "2018-04-12"


def test_decimal_values_round_trip_exactly(api: TestClient, factory: Factory) -> None:
    awkward = {
        "quantity": "12345678.87654321",
        "cost_basis": "0.0001",
        "cash": "1234567890123.4567",
        "price": "0.000001",
    }
    factory.security("TINY", name="Tiny", region="Nowhere", prices={"2018-04-11": awkward["price"]})
    client = factory.client()
    taxable = factory.account(client)
    factory.position(taxable, "TINY", awkward["quantity"], cost_basis=awkward["cost_basis"])
    roth_ira = factory.account(client, account_type="roth_ira", cash=awkward["cash"])
    doc = context(api, factory.key(client.firm_id).secret, client.id)
    tiny = next(h for h in doc["portfolio"] if h["symbol"] == "TINY")
    assert Decimal(tiny["quantity"]) == Decimal(awkward["quantity"])
    assert tiny["quantity"] == awkward["quantity"]
    assert tiny["cost_basis"] == awkward["cost_basis"]
    assert tiny["price"] == awkward["price"]
    assert tiny["market_value"] == str(
        (Decimal(awkward["quantity"]) * Decimal(awkward["price"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
    )
    roth = next(a for a in doc["accounts"] if a["id"] == roth_ira.id)
    assert roth["cash"] == awkward["cash"]


def test_a_client_without_holdings_has_an_empty_portfolio(api: TestClient, factory: Factory) -> None:
    account = factory.account()
    doc = context(api, factory.key(account.firm_id).secret, account.client_id)
    assert doc["portfolio"] == []
    assert [(a["id"], a["cash"]) for a in doc["accounts"]] == [(account.id, "0.0000")]
    assert Decimal(doc["totals"]["total_value"]) == 0


def test_the_note_records_who_wrote_it(api: TestClient, keys: Keys, db_url: str) -> None:
    payload = '{"action":"rebalance","reason":"excess concentration in one equity"}'
    r = api.post(
        "/audit/recommendation",
        json={"client_id": 1, "event_type": "portfolio_recommendation", "payload": payload},
        headers={**Keys.auth(keys.agent), "X-Request-ID": "req-123"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "stored"
    assert isinstance(body["audit_event_id"], int)
    assert r.headers["x-request-id"] != "req-123"  # the server's own id; the caller's is kept beside it
    assert r.headers["x-client-request-id"] == "req-123"
    row = fetch(db_url, "SELECT * FROM audit_events WHERE id = $1", body["audit_event_id"])[0]
    assert row["firm_id"] == 1
    assert row["client_id"] == 1
    assert row["action"] == "agent.note"
    assert row["details"] == {"event_type": "portfolio_recommendation", "payload": payload}
    assert row["request_id"] == r.headers["x-request-id"]
    assert row["client_request_id"] == "req-123"
    assert row["actor"]["key_name"] == "agent"
    assert row["actor_key_id"] == row["actor"]["key_id"]


def test_client_list_pages_through_every_visible_client_once(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        r = api.get("/clients", params=params, headers=Keys.auth(keys.agent))
        assert r.status_code == 200
        page = r.json()
        assert len(page["items"]) <= 7
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = [r["id"] for r in fetch(db_url, "SELECT id FROM clients WHERE firm_id = 1 ORDER BY id")]
    assert seen == expected
    assert pages == -(-len(expected) // 7)


def test_the_summary_agrees_with_the_analytics_routes(api: TestClient, keys: Keys, db_url: str) -> None:
    assert "summary" not in context(api, keys)  # the guide's agents get the fast default
    doc = context(api, keys, summary=True)
    summary = doc["summary"]
    allocation = api.get("/clients/1/allocation", headers=Keys.auth(keys.agent)).json()["by_asset_class"]
    assert set(summary["allocation_by_asset_class"]) == set(allocation)
    for cls, weight in summary["allocation_by_asset_class"].items():
        assert abs(Decimal(weight) - Decimal(allocation[cls])) <= Decimal("0.0001")
    drift = api.get("/clients/1/drift", headers=Keys.auth(keys.agent)).json()
    assert summary["drift_status"] == ("in_band" if drift["in_band"] else "out_of_band")
    assert summary["out_of_band"] == sorted(
        r["asset_class"] for r in drift["asset_classes"] if not r["in_band"]
    )
    recent = summary["recent_transactions"]
    expected = [
        r["id"]
        for r in fetch(
            db_url,
            "SELECT id FROM transactions WHERE firm_id = 1 AND client_id = 1"
            " ORDER BY trade_date DESC, id DESC LIMIT 10",
        )
    ]
    assert [t["id"] for t in recent] == expected
    assert isinstance(summary["concentration_flags"], list)


def diversified(factory: Factory) -> Account:
    """An account holding six stocks of six sectors, 1,500.00 each (16.7 % of 9,000.00): nothing flagged."""
    account = factory.account()
    for n in range(6):
        symbol = factory.security(f"DIV{n}", sector=f"Sector {n}", prices={"2018-04-11": "10"})
        factory.position(account, symbol, "150", cost_basis="1500")
    return account


def flags_of(api: TestClient, factory: Factory, account: Account) -> list[str]:
    doc = context(api, factory.key(account.firm_id).secret, account.client_id, summary=True)
    flags: list[str] = doc["summary"]["concentration_flags"]
    return flags


def test_concentration_flags_fire_on_a_single_issuer(api: TestClient, factory: Factory) -> None:
    account = diversified(factory)
    assert flags_of(api, factory, account) == []
    factory.security("ONEISS", sector="Technology", prices={"2018-04-11": "10"})
    factory.position(account, "ONEISS", "1000", cost_basis="10000")  # 10,000 of 19,000
    flags = flags_of(api, factory, account)
    assert "single_position_over_20pct" in flags
    assert "sector_over_40pct" in flags


def test_a_leveraged_fund_counts_by_its_exposure_in_the_summary_flags(
    api: TestClient, keys: Keys, factory: Factory, db_url: str
) -> None:
    """A 3x fund worth 10 % of the book is a 30 % exposure: flagged, as the suitability caps count it; the
    same value in an ordinary diversified fund is not."""

    def hold(symbol: str) -> list[str]:
        account = diversified(factory)
        price = Decimal(fetchval(db_url, "SELECT last_price FROM securities WHERE symbol = $1", symbol))
        quantity = (Decimal(9000) / 9 / price).quantize(Decimal("0.0001"))  # about 10 % of the new total
        factory.position(account, symbol, quantity, cost_basis="0")
        return flags_of(api, factory, account)

    assert "single_position_over_20pct" in hold("WG3X")
    assert "single_position_over_20pct" not in hold("SPY")
    leverage = {
        s["symbol"]: s["leverage"]
        for s in api.get("/securities", params={"q": "WG"}, headers=Keys.auth(keys.agent)).json()["items"]
    }
    assert leverage["WG3X"] == "3"
    assert leverage["WGINV"] == "-1"
