"""The factories build what the product itself would show: a client made for a new firm is visible to that
firm's key with the positions, cash and profile given, valued at the latest close, and invisible (404) to
every other firm's key and to an advisor-bound key of another advisor."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient

from tests.factories import Factory

D = Decimal


def test_a_built_client_is_visible_and_valued(api: TestClient, factory: Factory) -> None:
    """Deposit 1,000; 10 FCTA transferred in at a cost of 80 and 4 FCTA bought at 25 (100.00 + 1.00 fees):
    14 FCTA at the close of 30 are 420.00, cash 899.00, total 1,319.00."""
    symbol = factory.security("FCTA", prices={date(2018, 4, 10): "20", date(2018, 4, 11): "30"})
    advisor = factory.advisor(name="Ada Factory")
    client = factory.client(
        advisor, name="Fay Factory", risk_tolerance="conservative", excluded_symbols=["XOM"]
    )
    account = factory.account(client, cash="1000", account_type="ira", opened_on=date(2018, 4, 2))
    factory.position(account, symbol, "10", cost_basis="80", acquired_on=date(2018, 4, 3))
    bought = factory.post(account, "buy", "2018-04-10", symbol=symbol, quantity="4", price="25", fees="1")
    key = factory.key(client.firm_id)

    r = api.get(f"/clients/{client.id}/context", headers=key.headers)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["client"]["id"], doc["client"]["name"]) == (client.id, "Fay Factory")
    assert doc["client"]["risk_profile"] == "conservative"
    assert [(a["id"], a["cash"]) for a in doc["accounts"]] == [(account.id, "899.0000")]
    [held] = doc["portfolio"]
    assert (held["symbol"], held["quantity"], held["cost_basis"]) == (symbol, "14", "181.0000")
    assert (held["price"], held["price_date"], held["market_value"]) == ("30", "2018-04-11", "420.00")
    assert D(doc["totals"]["total_value"]) == D("1319.00")
    ledger = api.get(f"/clients/{client.id}/transactions", headers=key.headers).json()
    assert bought in {t["id"] for t in ledger["items"]}


def test_a_client_of_firm_b_is_a_404_for_firm_a(api: TestClient, factory: Factory) -> None:
    firm_a, firm_b = factory.firm(), factory.firm()
    theirs = factory.client(factory.advisor(firm_b))
    factory.account(theirs, cash="500")
    ours = factory.client(factory.advisor(firm_a))
    key_a, key_b = factory.key(firm_a), factory.key(firm_b)

    assert api.get(f"/clients/{theirs.id}/context", headers=key_b.headers).status_code == 200
    miss = api.get(f"/clients/{theirs.id}/context", headers=key_a.headers)
    assert miss.status_code == 404
    assert api.get(f"/clients/{ours.id}/context", headers=key_a.headers).status_code == 200
    assert [c["id"] for c in api.get("/clients", headers=key_a.headers).json()["items"]] == [ours.id]
    assert [c["id"] for c in api.get("/clients", headers=key_b.headers).json()["items"]] == [theirs.id]


def test_an_advisor_bound_key_sees_only_its_advisors_clients(api: TestClient, factory: Factory) -> None:
    firm = factory.firm()
    mine, other = factory.advisor(firm), factory.advisor(firm)
    client = factory.client(other)
    bound = factory.key(firm, advisor=mine)
    assert api.get(f"/clients/{client.id}/context", headers=bound.headers).status_code == 404
    assert api.get(f"/clients/{client.id}/context", headers=factory.key(firm).headers).status_code == 200
    factory.revoke(bound)
    assert api.get("/clients", headers=bound.headers).status_code == 401
