"""What must not move when the rules change: verdicts stored by the previous engine replay as stored, policy
documents published before the care settings existed still validate with the same hash, and facts stored
before the new profile fields load. Also the new profile fields through the CSV import of clients."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from tests.unit.test_suitability_care import EXPONENT, UNIVERSE, cases
from wealthgate.clients.importing import client_profile
from wealthgate.errors import Invalid
from wealthgate.ledger.csv_cells import RowError
from wealthgate.suitability import policy as policies
from wealthgate.suitability.engine import ENGINE_VERSION, RULE_SETS, Facts, Profile, Trade, evaluate
from wealthgate.suitability.snapshot import facts_from_json, facts_to_json, trades_from_json

D = Decimal
STORED = json.loads(
    (Path(__file__).parent.parent / "api" / "data" / "recommendations_engine_2026_11_25.json").read_text(
        "utf-8"
    )
)
OLD = "2026-11-25.1"
CASES = ("buy_wmt", "sell_everything", "oversell_exponent")


@pytest.mark.parametrize("name", CASES)
def test_the_previous_engine_reproduces_what_it_stored(name: str) -> None:
    stored = STORED[name]
    snapshot = stored["context_snapshot"]
    assert snapshot["engine_version"] == OLD
    verdict = evaluate(
        facts_from_json(snapshot["facts"]),
        policies.parse(stored["policy"]),
        trades_from_json(stored["trades"]),
        engine_version=snapshot["engine_version"],
    ).to_json()
    assert verdict["rules"] == stored["rules"]
    assert verdict["verdict"] == stored["verdict"]
    assert verdict["as_of"] == stored["data_as_of"]


def test_the_current_engine_judges_the_same_facts_differently() -> None:
    """The reason replay must run the stored version: today's rules disagree with what was stored."""
    stored = STORED["sell_everything"]
    facts = facts_from_json(stored["context_snapshot"]["facts"])
    now = evaluate(facts, policies.parse(stored["policy"]), trades_from_json(stored["trades"]))
    assert (stored["verdict"], now.verdict) == ("fail", "needs_review")
    assert len(now.rules) > len(stored["rules"])


def test_the_previous_engine_keeps_its_defects_for_replay() -> None:
    """Engine 2026-11-25.1 let a 3x index fund escape the cap (sector "Diversified"): replays of its verdicts
    must keep saying so, while the current engine counts the fund's exposure."""
    profile = Profile("aggressive", 40, "long", "low", "extensive", frozenset(), frozenset())
    facts = Facts(date(2018, 4, 11), profile, {}, D(10_000), UNIVERSE, 0)
    policy = policies.parse(policies.DEFAULT)
    buy = [Trade("buy", "L3X", quantity=D(32))]  # 800 of value, 2,400 of exposure in a 10,000 book
    before = {r.rule: r for r in evaluate(facts, policy, buy, engine_version=OLD).rules}
    after = {r.rule: r for r in evaluate(facts, policy, buy).rules}
    assert before["single_position_cap"].outcome == "pass"
    assert after["single_position_cap"].outcome == "fail"


def test_an_unknown_engine_version_is_refused() -> None:
    stored = STORED["buy_wmt"]
    facts = facts_from_json(stored["context_snapshot"]["facts"])
    with pytest.raises(Invalid, match="2099"):
        evaluate(facts, policies.parse(stored["policy"]), [], engine_version="2099-01-01.1")
    assert set(RULE_SETS) == {OLD, ENGINE_VERSION}


def test_a_policy_published_before_the_care_settings_validates_with_its_hash() -> None:
    for name in CASES:
        doc = STORED[name]["policy"]
        assert not set(doc) & set(policies.CARE_SETTINGS)
        assert policies.content_hash(doc) == STORED[name]["policy_hash"]
        policies.parse(doc)


def test_a_document_without_care_settings_gets_the_defaults() -> None:
    """The defaults a document may leave out are those of DEFAULT, and the dataclass's own defaults agree (a
    caller building a Policy by hand gets the same rules)."""
    old = {k: v for k, v in policies.DEFAULT.items() if k not in policies.CARE_SETTINGS}
    parsed_old, parsed_full = policies.parse(old), policies.parse(policies.DEFAULT)
    assert parsed_old == parsed_full
    first_care = [f.name for f in fields(policies.Policy)].index("objective_max_product_risk")
    by_hand = policies.Policy(*(getattr(parsed_full, f.name) for f in fields(policies.Policy)[:first_care]))
    assert by_hand == parsed_full


def _with(setting: str, value: Any) -> dict[str, Any]:
    return {**policies.DEFAULT, setting: value}


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (_with("turnover", {**policies.DEFAULT["turnover"], "fail_turnover": "3"}), "policy.turnover"),
        (
            _with("turnover", {**policies.DEFAULT["turnover"], "window_days": 7}),
            "policy.turnover.window_days",
        ),
        (_with("options_products", {"spy": 2}), "policy.options_products"),
        (_with("options_products", {"SPY": 5}), "policy.options_products.SPY"),
        (_with("margin", {"max_loan_share": "1.5"}), "policy.margin.max_loan_share"),
        (_with("margin", {}), "policy.margin.max_loan_share"),
        (_with("margin", {"max_loan_share": "0.5", "extra": 1}), "policy.margin.extra"),
        (
            _with(
                "investment_objective", {**policies.DEFAULT["investment_objective"], "max_product_risk": {}}
            ),
            "policy.investment_objective.max_product_risk.capital_preservation",
        ),
        (
            _with("concentration", {**policies.DEFAULT["concentration"], "include_held_away_assets": "yes"}),
            "policy.concentration.include_held_away_assets",
        ),
        (
            _with("accredited_investor", {**policies.DEFAULT["accredited_investor"], "min_net_worth": "-1"}),
            "policy.accredited_investor.min_net_worth",
        ),
        (
            _with(
                "accredited_investor", {**policies.DEFAULT["accredited_investor"], "min_net_worth": "1E+6"}
            ),
            "policy.accredited_investor.min_net_worth",
        ),
    ],
)
def test_a_bad_care_setting_is_refused_naming_it(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        policies.parse(doc)
    assert caught.value.field == field


@given(cases())
def test_facts_round_trip_through_json_with_the_care_fields(case: tuple[Facts, list[Trade]]) -> None:
    facts, _trades = case
    doc = facts_to_json(facts)
    assert facts_from_json(json.loads(json.dumps(doc))) == facts
    assert not EXPONENT.search(json.dumps(doc))  # plain decimals only


def test_facts_stored_before_the_care_fields_load_with_defaults() -> None:
    facts = facts_from_json(STORED["buy_wmt"]["context_snapshot"]["facts"])
    assert facts.profile.investment_objective is None
    assert facts.profile.net_worth is None
    assert (facts.profile.held_away_assets, facts.profile.options_level, facts.profile.margin_approved) == (
        0,
        0,
        False,
    )
    assert facts.activity is None
    assert facts.margin_account is False
    assert all(s.leverage == 1 for s in facts.securities.values())
    assert replace(facts, activity=None) == facts


ROW = {
    "name": "Test Client",
    "date_of_birth": "1950-05-01",
    "risk_tolerance": "moderate",
    "investment_objective": "income",
    "time_horizon": "short",
    "liquidity_needs": "low",
    "annual_income": "90000",
    "net_worth": "800000",
    "liquid_net_worth": "300000",
    "tax_status": "taxable",
    "investment_experience": "moderate",
}


def test_the_client_import_reads_the_care_fields_as_optional_columns() -> None:
    plain = client_profile(ROW)
    assert (plain["held_away_assets"], plain["options_level"], plain["margin_approved"]) == (0, 0, False)
    given_ = client_profile(
        {**ROW, "held_away_assets": "125000.50", "options_level": "3", "margin_approved": "yes"}
    )
    assert (given_["held_away_assets"], given_["options_level"], given_["margin_approved"]) == (
        D("125000.50"),
        3,
        True,
    )
    for column, bad in (("options_level", "5"), ("options_level", "two"), ("held_away_assets", "-1")):
        with pytest.raises(RowError) as caught:
            client_profile({**ROW, column: bad})
        assert caught.value.field == column
