"""Rebalance proposals worked by hand, and one small book per defect the reviewers found (issue 11), each
checked by the independent simulator (`tests/rebalance_check.py`) and the firm's own suitability engine.

Every returned proposal, applied trade by trade to the accounts it names, must leave every account's cash at
or above zero and the total at or above the reserve, raise no holding or sector past the policy's caps, buy
only what the client may hold, never buy and sell one security, and pass the engine (verdict not `fail`).
Random books: `test_rebalance_properties.py`.
"""

from __future__ import annotations

from tests.rebalance_check import apply
from tests.unit.rebalance_books import (
    AS_OF,
    FUNDS,
    D,
    book_of,
    hold,
    policy,
    profile,
    run,
    sec,
    violations,
)
from wealthgate.portfolios.analytics import value
from wealthgate.portfolios.rebalance import Constraints
from wealthgate.vocabulary import RISK_LEVELS

# -- by hand -------------------------------------------------------------------------------------------------


def test_by_hand() -> None:
    # EQF 18 x 50 = 900 (90%), cash 100: total 1,000. Targets: equity 600, bonds 350, cash 50 (bands 5/5/3).
    # Every class is out of band, so every class is traded to its target: sell 300 of EQF (6 shares), buy
    # 350 of BND in whole 100-dollar shares: 3 (300), which leaves cash at 100 (10%, outside 5 +/- 3). The
    # repair's best one-share move takes one EQF share back from the sale: 650 / 300 / 50, every class in its
    # band (equity and bonds on its edge), and cash exactly 50.
    v = value([hold("EQF", "18", FUNDS)], {1: D("100")}, {1: "taxable"}, AS_OF)
    p, facts, rules = run(v, FUNDS)
    assert violations(v, FUNDS, p, facts, rules, Constraints()) == []
    after = apply(book_of(v, FUNDS), p.trades)
    assert p.in_band, p.notes
    values = after.class_values()
    assert {k: w / 1000 for k, w in values.items() if w} == {
        "equity": D("0.65"),
        "fixed_income": D("0.3"),
        "cash_equivalent": D("0.05"),
    }
    assert [(t.side, t.symbol, t.quantity) for t in p.trades] == [("sell", "EQF", 5), ("buy", "BND", 3)]
    assert p.verdict.verdict == "pass"


def test_restrictions_and_reserve_are_honoured() -> None:
    v = value([hold("EQF", "18", FUNDS)], {1: D("100")}, {1: "taxable"}, AS_OF)
    c = Constraints(excluded_symbols=frozenset({"BND"}), fractional=True)
    p, facts, rules = run(v, FUNDS, c)
    assert all(t.symbol != "BND" for t in p.trades if t.side == "buy")
    assert not p.in_band
    assert "BND is excluded by the client" in p.unresolved["fixed_income"]
    c = Constraints(cash_reserve=D("80"), fractional=True)
    kept, facts, rules = run(v, FUNDS, c)
    assert violations(v, FUNDS, kept, facts, rules, c) == []
    assert sum(apply(book_of(v, FUNDS), kept.trades).cash.values(), D(0)) >= 80
    assert kept.in_band
    # A reserve of 20% lies above the cash band (5 +/- 3): meeting it moves cash further out, which the
    # firm's check fails, so nothing is proposed and the note says why.
    c = Constraints(cash_reserve=D("200"), fractional=True)
    kept, facts, rules = run(v, FUNDS, c)
    assert kept.trades == ()
    assert any("above the top of the cash band (8.00%)" in n for n in kept.notes), kept.notes


def test_an_in_band_book_needs_nothing() -> None:
    v = value([hold("EQF", "12", FUNDS), hold("BND", "3.5", FUNDS)], {1: D("50")}, {1: "taxable"}, AS_OF)
    p, _, _ = run(v, FUNDS)
    assert p.trades == ()
    assert p.in_band
    assert p.verdict.verdict == "pass"


# -- the reviewers' defects, each on a small book ------------------------------------------------------------

BOOK = {
    **FUNDS,
    **{
        s.symbol: s
        for s in (
            sec("BANK", "equity", "Financials", 3, "100"),  # sorts before EQF by product risk, then symbol
            sec("TECH", "equity", "Technology", 4, "200"),
            sec("REIT", "real_estate", "Real Estate", 4, "25", liquidity="illiquid"),
            sec("LEV", "equity", "Diversified", 5, "40", complex_=True),
        )
    },
}
WITH_REIT = {
    level: {
        "equity": (D("0.55"), D("0.05")),
        "fixed_income": (D("0.35"), D("0.05")),
        "cash_equivalent": (D("0.05"), D("0.03")),
        "real_estate": (D("0.05"), D("0.03")),
    }
    for level in RISK_LEVELS
}


def test_sales_under_the_minimum_are_left_out_before_purchases_are_sized() -> None:
    # Cash 1,000, MMF 30,000, BND 30,000, EQF 39,000 (total 100,000; moderate: 60/35/5). Cash is 31% against
    # 5 +/- 3: the MMF redemption that would pay for the equity is under the minimum trade of 40,000, and
    # so is every sale. Nothing may be bought with money that was never raised.
    v = value(
        [hold("MMF", "30000", FUNDS), hold("BND", "300", FUNDS), hold("EQF", "780", FUNDS)],
        {1: D("1000")},
        {1: "taxable"},
        AS_OF,
    )
    c = Constraints(min_trade=D("40000"))
    p, facts, rules = run(v, FUNDS, c)
    assert violations(v, FUNDS, p, facts, rules, c) == []
    c = Constraints(min_trade=D("20000"), cash_reserve=D("5000"))
    p, facts, rules = run(v, FUNDS, c)
    assert violations(v, FUNDS, p, facts, rules, c) == []
    assert p.trades  # the MMF redemption of at least 20,000 pays for equity


def test_a_concentrated_stock_is_not_bought_past_the_cap() -> None:
    # TECH 95 x 200 = 19,000 (19%), EQF 20,000, BND 35,000, cash 26,000: equity 39% against 55 +/- 5. The
    # client's largest equity holding is TECH; buying it to fill equity would pass the 20% cap.
    v = value(
        [hold("TECH", "95", BOOK), hold("EQF", "400", BOOK), hold("BND", "350", BOOK)],
        {1: D("26000")},
        {1: "taxable"},
        AS_OF,
    )
    p, facts, rules = run(v, BOOK, rules=policy(WITH_REIT))
    assert violations(v, BOOK, p, facts, rules, Constraints()) == []
    assert "TECH" not in {t.symbol for t in p.trades if t.side == "buy"}
    assert p.verdict.verdict != "fail"


def test_an_all_cash_book_is_spread_within_the_caps() -> None:
    v = value([], {1: D("100000")}, {1: "taxable"}, AS_OF)
    no_funds = {s: x for s, x in BOOK.items() if s != "EQF"}  # equity only in single stocks
    p, facts, rules = run(v, no_funds, rules=policy(WITH_REIT))
    assert violations(v, no_funds, p, facts, rules, Constraints()) == []
    after = apply(book_of(v, no_funds), p.trades)
    assert max(after.values().get(s, D(0)) for s in ("BANK", "TECH")) <= D("20000")
    assert "equity" in p.unresolved  # two stocks at 20% each cannot make 55%: said, not forced
    assert "single-position cap" in p.unresolved["equity"]
    p, facts, rules = run(v, BOOK, rules=policy(WITH_REIT))
    assert violations(v, BOOK, p, facts, rules, Constraints()) == []
    assert p.in_band, p.unresolved


def test_a_conservative_client_gets_nothing_rated_above_its_limit() -> None:
    v = value([hold("BND", "600", BOOK)], {1: D("40000")}, {1: "taxable"}, AS_OF)
    who = profile("conservative", investment_objective="income")
    p, facts, rules = run(v, BOOK, who=who, rules=policy(WITH_REIT))
    assert violations(v, BOOK, p, facts, rules, Constraints()) == []
    assert all(BOOK[t.symbol].risk_rating <= 2 for t in p.trades if t.side == "buy")
    assert "rated 3, above the 2 a conservative client may buy" in p.unresolved["equity"]


def test_real_estate_is_bought_when_the_client_may_hold_it_and_else_the_reason_is_named() -> None:
    v = value([], {1: D("100000")}, {1: "taxable"}, AS_OF)
    p, facts, rules = run(v, BOOK, rules=policy(WITH_REIT))
    assert "REIT" in {t.symbol for t in p.trades if t.side == "buy"}
    assert violations(v, BOOK, p, facts, rules, Constraints()) == []
    needs_cash = profile(liquidity_needs="high")
    p, facts, rules = run(v, BOOK, who=needs_cash, rules=policy(WITH_REIT))
    assert "REIT" not in {t.symbol for t in p.trades}
    why = p.unresolved["real_estate"]
    assert "illiquid and the client has high liquidity needs" in why
    assert "restriction" not in why


def test_purchases_are_placed_in_accounts_that_can_pay_income_first_in_the_ira() -> None:
    # Taxable 60,000 cash, IRA 40,000 cash: bonds (35,000) go to the IRA, equity to the account with the
    # most cash left; none to an account that cannot pay, none at client level.
    v = value([], {1: D("60000"), 2: D("40000")}, {1: "taxable", 2: "ira"}, AS_OF)
    p, facts, rules = run(v, FUNDS)
    assert violations(v, FUNDS, p, facts, rules, Constraints()) == []
    assert {t.account_id for t in p.trades if t.symbol == "BND"} == {2}
    assert all(t.account_id in (1, 2) for t in p.trades)


def test_a_purchase_larger_than_any_account_is_split_over_accounts() -> None:
    v = value(
        [], {1: D("30000"), 2: D("30000"), 3: D("40000")}, {1: "taxable", 2: "taxable", 3: "joint"}, AS_OF
    )
    p, facts, rules = run(v, FUNDS)
    assert violations(v, FUNDS, p, facts, rules, Constraints()) == []
    assert len({t.account_id for t in p.trades if t.symbol == "EQF"}) >= 2
    assert p.in_band


def test_a_liquidation_sells_everything_and_goes_to_a_person() -> None:
    v = value(
        [
            hold("EQF", "100", FUNDS),
            hold("BND", "20", FUNDS, account=2, kind="ira"),
            hold("MMF", "300", FUNDS),
        ],
        {1: D("10"), 2: D("0")},
        {1: "taxable", 2: "ira"},
        AS_OF,
    )
    c = Constraints(liquidate=True, min_trade=D("100000"))
    p, facts, rules = run(v, FUNDS, c)
    assert violations(v, FUNDS, p, facts, rules, c) == []
    after = apply(book_of(v, FUNDS), p.trades)
    assert after.positions == {}
    assert sum(after.cash.values(), D(0)) == v.total_value
    assert p.verdict.verdict == "needs_review"


def test_a_purchase_the_firm_refuses_is_replaced_and_the_reason_kept() -> None:
    # The policy lists EQF as an options product needing approval level 2: the rebalancer's own filters do
    # not know it, the engine does. EQF is left out with the engine's words and equity goes to BANK instead.
    v = value([], {1: D("100000")}, {1: "taxable"}, AS_OF)
    rules = policy(WITH_REIT, options_products={"EQF": 2})
    p, facts, rules = run(v, BOOK, rules=rules)
    assert violations(v, BOOK, p, facts, rules, Constraints()) == []
    assert "EQF" not in {t.symbol for t in p.trades}
    assert "BANK" in {t.symbol for t in p.trades if t.side == "buy"}
    assert any("options approval" in why for why in p.unresolved.values())
