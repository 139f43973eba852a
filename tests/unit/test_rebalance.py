"""Rebalance proposals: by hand, and within bands whenever a feasible answer exists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.unit.test_analytics import holding
from wealthgate.portfolios.analytics import value
from wealthgate.portfolios.rebalance import Candidate, Constraints, propose

D = Decimal
AS_OF = date(2018, 4, 11)
MODEL = {
    "equity": (D("0.60"), D("0.05")),
    "fixed_income": (D("0.35"), D("0.05")),
    "cash_equivalent": (D("0.05"), D("0.03")),
}
CANDIDATES = [
    Candidate("EQF", "Equity fund", "equity", "Diversified", "NA", D("50")),
    Candidate("BND", "Bond fund", "fixed_income", "Diversified", "NA", D("100")),
    Candidate("MMF", "Money market", "cash_equivalent", "Cash", "NA", D("1")),
]


def test_by_hand() -> None:
    # equity 900 (90%), bonds 0, cash 100: total 1000. Targets: equity 600, bonds 350, cash 50.
    v = value([holding("EQF", "18", "50")], {1: D("100")}, {1: "taxable"}, AS_OF)
    p = propose(v, MODEL, CANDIDATES, Constraints())
    trades = {(t.side, t.symbol): t for t in p.trades}
    assert (
        trades[("sell", "EQF")].quantity == 5
    )  # whole 100-dollar bond shares: 650 / 300 / 50 fits every band
    assert trades[("buy", "BND")].quantity == 3  # 350 wanted, whole shares of 100
    assert p.in_band
    assert p.projected == {
        "cash_equivalent": D("0.050000"),
        "equity": D("0.650000"),
        "fixed_income": D("0.300000"),
    }


def test_restrictions_and_reserve_are_honoured() -> None:
    v = value([holding("EQF", "18", "50")], {1: D("100")}, {1: "taxable"}, AS_OF)
    p = propose(v, MODEL, CANDIDATES, Constraints(excluded_symbols=frozenset({"BND"}), fractional=True))
    assert all(t.symbol != "BND" for t in p.trades if t.side == "buy")
    assert not p.in_band
    assert any("restrictions" in n for n in p.notes)
    kept = propose(v, MODEL, CANDIDATES, Constraints(cash_reserve=D("200"), fractional=True))
    spent = sum(t.estimated_value for t in kept.trades if t.side == "buy")
    raised = sum(t.estimated_value for t in kept.trades if t.side == "sell")
    assert D(100) + raised - spent >= D(200)


def test_an_in_band_book_needs_nothing() -> None:
    v = value(
        [holding("EQF", "12", "50"), holding("BND", "3.5", "100", "fixed_income")],
        {1: D("50")},
        {1: "taxable"},
        AS_OF,
    )
    p = propose(v, MODEL, CANDIDATES, Constraints())
    assert p.trades == ()
    assert p.in_band


weights = st.lists(st.decimals(min_value=D("0"), max_value=D("100000"), places=2), min_size=3, max_size=3)


@given(weights, st.decimals(min_value=D("0"), max_value=D("100000"), places=2))
def test_lands_within_bands_whenever_feasible(amounts: list[Decimal], cash: Decimal) -> None:
    """Fractional shares, no minimum trade, a buyable security for every class and a reserve the model's cash
    target covers: a feasible answer always exists, and the proposal must land inside every band."""
    equity, bonds, money = amounts
    holdings = [
        h
        for h in (
            holding("EQF", str(equity / 50), "50"),
            holding("BND", str(bonds / 100), "100", "fixed_income"),
            holding("MMF", str(money), "1", "cash_equivalent"),
        )
        if h.quantity
    ]
    v = value(holdings, {1: cash}, {1: "taxable"}, AS_OF)
    if v.total_value < 100:
        return
    reserve = (v.total_value * D("0.02")).quantize(D("0.01"))
    p = propose(v, MODEL, CANDIDATES, Constraints(cash_reserve=reserve, fractional=True))
    assert p.in_band, (p.notes, p.projected_drift)
    for t in p.trades:
        assert t.quantity > 0


large = st.lists(st.decimals(min_value=D("0"), max_value=D("2000000"), places=2), min_size=3, max_size=3)


@given(large, st.decimals(min_value=D("0"), max_value=D("2000000"), places=2))
def test_whole_shares_land_within_bands_when_the_book_dwarfs_a_share(
    amounts: list[Decimal], cash: Decimal
) -> None:
    """With a book of at least 100,000 and shares of at most 100, one share moves a weight by at most 0.1%:
    whole shares can always land inside bands of 3% and more."""
    equity, bonds, money = amounts
    holdings = [
        h
        for h in (
            holding("EQF", str((equity / 50).to_integral_value()), "50"),
            holding("BND", str((bonds / 100).to_integral_value()), "100", "fixed_income"),
            holding("MMF", str(money.to_integral_value()), "1", "cash_equivalent"),
        )
        if h.quantity
    ]
    v = value(holdings, {1: cash}, {1: "taxable"}, AS_OF)
    assume(v.total_value >= 100_000)
    p = propose(v, MODEL, CANDIDATES, Constraints(cash_reserve=v.total_value * D("0.02")))
    assert p.in_band, (p.notes, p.projected_drift)
    assert all(t.quantity == t.quantity.to_integral_value() for t in p.trades)
    sides = {t.symbol: t.side for t in p.trades}
    assert len(sides) == len({(t.symbol, t.account_id) for t in p.trades})  # never both buys and sells one
