"""Alice Chen (client 1 of the demo book) worked out by hand: her holdings and the closes of 2018-04-11 are
written out below, and every figure the API gives is recomputed here with plain arithmetic, independently of
wealthgate's analytics code: portfolio, allocation, drift, concentration risk and the rebalance proposal.

Holdings (account 1 taxable, account 2 Roth IRA) after her 77 demo transactions; cash 60,239.35 + 14,500.36
(trade amounts rounded to the cent half away from zero, as every figure is).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from fastapi.testclient import TestClient

from tests.conftest import Keys

D = Decimal
HOLDINGS = [  # (account, symbol, quantity)
    (1, "AAPL", 1010), (1, "AMD", 13068), (1, "GOOG", 38), (1, "RRC", 947), (1, "SHLD", 1179),
    (1, "SPY", 384), (1, "WGAGG", 3325), (1, "WGMMF", 37495), (1, "WGREIT", 1337),
    (2, "AAPL", 48), (2, "AMD", 1342), (2, "AMZN", 8), (2, "BBY", 174), (2, "SBUX", 90), (2, "SPY", 83),
    (2, "T", 183), (2, "UAA", 119), (2, "WGAGG", 722), (2, "WGMMF", 4745), (2, "WGREIT", 169),
]  # fmt: skip
CASH = D("60239.35") + D("14500.36")
CLOSE = {  # 2018-04-11, from the price files
    "AAPL": "172.440002", "AMD": "9.820000", "AMZN": "1427.050049", "BBY": "70.910004", "GOOG": "1019.969971",
    "RRC": "14.990000", "SBUX": "59.419998", "SHLD": "3.300000", "SPY": "256.304413", "T": "35.250000",
    "UAA": "16.740000", "WGAGG": "111.638178", "WGMMF": "1.000000", "WGREIT": "29.472707",
}  # fmt: skip
CLASS = {"WGAGG": "fixed_income", "WGMMF": "cash_equivalent", "WGREIT": "real_estate"}  # the rest: equity
SECTOR = {
    "AAPL": "Information Technology", "AMD": "Information Technology", "AMZN": "Consumer Discretionary",
    "BBY": "Consumer Discretionary", "GOOG": "Communication Services", "RRC": "Energy",
    "SBUX": "Consumer Discretionary", "SHLD": "Consumer Discretionary", "SPY": "Diversified",
    "T": "Communication Services", "UAA": "Consumer Discretionary", "WGAGG": "Diversified", "WGMMF": "Cash",
    "WGREIT": "Real Estate",
}  # fmt: skip
MODEL = {  # the moderate model: target, band
    "equity": (D("0.55"), D("0.05")),
    "fixed_income": (D("0.35"), D("0.05")),
    "cash_equivalent": (D("0.05"), D("0.03")),
    "real_estate": (D("0.05"), D("0.03")),
}
SIX = D("0.000001")


def cents(x: Decimal) -> Decimal:
    """To the cent, a tie away from zero (docs/api.md): two of her holdings are worth exactly half a cent."""
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def mv(symbol: str, quantity: int) -> Decimal:
    return cents(quantity * D(CLOSE[symbol]))


HOLDINGS_VALUE = sum((mv(s, q) for _, s, q in HOLDINGS), D(0))
TOTAL = HOLDINGS_VALUE + CASH
BY_SYMBOL: dict[str, Decimal] = defaultdict(Decimal)
BY_CLASS: dict[str, Decimal] = defaultdict(Decimal, {"cash_equivalent": CASH})
BY_SECTOR: dict[str, Decimal] = defaultdict(Decimal)
for _, symbol, quantity in HOLDINGS:
    BY_SYMBOL[symbol] += mv(symbol, quantity)
    BY_CLASS[CLASS.get(symbol, "equity")] += mv(symbol, quantity)
    BY_SECTOR[SECTOR[symbol]] += mv(symbol, quantity)


def get(api: TestClient, keys: Keys, route: str) -> dict:  # type: ignore[type-arg]
    r = api.get(f"/clients/1/{route}", headers=Keys.auth(keys.agent))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_portfolio(api: TestClient, keys: Keys) -> None:
    p = get(api, keys, "portfolio")
    assert p["as_of"] == "2018-04-11"
    assert D(p["totals"]["holdings_value"]) == HOLDINGS_VALUE
    assert D(p["totals"]["cash"]) == CASH
    assert D(p["totals"]["total_value"]) == TOTAL
    got = {(h["account_id"], h["symbol"]): h for h in p["holdings"]}
    assert len(got) == len(HOLDINGS)
    for account, symbol, quantity in HOLDINGS:
        h = got[(account, symbol)]
        assert D(h["quantity"]) == quantity
        assert D(h["price"]) == D(CLOSE[symbol])
        assert D(h["market_value"]) == mv(symbol, quantity)
        assert abs(D(h["weight"]) - mv(symbol, quantity) / TOTAL) <= SIX


def test_allocation_and_drift(api: TestClient, keys: Keys) -> None:
    a = get(api, keys, "allocation")["by_asset_class"]
    assert set(a) == set(BY_CLASS)
    for cls, value in BY_CLASS.items():
        assert abs(D(a[cls]) - value / TOTAL) <= SIX / 2  # each rounded to 6 places on its own
    assert abs(sum(D(w) for w in a.values()) - 1) <= SIX / 2 * len(a)
    drift = {r["asset_class"]: r for r in get(api, keys, "drift")["asset_classes"]}
    for cls, (target, band) in MODEL.items():
        actual = BY_CLASS[cls] / TOTAL
        assert D(drift[cls]["target"]) == target
        assert abs(D(drift[cls]["difference"]) - (actual - target)) <= SIX
        assert drift[cls]["in_band"] == (abs(actual - target) <= band)


def test_concentration_risk(api: TestClient, keys: Keys) -> None:
    r = get(api, keys, "risk")
    ranked = sorted(BY_SYMBOL.items(), key=lambda kv: -kv[1])
    assert r["largest_position"]["symbol"] == ranked[0][0] == "WGAGG"  # the bond fund; AAPL is the top stock
    assert D(r["largest_position"]["weight"]) == (ranked[0][1] / TOTAL).quantize(SIX)
    assert D(r["top5_weight"]) == (sum(v for _, v in ranked[:5]) / TOTAL).quantize(SIX)
    hhi = sum((v / HOLDINGS_VALUE) ** 2 for v in BY_SYMBOL.values())
    assert D(r["hhi"]) == hhi.quantize(SIX)
    sector, value = max(BY_SECTOR.items(), key=lambda kv: kv[1])
    assert r["largest_sector"] == {"sector": sector, "weight": str((value / TOTAL).quantize(SIX))}
    assert D(r["cash_share"]) == (CASH / TOTAL).quantize(SIX)


def test_rebalance_proposal_lands_in_every_band_by_hand(api: TestClient, keys: Keys) -> None:
    r = api.post("/clients/1/rebalance-proposal", json={}, headers=Keys.auth(keys.agent))
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["executes"] is False
    assert p["trades"]
    after = dict(BY_CLASS)
    for t in p["trades"]:
        value = D(t["quantity"]) * D(t["price"])
        assert D(t["estimated_value"]) == cents(value)
        assert D(t["quantity"]) == D(t["quantity"]).to_integral_value()  # whole shares by default
        sign = 1 if t["side"] == "buy" else -1
        after[t["asset_class"]] += sign * cents(value)
        after["cash_equivalent"] -= sign * cents(value)
    spent = sum((1 if t["side"] == "buy" else -1) * D(t["estimated_value"]) for t in p["trades"])
    assert CASH - spent >= 0  # no cash overdraft (money-market redemptions raise account cash, not the class)
    assert sum(after.values()) == TOTAL  # trades move value between classes, never create it
    for cls, (target, band) in MODEL.items():
        weight = after[cls] / TOTAL
        assert abs(D(p["projected_allocation"][cls]) - weight) <= SIX
        assert abs(weight - target) <= band, (cls, weight)
    assert p["in_band"] is True
