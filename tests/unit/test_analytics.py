"""Valuation, allocation and drift: hand-checked cases and properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from wealthgate.portfolios.analytics import Holding, allocation, drift, value, weights

D = Decimal
AS_OF = date(2018, 4, 11)


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
def test_weights_sum_to_exactly_one(parts: dict[str, Decimal]) -> None:
    w = weights(parts, sum(parts.values()))
    assert sum(w.values()) == D(1)
    for k, x in w.items():
        assert abs(x - parts[k] / sum(parts.values())) <= D("0.000001")


@given(
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
def test_every_allocation_sums_to_one(rows: list[tuple[str, Decimal, Decimal]], cash: Decimal) -> None:
    v = value(
        [holding(f"S{i}", str(q), str(p), cls) for i, (cls, q, p) in enumerate(rows)],
        {1: cash},
        {1: "taxable"},
        AS_OF,
    )
    if v.total_value > 0:
        for dimension in allocation(v).values():
            assert sum(dimension.values()) == D(1)
