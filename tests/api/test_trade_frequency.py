"""The trade-frequency rule counts trades that stand: a trade that was reversed, and its reversal, count
nowhere (as in ledger replay), so a correction never pushes a client towards the churning limit."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Keys

CHECK = {"trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}]}


def frequency(api: TestClient, keys: Keys) -> Any:
    r = api.post("/clients/1/suitability-check", json=CHECK, headers=Keys.auth(keys.agent))
    assert r.status_code == 200, r.text
    return next(rule["value"] for rule in r.json()["rules"] if rule["rule"] == "trade_frequency")


def test_a_reversed_trade_and_its_reversal_count_nowhere(api: TestClient, keys: Keys) -> None:
    before = frequency(api, keys)
    ids = []
    for side in ("buy", "sell"):
        body = {"trade_date": "2018-04-10", "type": side, "symbol": "WGAGG", "quantity": "2", "price": "100"}
        r = api.post("/accounts/1/transactions", json=body, headers=Keys.auth(keys.admin))
        assert r.status_code == 201, r.text
        ids.append(r.json()["transaction"]["id"])
    assert frequency(api, keys) == before + 2  # the two trades stand: both count
    r = api.post(f"/accounts/1/transactions/{ids[1]}/reverse", headers=Keys.auth(keys.admin))
    assert r.status_code == 201, r.text
    assert frequency(api, keys) == before + 1  # the sale and its reversal: neither counts
    r = api.post(f"/accounts/1/transactions/{ids[0]}/reverse", headers=Keys.auth(keys.admin))
    assert r.status_code == 201, r.text
    assert frequency(api, keys) == before
