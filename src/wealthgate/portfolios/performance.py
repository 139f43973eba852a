"""Performance: time-weighted and money-weighted returns from daily valuations. Pure, in Decimal.

- External flows are deposits and withdrawals (money the client moved); fees, interest and dividends are part
  of the return. A flow is taken at the start of its day: that day's return is V_t / (V_{t-1} + F_t) - 1.
- Time-weighted return (TWR) chains the daily returns: prod(1 + r_t) - 1. It measures the management, not the
  timing of the client's deposits.
- Money-weighted return (MWR) is the internal rate of return of the start value, the flows and the end value
  (actual/365 day count), solved by bisection; given annualised and for the period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from itertools import pairwise

RATIO = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Day:
    on: date
    value: Decimal  # end-of-day value, holdings plus cash
    flow: Decimal = Decimal(0)  # external flow at the start of the day (+ deposit, - withdrawal)


@dataclass(frozen=True, slots=True)
class Returns:
    start: date
    end: date
    start_value: Decimal
    end_value: Decimal
    net_flows: Decimal
    twr: Decimal | None
    mwr_annualised: Decimal | None
    mwr_period: Decimal | None
    days: int


def twr(series: Sequence[Day]) -> Decimal | None:
    """Chained daily returns over the series (its first day is the base); None when never invested."""
    growth = Decimal(1)
    invested = False
    with localcontext() as ctx:
        ctx.prec = 34
        for previous, today in pairwise(series):
            base = previous.value + today.flow
            if base > 0:
                growth *= today.value / base
                invested = True
    return (growth - 1).quantize(RATIO) if invested else None


def _npv(
    log_rate: Decimal,
    start: date,
    start_value: Decimal,
    flows: Mapping[date, Decimal],
    end: date,
    end_value: Decimal,
) -> Decimal:
    """Value at `end` of the start value and flows grown at annual log-rate `log_rate`, less the end value."""

    def grow(amount: Decimal, since: date) -> Decimal:
        years = Decimal((end - since).days) / Decimal(365)
        return amount * (log_rate * years).exp()

    return grow(start_value, start) + sum((grow(f, d) for d, f in flows.items()), Decimal(0)) - end_value


def mwr(series: Sequence[Day]) -> tuple[Decimal | None, Decimal | None]:
    """(annualised IRR, the same over the period), or (None, None) when there is nothing to solve.

    Solved on the log growth rate x = ln(1 + r), bracketed in [-100, 100], so that short periods (a day's
    move annualised is astronomically large or close to -100%) still solve to full precision."""
    if len(series) < 2:
        return None, None
    start, end = series[0], series[-1]
    flows = {d.on: d.flow for d in series[1:] if d.flow}
    years = Decimal((end.on - start.on).days) / Decimal(365)
    if years <= 0 or (start.value <= 0 and not any(f > 0 for f in flows.values())):
        return None, None
    with localcontext() as ctx:
        ctx.prec = 34
        low, high = Decimal(-100), Decimal(100)
        f_low = _npv(low, start.on, start.value, flows, end.on, end.value)
        f_high = _npv(high, start.on, start.value, flows, end.on, end.value)
        if f_low * f_high > 0:
            return None, None
        for _ in range(200):
            mid = (low + high) / 2
            f_mid = _npv(mid, start.on, start.value, flows, end.on, end.value)
            if (f_mid > 0) == (f_high > 0):
                high, f_high = mid, f_mid
            else:
                low = mid
            if high - low < Decimal("1e-20"):
                break
        x = (low + high) / 2
        period = ((x * years).exp() - 1).quantize(RATIO)
        # Returns for periods under a year are not annualised (GIPS): the figure would be meaningless.
        annual = (x.exp() - 1).quantize(RATIO) if years >= 1 else None
    return annual, period


def returns(series: Sequence[Day]) -> Returns | None:
    if not series:
        return None
    annual, period = mwr(series)
    return Returns(
        start=series[0].on,
        end=series[-1].on,
        start_value=series[0].value,
        end_value=series[-1].value,
        net_flows=sum((d.flow for d in series[1:]), Decimal(0)),
        twr=twr(series),
        mwr_annualised=annual,
        mwr_period=period,
        days=(series[-1].on - series[0].on).days,
    )
