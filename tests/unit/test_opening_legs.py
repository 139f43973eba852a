"""Opening positions enter the ledger as transfers whose replayed cost basis is exactly the file's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from wealthgate.ledger.importing import RowError, opening_legs
from wealthgate.ledger.replay import Entry, replay
from wealthgate.money import PRICE_PLACES

quantities = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1e12"), places=8)
costs = st.decimals(min_value=Decimal(0), max_value=Decimal("1e12"), places=4)


def replayed(legs: list[tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
    book = replay(Entry(1, "transfer", "X", q, p, Decimal(0)) for q, p in legs)
    held = book.holdings[(1, "X")]
    return held.quantity, held.cost_basis


@given(quantities, costs)
@example(Decimal(7000), Decimal("12345.67"))  # no six-decimal price rounds back: two legs
@example(Decimal(3), Decimal("100.00"))  # 33.333333 x 3 rounds back: one leg
@example(Decimal("1000000"), Decimal("0.01"))
def test_the_legs_replay_to_the_files_quantity_and_cost(quantity: Decimal, cost: Decimal) -> None:
    if cost / quantity >= Decimal("1e14"):  # a unit cost beyond NUMERIC(20,6) is refused, nothing else
        with pytest.raises(RowError, match="too large a price"):
            opening_legs(quantity, cost)
        return
    legs = opening_legs(quantity, cost)
    assert replayed(legs) == (quantity, cost)
    assert 1 <= len(legs) <= 2
    for q, p in legs:
        assert q > 0
        assert p >= 0
        assert p == p.quantize(PRICE_PLACES)  # what the price column stores, unchanged


def test_a_split_is_all_but_one_unit_then_one_unit() -> None:
    legs = opening_legs(Decimal(7000), Decimal("12345.67"))
    assert legs == [(Decimal(6999), Decimal("1.763667")), (Decimal(1), Decimal("1.7647"))]
    assert opening_legs(Decimal(10), Decimal("1500.00")) == [(Decimal(10), Decimal(150))]


def test_the_replay_would_drift_with_one_rounded_price() -> None:
    """Why the split exists: the nearest six-decimal unit cost misses the cost basis."""
    price = (Decimal("12345.67") / 7000).quantize(PRICE_PLACES)
    assert replayed([(Decimal(7000), price)])[1] != Decimal("12345.67")
    with pytest.raises(RowError):
        opening_legs(Decimal("0.00000001"), Decimal("1000000"))
