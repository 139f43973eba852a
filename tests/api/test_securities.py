"""GET /securities: agents find what they may propose."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys


def find(api: TestClient, keys: Keys, **params: Any) -> Any:
    return api.get("/securities", params=params, headers=Keys.auth(keys.reader))


def test_by_symbol_name_and_filters(api: TestClient, keys: Keys) -> None:
    assert find(api, keys, q="AAPL").json()["items"][0]["symbol"] == "AAPL"
    apple = find(api, keys, q="apple").json()["items"]
    assert [s["symbol"] for s in apple] == ["AAPL"]
    assert apple[0]["latest_price"] == "172.440002"
    assert apple[0]["latest_price_date"] == "2018-04-11"
    bonds = find(api, keys, asset_class="fixed_income").json()["items"]
    assert {s["symbol"] for s in bonds} == {"WGAGG", "WGMUNI"}
    safe = find(api, keys, max_risk=2, limit=200).json()["items"]
    assert safe
    assert all(s["risk_rating"] <= 2 for s in safe)
    simple = {s["symbol"] for s in find(api, keys, complex="false", limit=200).json()["items"]}
    assert "WGLEV" not in simple
    assert "WGLEV" in {s["symbol"] for s in find(api, keys, limit=200).json()["items"]}
    assert find(api, keys, q="%").json()["items"] == []  # LIKE wildcards are literal


def test_pages_cover_the_master_once(api: TestClient, keys: Keys) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        body = find(api, keys, limit=4, **({"cursor": cursor} if cursor else {})).json()
        seen += [s["symbol"] for s in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 29


def test_an_exact_match_leads_and_is_not_repeated(api: TestClient, keys: Keys) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        body = find(api, keys, q="T", limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [s["symbol"] for s in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen[0] == "T"
    assert len(seen) == len(set(seen))
    everything = [s["symbol"] for s in find(api, keys, q="T", limit=200).json()["items"]]
    assert seen == everything


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_risk": 9}, "max_risk"),
        ({"limit": 500}, "limit"),
        ({"asset_class": "crypto"}, "asset_class"),
        ({"cursor": "x"}, "cursor"),
    ],
)
def test_bad_input(api: TestClient, keys: Keys, params: dict[str, Any], field: str) -> None:
    r = find(api, keys, **params)
    assert r.status_code == 422
    assert field in {e["field"] for e in r.json()["errors"]}


def test_needs_a_key_with_read_scope(api: TestClient, keys: Keys) -> None:
    assert api.get("/securities").status_code == 401
    assert api.get("/securities", headers=Keys.auth(keys.compliance)).status_code == 403
