"""Risk figures by hand and by property."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_analytics import holding
from wealthgate.portfolios.analytics import value
from wealthgate.portfolios.risk import concentration, price_risk, value_series

D = Decimal
AS_OF = date(2018, 4, 11)


def test_concentration_by_hand() -> None:
    # A: 600 (two accounts), B: 300, cash 100, total 1000
    v = value(
        [
            holding("A", "4", "100", account=1),
            holding("A", "2", "100", account=2, sector="Tech"),
            holding("B", "3", "100", sector="Energy"),
        ],
        {1: D("100")},
        {1: "taxable", 2: "ira"},
        AS_OF,
    )
    c = concentration(v)
    assert c.largest_position == ("A", D("0.600000"))
    assert c.top5_weight == D("0.900000")
    assert c.hhi == D("0.555556")  # (600/900)^2 + (300/900)^2 = 4/9 + 1/9
    assert c.largest_sector == ("Tech", D("0.600000"))
    assert c.cash_share == D("0.100000")


def test_price_risk_by_hand() -> None:
    d0 = date(2018, 1, 1)
    series = [
        (d0, D(100)),
        (d0 + timedelta(1), D(110)),
        (d0 + timedelta(2), D(99)),
        (d0 + timedelta(3), D(104.94)),
    ]
    r = price_risk(series)
    assert r.max_drawdown == D("-0.100000")  # 110 -> 99
    # returns 0.10, -0.10, 0.06: mean 0.02, sample variance 0.0112, sd 0.105830..., x sqrt(252) = 1.680000
    assert r.annualised_volatility == D("1.680000")
    assert r.observations == 3


def test_series_carries_closes_forward_and_names_the_unpriced() -> None:
    d = [date(2018, 1, i) for i in (1, 2, 3)]
    closes = {"A": {d[0]: D(10), d[2]: D(12)}, "B": {d[1]: D(5)}}
    series, left_out = value_series({"A": D(2), "B": D(1), "C": D(7)}, D(1), closes, window=5)
    assert series == [(d[0], D(21)), (d[1], D(26)), (d[2], D(30))]
    assert left_out == ("C",)


prices = st.lists(st.decimals(min_value=D("0.5"), max_value=D("500"), places=2), min_size=3, max_size=40)


@given(prices)
def test_drawdown_and_volatility_are_in_range(closes: list[Decimal]) -> None:
    series = [(date(2018, 1, 1) + timedelta(i), c) for i, c in enumerate(closes)]
    r = price_risk(series)
    assert r.max_drawdown is not None
    assert D(-1) <= r.max_drawdown <= 0
    assert r.annualised_volatility is not None
    assert r.annualised_volatility >= 0
    if len(set(closes)) == 1:
        assert r.annualised_volatility == 0
        assert r.max_drawdown == 0


@given(st.lists(st.decimals(min_value=D("0.01"), max_value=D("1e6"), places=2), min_size=1, max_size=12))
def test_hhi_lies_between_even_and_single(values: list[Decimal]) -> None:
    v = value([holding(f"S{i}", "1", str(x)) for i, x in enumerate(values)], {}, {}, AS_OF)
    c = concentration(v)
    n = len(values)
    assert (D(1) / n).quantize(D("0.000001")) - D("0.000001") <= c.hhi <= 1
    assert c.largest_position is not None
    assert c.top5_weight >= c.largest_position[1]
