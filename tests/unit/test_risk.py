"""Risk figures by hand and by property, against references written from the definitions: sample standard
deviation (`statistics.stdev`) of daily simple returns x sqrt(252), the worst fall between any two days."""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_analytics import holding
from wealthgate.portfolios.analytics import value
from wealthgate.portfolios.risk import Point, concentration, price_risk, value_series

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
        Point(d0, D(100)),
        Point(d0 + timedelta(1), D(110)),
        Point(d0 + timedelta(2), D(99)),
        Point(d0 + timedelta(3), D(104.94)),
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
    # B's first close (day 1) brings in 5: value, not return
    assert series == [(d[0], D(21), 0, ()), (d[1], D(26), D(5), ("B",)), (d[2], D(30), 0, ())]
    assert left_out == ("C",)


prices = st.lists(st.decimals(min_value=D("0.5"), max_value=D("500"), places=2), min_size=3, max_size=40)


@given(prices)
def test_drawdown_and_volatility_are_in_range(closes: list[Decimal]) -> None:
    series = [Point(date(2018, 1, 1) + timedelta(i), c) for i, c in enumerate(closes)]
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


def reference_returns(
    quantities: dict[str, Decimal], cash: Decimal, closes: dict[str, dict[date, Decimal]], window: int
) -> list[float]:
    """Each day's change in value of what was priced the day before (closes carried forward), over its value:
    a security with no price yet takes no part in a day, so its first price is not a return."""
    days = sorted({d for series in closes.values() for d in series})[-(window + 1) :]
    known = {
        s: series[max(d for d in series if d < days[0])]
        for s, series in closes.items()
        if any(d < days[0] for d in series)
    }
    out = []
    for k, on in enumerate(days):
        before = dict(known)
        known.update({s: series[on] for s, series in closes.items() if on in series})
        held = [s for s in quantities if s in before]
        start = cash + sum((quantities[s] * before[s] for s in held), D(0))
        if k and start > 0:
            end = cash + sum((quantities[s] * known[s] for s in held), D(0))
            out.append(float(end / start - 1))
    return out


def reference_drawdown(returns: list[float]) -> float:
    index = [1.0]
    for r in returns:
        index.append(index[-1] * (1 + r))
    return min(index[j] / index[i] - 1 for j in range(len(index)) for i in range(j + 1))


def test_a_security_first_priced_inside_the_window_enters_without_a_jump() -> None:
    """A (2 held) closes 10, 11, 10, 12; B (1 held) has no price before day 2 (5, then 6); cash 1. Values
    21, 23, 26, 31; but day 2's return is that of what was priced on day 1: (1 + 2 x 10) / 23 - 1, not
    26 / 23 - 1. Day 3: (1 + 2 x 12 + 6) / 26 - 1."""
    d = [date(2018, 1, i) for i in (1, 2, 3, 4)]
    closes = {"A": dict(zip(d, [D(10), D(11), D(10), D(12)], strict=True)), "B": {d[2]: D(5), d[3]: D(6)}}
    series, left_out = value_series({"A": D(2), "B": D(1)}, D(1), closes, window=10)
    r = price_risk(series, left_out)
    assert r.priced_from == (("B", d[2]),)
    returns = [23 / 21 - 1, 21 / 23 - 1, 31 / 26 - 1]
    assert r.annualised_volatility == D(repr(statistics.stdev(returns) * math.sqrt(252))).quantize(
        D("0.000001")
    )
    assert r.max_drawdown == D(repr(21 / 23 - 1)).quantize(D("0.000001"))


@st.composite
def books(draw: st.DrawFn) -> tuple[dict[str, Decimal], Decimal, dict[str, dict[date, Decimal]], int]:
    """Up to four securities, each first priced on its own day, with gaps; quantities, cash and a window."""
    d0 = date(2018, 1, 1)
    closes: dict[str, dict[date, Decimal]] = {}
    quantities: dict[str, Decimal] = {}
    for k in range(draw(st.integers(1, 4))):
        first = draw(st.integers(0, 30))
        prices = draw(
            st.lists(st.decimals(min_value=D("0.5"), max_value=D("500"), places=2), min_size=40, max_size=40)
        )
        gaps = draw(st.lists(st.booleans(), min_size=40, max_size=40))
        closes[f"S{k}"] = {
            d0 + timedelta(i): prices[i] for i in range(first, 40) if not gaps[i] or i == first
        }
        quantities[f"S{k}"] = D(draw(st.integers(1, 100)))
    return quantities, D(draw(st.integers(0, 1000))), closes, draw(st.integers(5, 60))


@given(books())
def test_volatility_and_drawdown_agree_with_the_definitions(
    book: tuple[dict[str, Decimal], Decimal, dict[str, dict[date, Decimal]], int],
) -> None:
    quantities, cash, closes, window = book
    series, left_out = value_series(quantities, cash, closes, window)
    r = price_risk(series, left_out)
    returns = reference_returns(quantities, cash, closes, window)
    assert r.observations == len(returns)
    if len(returns) < 2:
        assert r.annualised_volatility is None
        return
    assert r.annualised_volatility is not None
    assert r.max_drawdown is not None
    volatility = statistics.stdev(returns) * math.sqrt(252)
    assert abs(float(r.annualised_volatility) - volatility) <= 2e-6
    assert abs(float(r.max_drawdown) - reference_drawdown(returns)) <= 2e-6
