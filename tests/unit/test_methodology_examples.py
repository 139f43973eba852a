"""The worked examples of docs/methodology.md, from ledger rows and closes through the loader to the returns.
Each expected figure is the one computed by hand in the document; none is derived from the code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from wealthgate.portfolios.daily import TOTAL, valuations
from wealthgate.portfolios.performance import Returns, returns

D = Decimal
MON, TUE, WED = date(2018, 3, 5), date(2018, 3, 6), date(2018, 3, 7)
CALENDAR = [MON, TUE, WED]


def row(n: int, on: date, kind: str, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {"symbol": None, "quantity": None, "price": None, "amount": D(0), "fees": D(0)}
    return {**base, "id": n, "account_id": 1, "trade_date": on, "type": kind, "reverses_id": None, **kw}


def figures(rows: list[dict[str, object]], closes: dict[str, dict[date, Decimal]]) -> Returns:
    r = returns(valuations(rows, [1], CALENDAR, closes)[TOTAL])
    assert r is not None
    return r


def test_example_1_a_same_day_sell_and_withdraw() -> None:
    r = figures(
        [
            row(1, MON, "transfer", symbol="XYZ", quantity=D(1000), price=D(80)),
            row(2, WED, "sell", symbol="XYZ", quantity=D(1000), price=D("100.13"), amount=D("100130.00")),
            row(3, WED, "withdrawal", amount=D("-99885.00")),
        ],
        {"XYZ": {MON: D("100.00"), TUE: D("99.90"), WED: D("100.50")}},
    )
    assert (r.start_value, r.end_value, r.outflows) == (D("100000.00"), D("245.00"), D("-99885.00"))
    assert r.twr == D("0.001300")
    assert (r.mwr_period, r.mwr_annualised) == (D("0.001300"), None)


def test_example_2_a_security_transfer_in() -> None:
    r = figures(
        [
            row(1, MON, "deposit", amount=D("5000.00")),
            row(2, TUE, "transfer", symbol="ABC", quantity=D(200), price=D("40.00")),
        ],
        {"ABC": {TUE: D("50.00"), WED: D("48.00")}, "SPY": {MON: D(1)}},
    )
    assert (r.start_value, r.end_value, r.inflows) == (D("5000.00"), D("14600.00"), D("10000.00"))
    assert r.twr == D("-0.026667")
    assert r.mwr_period == D("-0.039798")


def test_example_3_a_money_weighted_return_over_a_large_move() -> None:
    r = figures(
        [
            row(1, MON, "deposit", amount=D("10000.00")),
            row(2, MON, "buy", symbol="JMP", quantity=D(100), price=D("100.00"), amount=D("-10000.00")),
            row(3, WED, "deposit", amount=D("8000.00")),
            row(4, WED, "buy", symbol="JMP", quantity=D(50), price=D("160.00"), amount=D("-8000.00")),
        ],
        {"JMP": {MON: D("100.00"), TUE: D("160.00"), WED: D("200.00")}},
    )
    assert (r.start_value, r.end_value, r.inflows) == (D("10000.00"), D("30000.00"), D("8000.00"))
    assert r.twr == D("1.000000")
    assert r.mwr_period == D("0.897889")
