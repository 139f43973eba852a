"""`RunningSums` (ledger/running.py) answers what a scan of every day would: the first day from a given one
whose running balance (its closing one, or its lowest point within the day) is below zero, and that balance;
`undo` takes an addition back exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from wealthgate.ledger.running import SIZE, RunningSums

Step = tuple[int, int, bool]  # (day, value, taken back at once)
DAYS = st.one_of(st.integers(0, 40), st.sampled_from([0, 3_652_059, SIZE - 1]))
STEPS = st.lists(st.tuples(DAYS, st.integers(-10, 12), st.booleans()), min_size=1, max_size=30)


def scanned(points: list[tuple[int, Decimal]], closing: bool, since: int) -> tuple[int, Decimal] | None:
    """Every day in order, by hand."""
    balance = Decimal(0)
    for day in sorted({d for d, _ in points}):
        lowest: Decimal | None = None
        for d, value in points:
            if d == day:
                balance += value
                lowest = balance if lowest is None else min(lowest, balance)
        assert lowest is not None
        low = balance if closing else lowest
        if day >= since and low < 0:
            return day, low
    return None


@given(steps=STEPS, closing=st.booleans(), since=st.integers(0, 45))
def test_the_first_day_below_zero_is_the_scans(steps: list[Step], closing: bool, since: int) -> None:
    sums = RunningSums(closing=closing)
    points: list[tuple[int, Decimal]] = []
    for day, value, taken_back in steps:
        undo = sums.add(day, Decimal(value))
        points.append((day, Decimal(value)))
        if taken_back:
            sums.undo(undo)
            points.pop()
        assert sums.first_below(since) == scanned(points, closing, since)
        assert sums.first_below() == scanned(points, closing, 0)


def test_a_dip_within_a_day_counts_only_when_every_point_does() -> None:
    quantities, cash = RunningSums(closing=False), RunningSums(closing=True)
    for sums in (quantities, cash):
        sums.add(10, Decimal(-5))  # a sale, then a buy, on one day
        sums.add(10, Decimal(5))
    assert quantities.first_below() == (10, Decimal(-5))
    assert cash.first_below() is None  # the day closes at zero
