"""Time- and money-weighted returns: by hand and by property."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from wealthgate.portfolios.performance import Day, mwr, returns, twr

D = Decimal
T0 = date(2018, 1, 1)


def test_twr_by_hand() -> None:
    # day 1: 100 -> 110 (+10%); day 2: deposit 50 at the start, ends at 170: 170 / 160 - 1 = +6.25%
    series = [Day(T0, D(100)), Day(T0 + timedelta(1), D(110)), Day(T0 + timedelta(2), D(170), D(50))]
    assert twr(series) == D("0.168750")  # 1.1 x 1.0625 - 1


def test_mwr_by_hand() -> None:
    # 1,000 grows to 1,100 over exactly one year with no flows: IRR 10%
    series = [Day(T0, D(1000)), Day(T0 + timedelta(365), D(1100))]
    assert mwr(series) == (D("0.100000"), D("0.100000"))
    assert mwr([*series[:1], Day(T0 + timedelta(30), D(1010))])[0] is None  # under a year: not annualised
    # a deposit of 1,000 half-way (182.5 days is not a date: use 73 of 365) and an end of 2,200
    with_flow = [
        Day(T0, D(1000)),
        Day(T0 + timedelta(73), D(1000), D(1000)),
        Day(T0 + timedelta(365), D(2200)),
    ]
    annual, _ = mwr(with_flow)
    assert annual is not None
    # check the root: 1000 (1+r) + 1000 (1+r)^(292/365) = 2200
    r = annual
    lhs = D(1000) * (1 + r) + D(1000) * (1 + r) ** (D(292) / D(365))
    assert abs(lhs - D(2200)) < D("0.01")


def test_no_history_no_figures() -> None:
    assert returns([]) is None
    assert twr([Day(T0, D(0)), Day(T0 + timedelta(1), D(0))]) is None


growth = st.lists(st.decimals(min_value=D("0.90"), max_value=D("1.10"), places=4), min_size=1, max_size=60)


@given(growth)
def test_without_flows_twr_equals_the_value_ratio_and_mwr_agrees(factors: list[Decimal]) -> None:
    value = D(1000)
    series = [Day(T0, value)]
    for i, f in enumerate(factors, start=1):
        value = value * f
        series.append(Day(T0 + timedelta(i), value))
    expected = (series[-1].value / series[0].value - 1).quantize(D("0.000001"))
    assert twr(series) == expected
    _, period = mwr(series)
    assert period is not None
    assert abs(period - expected) <= D("0.000002")


@given(growth, st.integers(1, 59), st.decimals(min_value=D("1"), max_value=D("5000"), places=2))
def test_a_deposit_does_not_count_as_return(factors: list[Decimal], at: int, deposit: Decimal) -> None:
    """The same market moves give the same TWR whether or not the client deposits along the way."""
    plain, with_deposit = [Day(T0, D(1000))], [Day(T0, D(1000))]
    for i, f in enumerate(factors, start=1):
        flow = deposit if i == min(at, len(factors)) else D(0)
        plain.append(Day(T0 + timedelta(i), plain[-1].value * f))
        with_deposit.append(Day(T0 + timedelta(i), (with_deposit[-1].value + flow) * f, flow))
    a, b = twr(plain), twr(with_deposit)
    assert a is not None
    assert b is not None
    assert abs(a - b) <= D("0.000002")
