"""Valuation, allocation and drift: hand-checked cases and properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.unit.test_money import half_away_from_zero
from wealthgate.portfolios.analytics import Holding, Valuation, allocation, drift, value, weights

D = Decimal
AS_OF = date(2018, 4, 11)
CLASSES = ["equity", "fixed_income", "real_estate", "cash_equivalent"]


def holding(
    symbol: str,
    qty: str,
    price: str | None,
    cls: str = "equity",
    account: int = 1,
    cost: str = "0",
    price_date: date | None = AS_OF,
    sector: str = "Tech",
) -> Holding:
    return Holding(
        account,
        "taxable",
        symbol,
        symbol,
        cls,
        sector,
        "North America",
        D(qty),
        D(cost),
        None if price is None else D(price),
        price_date if price is not None else None,
    )


def test_a_small_book_by_hand() -> None:
    # 10 AAA at 12.345 = 123.45; 3 BND at 100 = 300.00; cash 76.55; total 500.00
    v = value(
        [
            holding("AAA", "10", "12.345", cost="100"),
            holding("BND", "3", "100", "fixed_income", sector="Bonds"),
        ],
        {1: D("76.55")},
        {1: "taxable"},
        AS_OF,
    )
    assert v.holdings_value == D("423.45")
    assert v.total_value == D("500.00")
    assert v.holdings[0].unrealized_gain == D("23.45")
    a = allocation(v)
    assert a["asset_class"] == {
        "equity": D("0.246900"),
        "fixed_income": D("0.600000"),
        "cash_equivalent": D("0.153100"),
    }
    model = {
        "equity": (D("0.55"), D("0.05")),
        "fixed_income": (D("0.35"), D("0.05")),
        "cash_equivalent": (D("0.10"), D("0.03")),
    }
    rows = {r.asset_class: r for r in drift(a["asset_class"], model)}
    assert rows["equity"].difference == D("-0.303100")
    assert not rows["equity"].in_band
    assert rows["cash_equivalent"].difference == D("0.053100")
    assert not rows["cash_equivalent"].in_band


def test_missing_and_stale_prices_are_flagged_not_hidden() -> None:
    v = value(
        [holding("OLD", "1", "5", price_date=date(2018, 3, 1)), holding("NONE", "2", None)], {}, {}, AS_OF
    )
    flags = {x.holding.symbol: x.flags for x in v.holdings}
    assert flags == {"OLD": ("price_stale",), "NONE": ("price_missing",)}
    assert v.holdings[1].market_value is None
    assert v.total_value == D("5.00")


amounts = st.dictionaries(
    st.sampled_from(list("abcdefgh")),
    st.decimals(min_value=D("0.01"), max_value=D("1e9"), places=2),
    min_size=1,
)


@given(amounts)
def test_each_weight_is_its_share_rounded_half_away_from_zero(parts: dict[str, Decimal]) -> None:
    """Each weight on its own, by the one rule; so a set adds up to 1 within half a millionth per weight."""
    total = sum(parts.values())
    w = weights(parts, total)
    for k, x in w.items():
        assert x == half_away_from_zero(Fraction(parts[k]) / Fraction(total), 6)
    assert abs(sum(w.values()) - 1) <= D("0.0000005") * len(w)


def test_a_tie_is_not_moved_to_make_the_set_add_up() -> None:
    # 0.2500005 and 0.7499995: both ties; each rounds away from zero, the set adds up to 1.000001
    w = weights({"a": D("2500005"), "b": D("7499995")}, D("10000000"))
    assert w == {"a": D("0.250001"), "b": D("0.750000")}


books = st.tuples(
    st.lists(
        st.tuples(
            st.sampled_from(["equity", "fixed_income", "real_estate"]),
            st.decimals(min_value=D("0.00000001"), max_value=D("100000"), places=8),
            st.decimals(min_value=D("0.01"), max_value=D("5000"), places=6),
        ),
        min_size=1,
        max_size=15,
    ),
    st.decimals(min_value=D(0), max_value=D("1e6"), places=2),
)


def book_of(rows: list[tuple[str, Decimal, Decimal]], cash: Decimal) -> Valuation:
    return value(
        [holding(f"S{i}", str(q), str(p), cls) for i, (cls, q, p) in enumerate(rows)],
        {1: cash},
        {1: "taxable"},
        AS_OF,
    )


@given(books)
def test_every_allocation_adds_up_to_one_within_rounding(book: tuple[list[Any], Decimal]) -> None:
    v = book_of(*book)
    if v.total_value > 0:
        for dimension in allocation(v).values():
            assert abs(sum(dimension.values()) - 1) <= D("0.0000005") * len(dimension)
            assert all(x.as_tuple().exponent == -6 for x in dimension.values())


targets = st.decimals(min_value=D(0), max_value=D(1), places=4)


@given(books, st.dictionaries(st.sampled_from(CLASSES), st.tuples(targets, targets), min_size=1))
def test_drift_bands_are_judged_on_exact_weights(
    book: tuple[list[Any], Decimal], model: dict[str, tuple[Decimal, Decimal]]
) -> None:
    """`in_band` from the exact shares (exact fractions of the values, here), never from the 6-place figures
    shown; `actual` and `difference` are those figures."""
    v = book_of(*book)
    assume(v.total_value > 0)
    values: dict[str, Fraction] = {}
    for item in v.holdings:
        if item.market_value is not None:
            cls = item.holding.asset_class
            values[cls] = values.get(cls, Fraction(0)) + Fraction(item.market_value)
    values["cash_equivalent"] = values.get("cash_equivalent", Fraction(0)) + Fraction(v.cash_total)
    total = Fraction(v.total_value)
    rows = drift(allocation(v, exact=True)["asset_class"], model)
    for r in rows:
        exact = values.get(r.asset_class, Fraction(0)) / total
        target, band = model.get(r.asset_class, (D(0), D(0)))
        assert r.in_band == (abs(exact - Fraction(target)) <= Fraction(band)), r
        assert r.actual == half_away_from_zero(exact, 6)
        assert r.difference == half_away_from_zero(exact - Fraction(target), 6)


def test_a_share_just_beyond_its_band_is_out_though_it_rounds_onto_the_edge() -> None:
    # fixed income 400,000.40 of 1,000,000.00 = 0.4000004: 0.0000004 beyond 0.35 + 0.05
    v = value(
        [
            holding("EQ", "5200", "100"),
            holding("FI", "400000", "1.000001", "fixed_income"),
            holding("RE", "1000", "40", "real_estate"),
        ],
        {1: D("39999.60")},
        {1: "taxable"},
        AS_OF,
    )
    model = {
        "equity": (D("0.55"), D("0.05")),
        "fixed_income": (D("0.35"), D("0.05")),
        "cash_equivalent": (D("0.05"), D("0.03")),
        "real_estate": (D("0.05"), D("0.03")),
    }
    rows = {r.asset_class: r for r in drift(allocation(v, exact=True)["asset_class"], model)}
    assert (rows["fixed_income"].actual, rows["fixed_income"].difference) == (D("0.400000"), D("0.050000"))
    assert not rows["fixed_income"].in_band
    assert [c for c, r in rows.items() if not r.in_band] == ["fixed_income"]
