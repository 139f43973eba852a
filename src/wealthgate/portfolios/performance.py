"""Performance: time-weighted and money-weighted returns from daily valuations. Pure, in Decimal. Formulas,
conventions, references and worked examples: docs/methodology.md.

- External flows are what the client moved in or out: deposits, withdrawals and transfers of securities or
  cash, each at its market value on its date (the loader, daily.py, values them). Fees, interest and
  dividends are part of the return.
- One intraday convention for TWR and MWR alike. A day's `start_flow` (deposits) comes in at the start of the
  day: it is invested from the previous close. Its `end_flow` (withdrawals, and transfers in or out, valued at
  the day's close) happens at the close. So a sale and a withdrawal on one day leave the day's return measured
  on the capital that earned it, and a withdrawal of everything is a day like any other.
- Time-weighted return (TWR): the GIPS sub-period method with a valuation at every external flow, daily:
  r_t = (V_t - E_t) / (V_{t-1} + S_t) - 1, chained: prod(1 + r_t) - 1. A day whose base V_{t-1} + S_t is not
  positive has no capital at work (the book is empty): it has no return and the chain goes on past it.
- Money-weighted return (MWR): the internal rate of return of the dated flows, XIRR-style (actual/365): the
  start value and each flow grown at the rate to the end add up to the end value, a start flow dated at the
  previous close and an end flow on its day. Solved by bisection on ln(1 + period return), bracketed by
  widening from 0, so any rate above -100 % has an answer; of several roots (possible when money goes in and
  out), the one nearest 0 %. Given for the period, and annualised from a year on (GIPS: never under a year).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from itertools import pairwise

from wealthgate.money import rounded

RATIO = Decimal("0.000001")
ZERO = Decimal(0)
# ln(1 + period return) is searched out to +-1024 (from -100 % to ~445 places, to 10^444 times the money),
# in brackets doubling from 1/1024, and bisected until the return itself (not its logarithm) is pinned to a
# hundredth of the last place reported, so the rounded figure is the root's own: a bracket 1e-18 wide in y is
# 1e-5 wide in the return once the money has grown 10^11-fold. Below the working precision (34 digits) nothing
# finer can be told apart: the bisection then stops at 30 significant digits of y.
_FIRST_STEP = Decimal(1) / 1024
_STEPS = 21
_RETURN_WIDTH = RATIO / 100
_FLOOR = Decimal("1e-30")


@dataclass(frozen=True, slots=True)
class Day:
    on: date
    value: Decimal  # end-of-day value, holdings plus cash, after the day's flows
    start_flow: Decimal = ZERO  # external flow at the start of the day, invested from the previous close
    end_flow: Decimal = ZERO  # external flow at the close, valued at the close (+ in, - out)

    @property
    def flow(self) -> Decimal:
        return self.start_flow + self.end_flow


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
    inflows: Decimal = ZERO  # sum of the days' flows in (each day's start and end flows taken apart by sign)
    outflows: Decimal = ZERO  # sum of the days' flows out (negative)


def daily_return(previous: Day, today: Day) -> Decimal | None:
    """The day's return by the intraday convention; None when no capital was at work."""
    base = previous.value + today.start_flow
    return (today.value - today.end_flow) / base - 1 if base > 0 else None


def twr(series: Sequence[Day]) -> Decimal | None:
    """Chained daily returns over the series (its first day is the base); None when never invested."""
    growth = Decimal(1)
    invested = False
    with localcontext() as ctx:
        ctx.prec = 34
        for previous, today in pairwise(series):
            r = daily_return(previous, today)
            if r is not None:
                growth *= 1 + r
                invested = True
    return rounded(growth - 1, RATIO) if invested else None


def _flows(series: Sequence[Day]) -> list[tuple[int, Decimal]]:
    """The money put in (+) or taken out (-), by days still to run to the end, nearest the end first."""
    start, end = series[0].on, series[-1].on
    by_day: dict[date, Decimal] = {start: series[0].value}
    for previous, today in pairwise(series):
        by_day[previous.on] = by_day.get(previous.on, ZERO) + today.start_flow
        by_day[today.on] = by_day.get(today.on, ZERO) + today.end_flow
    return sorted(((end - on).days, amount) for on, amount in by_day.items() if amount)


def _excess(y: Decimal, flows: Sequence[tuple[int, Decimal]], span: int, end_value: Decimal) -> Decimal:
    """What the flows grow to at a period log-growth of y, less the end value: zero at the IRR. The daily
    growth factor is raised day gap by day gap (one multiplication a flow, not an exponential)."""
    daily = (y / span).exp()
    growth, total, days = Decimal(1), -end_value, 0
    for to_run, amount in flows:
        growth *= daily ** (to_run - days)
        days = to_run
        total += amount * growth
    return total


def _bisect(
    low: Decimal, high: Decimal, flows: Sequence[tuple[int, Decimal]], span: int, end: Decimal
) -> Decimal:
    f_low = _excess(low, flows, span, end)
    # d(e^y) = e^y dy: the width of the bracket in the return is (high - low) e^high at most
    while (high - low) * high.exp() > _RETURN_WIDTH and high - low > _FLOOR * max(Decimal(1), abs(low)):
        mid = (low + high) / 2
        f_mid = _excess(mid, flows, span, end)
        if f_mid == 0:
            return mid
        if (f_mid > 0) == (f_low > 0):
            low, f_low = mid, f_mid
        else:
            high = mid
    return (low + high) / 2


def _solve(flows: Sequence[tuple[int, Decimal]], span: int, end: Decimal) -> Decimal | None:
    """The root y = ln(1 + period return) nearest 0: the bracket widens from 0 by doubling on both sides until
    the excess changes sign, then bisects. None when no root lies within +-1024."""
    at_zero = _excess(ZERO, flows, span, end)
    if at_zero == 0:
        return ZERO
    inner, f_inner = {1: ZERO, -1: ZERO}, {1: at_zero, -1: at_zero}
    step = _FIRST_STEP
    for _ in range(_STEPS):
        roots = []
        for side in (1, -1):
            outer = side * step
            f_outer = _excess(outer, flows, span, end)
            if f_outer == 0:
                roots.append(outer)
            elif (f_outer > 0) != (f_inner[side] > 0):
                low, high = min(inner[side], outer), max(inner[side], outer)
                roots.append(_bisect(low, high, flows, span, end))
            inner[side], f_inner[side] = outer, f_outer
        if roots:
            return min(roots, key=abs)
        step *= 2
    return None


def mwr(series: Sequence[Day]) -> tuple[Decimal | None, Decimal | None]:
    """(annualised IRR, the same over the period), or (None, None) when there is nothing to solve: under two
    days, no money ever at work, or no root (all of it lost: -100 %)."""
    if len(series) < 2:
        return None, None
    days = (series[-1].on - series[0].on).days
    if days <= 0:
        return None, None
    with localcontext() as ctx:
        ctx.prec = 34
        flows = _flows(series)
        if not any(amount > 0 and to_run > 0 for to_run, amount in flows):
            return None, None
        y = _solve(flows, days, series[-1].value)
        if y is None:
            return None, None
        period = rounded(y.exp() - 1, RATIO)
        # Returns for periods under a year are not annualised (GIPS): the figure would be meaningless.
        annual = rounded((y * 365 / days).exp() - 1, RATIO) if days >= 365 else None
    return annual, period


def returns(series: Sequence[Day]) -> Returns | None:
    if not series:
        return None
    annual, period = mwr(series)
    flows = [f for d in series[1:] for f in (d.start_flow, d.end_flow)]
    return Returns(
        start=series[0].on,
        end=series[-1].on,
        start_value=series[0].value,
        end_value=series[-1].value,
        net_flows=sum(flows, ZERO),
        twr=twr(series),
        mwr_annualised=annual,
        mwr_period=period,
        days=(series[-1].on - series[0].on).days,
        inflows=sum((f for f in flows if f > 0), ZERO),
        outflows=sum((f for f in flows if f < 0), ZERO),
    )


def months_before(end: date, n: int) -> date:
    """The same day n calendar months earlier, end-of-month aware as fact sheets count: from a month's last
    day, the last day of the earlier month (30 April -> 31 March); a day the earlier month lacks becomes its
    last day (30 March -> 28 February)."""
    year, month = divmod(end.year * 12 + end.month - 1 - n, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    if end.day == calendar.monthrange(end.year, end.month)[1]:
        return date(year, month, last)
    return date(year, month, min(end.day, last))
