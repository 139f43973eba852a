"""Rebalance proposals over random books (hypothesis): securities, accounts, profiles, policies, reserves,
minimum trades, whole or fractional shares and liquidations. Every proposal is applied trade by trade by the
independent simulator (`tests/rebalance_check.py`) and checked by the firm's engine
(`rebalance_books.violations`); where a feasible answer always exists, the proposal must land in every band.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.rebalance_check import apply
from tests.unit.rebalance_books import AS_OF, FUNDS, D, book_of, hold, policy, profile, run, sec, violations
from wealthgate.demo.book import MODELS
from wealthgate.portfolios.analytics import Valuation, value
from wealthgate.portfolios.rebalance import Constraints
from wealthgate.suitability.engine import Profile, Security
from wealthgate.vocabulary import EXPERIENCE_LEVELS, INVESTMENT_OBJECTIVES, LIQUIDITY_NEEDS, RISK_LEVELS

# -- random books --------------------------------------------------------------------------------------------

EXTRA_SECTORS = ("Technology", "Energy", "Financials", "Real Estate", "Diversified")
money = st.decimals(min_value=D(0), max_value=D(300_000), places=2)


@st.composite
def securities(draw: st.DrawFn) -> dict[str, Security]:
    out = {s: x for s, x in FUNDS.items() if draw(st.booleans()) or s == "MMF"}
    for i in range(draw(st.integers(0, 7))):
        cls = draw(st.sampled_from(("equity", "equity", "fixed_income", "real_estate")))
        out[f"S{i}"] = sec(
            f"S{i}",
            cls,
            draw(st.sampled_from(EXTRA_SECTORS)),
            draw(st.integers(1, 5)),
            str(draw(st.decimals(min_value=D(1), max_value=D(500), places=2))),
            complex_=draw(st.integers(0, 6)) == 0,
            liquidity=draw(st.sampled_from(("high", "high", "medium", "illiquid"))),
        )
    return out


@st.composite
def cases(draw: st.DrawFn) -> tuple[Valuation, dict[str, Security], Constraints, Profile, Any]:
    universe = draw(securities())
    kinds = draw(st.lists(st.sampled_from(("taxable", "ira", "roth_ira", "joint")), min_size=1, max_size=3))
    accounts = {i + 1: k for i, k in enumerate(kinds)}
    holdings = []
    for symbol in draw(st.lists(st.sampled_from(sorted(universe)), max_size=6, unique=True)):
        for account in draw(st.lists(st.sampled_from(sorted(accounts)), min_size=1, max_size=2, unique=True)):
            qty = draw(st.integers(1, 3000))
            holdings.append(hold(symbol, str(qty), universe, account, accounts[account]))
    cash = {a: draw(money) for a in accounts}
    v = value(holdings, cash, accounts, AS_OF)
    level = draw(st.sampled_from(RISK_LEVELS))
    who = profile(
        level,
        liquidity_needs=draw(st.sampled_from(LIQUIDITY_NEEDS)),
        investment_experience=draw(st.sampled_from(EXPERIENCE_LEVELS)),
        investment_objective=draw(st.sampled_from(INVESTMENT_OBJECTIVES)),
        age=draw(st.integers(25, 85)),
        time_horizon=draw(st.sampled_from(("short", "medium", "long"))),
        excluded_sectors=frozenset(draw(st.lists(st.sampled_from(EXTRA_SECTORS), max_size=1))),
        excluded_symbols=frozenset(draw(st.lists(st.sampled_from(sorted(universe)), max_size=1))),
        held_away_assets=draw(st.sampled_from((D(0), D(0), D(50_000)))),
    )
    bands = {lv: {c: (D(t), D(b)) for c, (t, b) in MODELS[lv].items()} for lv in RISK_LEVELS}
    rules = policy(
        bands,
        single_position_cap=draw(st.sampled_from(("0.10", "0.20", "0.35"))),
        sector_cap=draw(st.sampled_from(("0.25", "0.40"))),
        restricted_symbols=draw(st.lists(st.sampled_from(sorted(universe)), max_size=1)),
    )
    mmf = sum((h.quantity * h.price for h in holdings if h.symbol == "MMF" and h.price), D(0))
    reserve = draw(st.sampled_from((D(0), D(0), D(1000), D(5000)))).min(v.cash_total + mmf)
    c = Constraints(
        cash_reserve=reserve,
        min_trade=draw(st.sampled_from((D(0), D(100), D(1000), D(5000)))),
        fractional=draw(st.booleans()),
        liquidate=draw(st.integers(0, 9)) == 0,
    )
    return v, universe, c, who, rules


@given(cases())
def test_every_proposal_keeps_the_invariants_and_passes_the_firms_check(
    case: tuple[Valuation, dict[str, Security], Constraints, Profile, Any],
) -> None:
    v, universe, c, who, rules = case
    assume(v.total_value > 0)
    p, facts, rules = run(v, universe, c, who=who, rules=rules)
    assert violations(v, universe, p, facts, rules, c) == [], (p.trades, p.notes, p.unresolved)
    if c.liquidate and p.trades:
        kept = apply(book_of(v, universe), p.trades).positions
        assert all(s in rules.restricted_symbols for _, s in kept), kept


weights = st.lists(st.decimals(min_value=D("0"), max_value=D("100000"), places=2), min_size=3, max_size=3)


@given(weights, st.decimals(min_value=D("0"), max_value=D("100000"), places=2))
def test_lands_within_bands_whenever_feasible(amounts: list[Decimal], cash: Decimal) -> None:
    """Fractional shares, no minimum trade, a fund for every class and a reserve the model's cash target
    covers: a feasible answer always exists, and the proposal must land inside every band."""
    equity, bonds, mmf = amounts
    holdings = [
        h
        for h in (
            hold("EQF", str(equity / 50), FUNDS),
            hold("BND", str(bonds / 100), FUNDS),
            hold("MMF", str(mmf), FUNDS),
        )
        if h.quantity
    ]
    v = value(holdings, {1: cash}, {1: "taxable"}, AS_OF)
    assume(v.total_value >= 100)
    c = Constraints(cash_reserve=(v.total_value * D("0.02")).quantize(D("0.01")), fractional=True)
    p, facts, rules = run(v, FUNDS, c)
    assert p.in_band, (p.notes, p.unresolved)
    assert violations(v, FUNDS, p, facts, rules, c) == []


large = st.lists(st.decimals(min_value=D("0"), max_value=D("2000000"), places=2), min_size=3, max_size=3)


@given(large, st.decimals(min_value=D("0"), max_value=D("2000000"), places=2))
def test_whole_shares_land_within_bands_when_the_book_dwarfs_a_share(
    amounts: list[Decimal], cash: Decimal
) -> None:
    """With a book of at least 100,000 and shares of at most 100, one share moves a weight by at most 0.1%:
    whole shares can always land inside bands of 3% and more."""
    equity, bonds, mmf = amounts
    holdings = [
        h
        for h in (
            hold("EQF", str((equity / 50).to_integral_value()), FUNDS),
            hold("BND", str((bonds / 100).to_integral_value()), FUNDS),
            hold("MMF", str(mmf.to_integral_value()), FUNDS),
        )
        if h.quantity
    ]
    v = value(holdings, {1: cash}, {1: "taxable"}, AS_OF)
    assume(v.total_value >= 100_000)
    c = Constraints(cash_reserve=v.total_value * D("0.02"))
    p, facts, rules = run(v, FUNDS, c)
    assert p.in_band, (p.notes, p.unresolved)
    assert violations(v, FUNDS, p, facts, rules, c) == []
