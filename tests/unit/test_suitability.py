"""The suitability engine on a fixed book worked out by hand, and its invariants under hypothesis.

The book (total 10,000.00): BOND 40 x 100 = 4,000 (fixed income fund), EQF 60 x 50 = 3,000 (equity fund),
TECH 5 x 200 = 1,000 (a single stock, Technology), cash 2,000. Equity is 4,000 / 10,000 = 40%, fixed income
40%, cash 20%. The moderate model: equity 45% +/- 5, fixed income 40% +/- 5, cash 15% +/- 5 (all in band now).
The client's profile is complete (growth objective, net worth 1,000,000, liquid 500,000) and the year's
trading light (5,000 bought, 100 of costs, against 10,000 of average equity), so only the rules a test aims
at have anything to say. The care obligation's own rules are in test_suitability_care.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from wealthgate.suitability import policy as policies
from wealthgate.suitability.engine import RULES, Activity, Facts, Profile, Security, Trade, evaluate
from wealthgate.suitability.facts import OUTCOMES
from wealthgate.suitability.snapshot import facts_from_json, facts_to_json, trades_from_json, trades_to_json

D = Decimal
DAY = date(2018, 4, 11)
BANDS = {
    level: {
        "equity": (D("0.45"), D("0.05")),
        "fixed_income": (D("0.40"), D("0.05")),
        "cash_equivalent": (D("0.15"), D("0.05")),
    }
    for level in ("conservative", "moderate", "aggressive")
}


def sec(symbol: str, cls: str, sector: str, rating: int, price: str, **kw: object) -> Security:
    return Security(
        symbol=symbol,
        name=symbol.title(),
        asset_class=cls,
        sector=sector,
        risk_rating=rating,
        is_complex=bool(kw.get("is_complex", False)),
        liquidity=str(kw.get("liquidity", "high")),
        price=D(price),
        price_date=DAY,
    )


SECURITIES = {
    s.symbol: s
    for s in (
        sec("BOND", "fixed_income", "Diversified", 2, "100"),
        sec("EQF", "equity", "Diversified", 3, "50"),
        sec("TECH", "equity", "Technology", 4, "200"),
        sec("LEV", "equity", "Diversified", 5, "10", is_complex=True),
        sec("REIT", "real_estate", "Real Estate", 3, "20", liquidity="illiquid"),
        sec("RSTR", "equity", "Industrials", 3, "40"),
    )
}
PROFILE = Profile(
    risk_level="moderate",
    age=50,
    time_horizon="long",
    liquidity_needs="low",
    investment_experience="moderate",
    excluded_symbols=frozenset(),
    excluded_sectors=frozenset({"Energy"}),
    investment_objective="growth",
    annual_income=D(150_000),
    net_worth=D(1_000_000),
    liquid_net_worth=D(500_000),
    tax_status="taxable",
)
FACTS = Facts(
    as_of=DAY,
    profile=PROFILE,
    positions={"BOND": D(40), "EQF": D(60), "TECH": D(5)},
    cash=D("2000.00"),
    securities=SECURITIES,
    recent_trades=2,
    activity=Activity(window_days=365, purchases=D(5000), costs=D(100), average_equity=D(10_000)),
)


def policy(**changes: object) -> policies.Policy:
    doc = policies.default_for(BANDS)
    doc["restricted_symbols"] = ["RSTR"]
    doc.update(changes)
    return policies.parse(doc)


def check(trades: list[Trade], facts: Facts = FACTS, **changes: object) -> dict[str, dict[str, object]]:
    verdict = evaluate(facts, policy(**changes), trades).to_json()
    rules = {r["rule"]: r for r in verdict["rules"]}
    rules["verdict"] = {"outcome": verdict["verdict"]}
    return rules


def buy(symbol: str, quantity: str) -> Trade:
    return Trade("buy", symbol, quantity=D(quantity))


def sell(symbol: str, quantity: str) -> Trade:
    return Trade("sell", symbol, quantity=D(quantity))


def failed(rules: dict[str, dict[str, object]]) -> set[str]:
    return {name for name, r in rules.items() if name != "verdict" and r["outcome"] == "fail"}


def test_a_conservative_client_buying_a_risk_5_product_fails_on_product_risk() -> None:
    facts = replace(FACTS, profile=replace(PROFILE, risk_level="conservative"))
    rules = check([buy("LEV", "10")], facts)  # 100.00 of cash; equity 41%: in band
    assert rules["verdict"]["outcome"] == "fail"
    assert failed(rules) == {"product_risk", "complex_products"}
    assert (rules["product_risk"]["threshold"], rules["product_risk"]["value"]) == (2, 5)
    assert "rated 5" in str(rules["product_risk"]["explanation"])


def test_a_purchase_pushing_one_position_over_the_cap_fails_with_its_post_trade_weight() -> None:
    # sell 24 EQF (1,200) to buy 6 TECH (1,200): equity stays 40%; TECH 11 x 200 = 2,200 / 10,000 = 22%
    rules = check([sell("EQF", "24"), buy("TECH", "6")])
    assert rules["verdict"]["outcome"] == "fail"
    assert failed(rules) == {"single_position_cap"}
    assert (rules["single_position_cap"]["threshold"], rules["single_position_cap"]["value"]) == (
        "0.2000",
        "0.2200",
    )
    assert "22.00%" in str(rules["single_position_cap"]["explanation"])


def test_a_trade_in_a_restricted_symbol_fails() -> None:
    rules = check([buy("RSTR", "5")])  # 200.00: equity 42%, cash 18%
    assert failed(rules) == {"restricted_list"}
    assert rules["restricted_list"]["value"] == ["RSTR"]
    assert rules["verdict"]["outcome"] == "fail"


def test_a_plain_rebalance_into_the_model_passes_and_lists_every_rule_with_values() -> None:
    rules = check([buy("EQF", "10")])  # 500.00: equity 45%, fixed income 40%, cash 15%: the targets
    assert rules["verdict"]["outcome"] == "pass"
    assert len(rules) - 1 == len(RULES) == 23
    assert rules["asset_class_bands"]["value"] == {
        "cash_equivalent": "0.1500",
        "equity": "0.4500",
        "fixed_income": "0.4000",
    }
    assert rules["cash_sufficient"]["value"] == "500.00"
    assert rules["trade_frequency"]["value"] == 3  # 2 recent + this one
    assert all(r["explanation"] for r in rules.values() if "explanation" in r)


def test_an_amount_buys_what_it_pays_for_rounded_down() -> None:
    rules = check([Trade("buy", "EQF", amount=D("520"))])  # 10.4 shares: 520.00
    assert rules["cash_sufficient"]["value"] == "520.00"


def test_selling_more_than_held_and_buying_beyond_cash_fail() -> None:
    assert "holdings_sufficient" in failed(check([sell("TECH", "6")]))
    assert "cash_sufficient" in failed(check([buy("BOND", "21")]))  # 2,100 > 2,000


def test_selling_down_a_concentrated_position_passes_the_cap() -> None:
    facts = replace(FACTS, positions={**FACTS.positions, "TECH": D(20)}, cash=D(-1000))  # TECH 40%
    rules = check([sell("TECH", "5")], facts)
    assert rules["single_position_cap"]["outcome"] == "pass"
    assert rules["single_position_cap"]["value"] == "0.3000"


def test_client_restrictions_complex_and_illiquid_products() -> None:
    energy = {**SECURITIES, "OIL": sec("OIL", "equity", "Energy", 3, "10")}
    assert "client_restrictions" in failed(check([buy("OIL", "1")], replace(FACTS, securities=energy)))
    expert = replace(PROFILE, risk_level="aggressive", investment_experience="extensive")
    assert "complex_products" not in failed(check([buy("LEV", "1")], replace(FACTS, profile=expert)))
    needy = replace(PROFILE, liquidity_needs="high")
    assert "liquidity" in failed(check([buy("REIT", "1")], replace(FACTS, profile=needy)))
    assert check([buy("REIT", "60")])["liquidity"]["outcome"] == "needs_review"  # 1,200 = 12% > 10%


def test_too_many_trades_and_equity_beyond_the_horizon_need_review() -> None:
    busy = replace(FACTS, recent_trades=12)
    assert check([buy("EQF", "10")], busy)["verdict"]["outcome"] == "needs_review"
    short = replace(FACTS, profile=replace(PROFILE, time_horizon="short"))  # limit 35%, equity already 40%
    rules = check([buy("EQF", "10")], short)
    assert rules["equity_for_age_and_horizon"]["outcome"] == "needs_review"
    assert rules["equity_for_age_and_horizon"]["value"] == "0.4500"
    assert check([sell("EQF", "10")], short)["equity_for_age_and_horizon"]["outcome"] == "pass"


def test_moving_a_class_further_out_of_band_fails_and_staying_out_needs_review() -> None:
    assert "asset_class_bands" in failed(check([buy("TECH", "6")]))  # equity 52%: outside, further off
    assert check([buy("TECH", "5")])["asset_class_bands"]["outcome"] == "pass"  # 50%: on the band's edge
    skewed = replace(FACTS, positions={**FACTS.positions, "EQF": D(100)}, cash=D(0))  # equity 60%
    rules = check([sell("EQF", "10")], skewed)  # 55%: still outside, but closer
    assert rules["asset_class_bands"]["outcome"] == "needs_review"


def test_the_policy_hash_ignores_spelling_and_catches_changes() -> None:
    doc = policies.default_for(BANDS)
    respelled = {**doc, "single_position_cap": "0.200"}
    assert policies.content_hash(doc) == policies.content_hash(respelled)
    assert policies.content_hash(doc) != policies.content_hash({**doc, "single_position_cap": "0.25"})


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["buy", "sell"]),
            st.sampled_from(sorted(SECURITIES)),
            st.decimals(min_value=D("0.001"), max_value=D(80), places=3),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["conservative", "moderate", "aggressive"]),
    st.integers(min_value=0, max_value=20),
)
def test_invariants(raw: list[tuple[str, str, Decimal, bool]], risk: str, recent: int) -> None:
    trades = [
        Trade(side, s, quantity=q) if by_qty else Trade(side, s, amount=q * 10) for side, s, q, by_qty in raw
    ]
    facts = replace(FACTS, profile=replace(PROFILE, risk_level=risk), recent_trades=recent)
    verdict = evaluate(facts, policy(), trades)
    assert [r.rule for r in verdict.rules] == [name for name, _since, _rule in RULES]
    assert verdict.verdict == max((r.outcome for r in verdict.rules), key=OUTCOMES.index)
    # replay from the stored snapshot gives the identical verdict
    again = evaluate(
        facts_from_json(facts_to_json(facts)), policy(), trades_from_json(trades_to_json(trades))
    )
    assert again == verdict
    # selling what is held never breaks a purchase rule
    sells = [t for t in trades if t.side == "sell" and t.symbol in facts.positions]
    if sells and all(t.quantity and t.quantity <= facts.positions[t.symbol] for t in sells):
        outcome = {r.rule: r.outcome for r in evaluate(facts, policy(), sells[:1]).rules}
        for rule in ("product_risk", "single_position_cap", "sector_cap", "client_restrictions"):
            assert outcome[rule] == "pass"
