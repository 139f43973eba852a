"""GET /clients/{id}/transactions: scoped, filtered, searchable, and paged without repeats or gaps."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.support import fetch


def get(api: TestClient, key: str, client_id: int = 1, **params: Any) -> Any:
    return api.get(f"/clients/{client_id}/transactions", params=params, headers=Keys.auth(key))


def all_pages(api: TestClient, key: str, client_id: int = 1, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page_params = {**params, **({"cursor": cursor} if cursor else {})}
        r = get(api, key, client_id, **page_params)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_newest_first_and_pages_cover_everything_once(api: TestClient, keys: Keys, db_url: str) -> None:
    truth = [
        r["id"]
        for r in fetch(
            db_url,
            "SELECT id FROM transactions WHERE firm_id = 1 AND client_id = 1 "
            "ORDER BY trade_date DESC, id DESC",
        )
    ]
    paged = all_pages(api, keys.agent, limit=17)
    assert [t["id"] for t in paged] == truth
    first = paged[0]
    assert {"id", "trade_date", "type", "symbol", "quantity", "amount", "description"} <= first.keys()
    assert isinstance(first["amount"], str)


def test_filters(api: TestClient, keys: Keys, db_url: str) -> None:
    buys = all_pages(api, keys.agent, type="buy", limit=200)
    assert buys
    assert {t["type"] for t in buys} == {"buy"}
    aapl = all_pages(api, keys.agent, symbol="AAPL", limit=200)
    assert aapl
    assert {t["symbol"] for t in aapl} == {"AAPL"}
    in_2016 = all_pages(api, keys.agent, **{"from": "2016-01-01", "to": "2016-12-31"}, limit=200)
    assert in_2016
    assert all("2016-01-01" <= t["trade_date"] <= "2016-12-31" for t in in_2016)
    big = all_pages(api, keys.agent, min_amount="-1000000", max_amount="-100000", limit=200)
    assert all(Decimal("-1000000") <= Decimal(t["amount"]) <= Decimal("-100000") for t in big)
    roth = all_pages(api, keys.agent, account_id=2, limit=200)
    expected = fetch(db_url, "SELECT count(*) AS n FROM transactions WHERE firm_id = 1 AND account_id = 2")[
        0
    ]["n"]
    assert len(roth) == expected


def test_free_text_finds_description_symbol_and_security_name(api: TestClient, keys: Keys) -> None:
    fees = all_pages(api, keys.agent, q="advisory fee", limit=200)
    assert fees
    assert {t["type"] for t in fees} == {"fee"}
    apple = all_pages(api, keys.agent, q="apple", limit=200)  # only the security's name says "Apple"
    assert apple
    assert {t["symbol"] for t in apple} == {"AAPL"}
    by_symbol = all_pages(api, keys.agent, q="AAPL", limit=200)
    assert {t["id"] for t in by_symbol} == {t["id"] for t in apple}
    assert all("rank" in t for t in by_symbol)
    ranks = [float(t["rank"]) for t in all_pages(api, keys.agent, q="buy apple OR interest", limit=7)]
    assert ranks == sorted(ranks, reverse=True)


def test_ranked_pages_repeat_nothing_and_skip_nothing(api: TestClient, keys: Keys) -> None:
    one_page = get(api, keys.agent, q="buy OR interest OR fee", limit=200).json()["items"]
    assert len(one_page) > 20
    paged = all_pages(api, keys.agent, q="buy OR interest OR fee", limit=6)
    assert [t["id"] for t in paged] == [t["id"] for t in one_page]


def test_scoping(api: TestClient, keys: Keys) -> None:
    assert get(api, keys.agent, 40).status_code == 404  # firm 2's client
    assert get(api, keys.agent, 999_999).status_code == 404
    assert get(api, keys.other_firm, 40).status_code == 200
    assert get(api, keys.advisor2, 1).status_code == 404  # advisor 1's client
    other_account = fetch_account_of(api, keys, 2)
    r = get(api, keys.agent, 1, account_id=other_account)  # client 2's account, same firm
    assert r.status_code == 404
    assert r.json()["detail"] == "Account not found"
    assert get(api, keys.compliance).status_code == 403
    assert api.get("/clients/1/transactions").status_code == 401
    assert get(api, keys.agent, 1, q="nothing-matches-this-zzz").json() == {"items": [], "next_cursor": None}


def fetch_account_of(api: TestClient, keys: Keys, client_id: int) -> int:
    doc = api.get(f"/clients/{client_id}/context", headers=Keys.auth(keys.agent)).json()
    return int(doc["accounts"][0]["id"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 1000}, "limit"),
        ({"limit": 0}, "limit"),
        ({"min_amount": "NaN"}, "min_amount"),
        ({"min_amount": "Infinity"}, "min_amount"),
        ({"min_amount": "abc"}, "min_amount"),
        ({"min_amount": "10", "max_amount": "5"}, "min_amount"),
        ({"from": "2018-01-01", "to": "2017-01-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"type": "steal"}, "type"),
        ({"symbol": "aapl"}, "symbol"),
        ({"q": "x" * 201}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "eyJrIjpbMSwyXX0"}, "cursor"),
        ({"account_id": -1}, "account_id"),
    ],
)
def test_bad_input_names_the_field(api: TestClient, keys: Keys, params: dict[str, Any], field: str) -> None:
    r = get(api, keys.agent, **params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert field in {e["field"] for e in body.get("errors", [])} or field in body["detail"]
