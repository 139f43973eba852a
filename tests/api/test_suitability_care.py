"""Reg BI's care obligation through the API on the demo book: a liquidation goes to a person, a leveraged fund
is refused to an old short-horizon client, a 3x fund counts three times toward the caps, the turnover figures
are those of the ledger, and a recommendation stored by the previous engine still replays identically."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.factories import Factory, Key
from tests.support import execute, fetch, fetchval
from wealthgate.ledger.replay import Entry, replay

D = Decimal
OLD_RECOMMENDATIONS = Path(__file__).parent / "data" / "recommendations_engine_2026_11_25.json"


def agent_headers(key: Keys | Key) -> dict[str, str]:
    """The agent's headers: the `keys` fixture's agent key (demo firm 1), or a factory-made key."""
    return Keys.auth(key.agent) if isinstance(key, Keys) else key.headers


def propose(api: TestClient, key: Keys | Key, client_id: int, trades: list[dict[str, str]]) -> dict[str, Any]:
    body = {"client_id": client_id, "trades": trades, "rationale": "care", "agent": {"name": "test-agent"}}
    headers = {**agent_headers(key), "Idempotency-Key": str(uuid.uuid4())}
    r = api.post("/recommendations", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def check(api: TestClient, key: Keys | Key, client_id: int, trades: list[dict[str, str]]) -> dict[str, Any]:
    r = api.post(
        f"/clients/{client_id}/suitability-check", json={"trades": trades}, headers=agent_headers(key)
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def by_rule(verdict: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in verdict["rules"]}


def holdings(db_url: str, client_id: int) -> list[dict[str, str]]:
    rows = fetch(
        db_url,
        "SELECT symbol, sum(quantity) AS q FROM positions WHERE client_id = $1"
        " GROUP BY symbol HAVING sum(quantity) <> 0 ORDER BY symbol",
        client_id,
    )
    return [{"side": "sell", "symbol": r["symbol"], "quantity": format(r["q"], "f")} for r in rows]


def test_a_request_to_sell_everything_goes_to_a_person_not_to_fail(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    trades = holdings(db_url, 1)
    assert len(trades) > 5  # Alice holds stocks, funds, a REIT and a money market fund
    rec = propose(api, keys, 1, trades)
    rules = by_rule(rec["verdict"])
    assert rec["status"] == "needs_review", [(r["rule"], r["outcome"]) for r in rec["verdict"]["rules"]]
    assert [r for r in rules.values() if r["outcome"] == "fail"] == []
    assert rules["liquidation"]["outcome"] == "needs_review"
    assert rules["asset_class_bands"]["outcome"] == "needs_review"
    # a partial sale that moves classes further out of band is still a fail: only selling everything is spared
    partial = check(api, keys, 1, [t for t in trades if t["symbol"] in ("AAPL", "AMD", "SPY")])
    assert by_rule(partial)["liquidation"]["outcome"] == "pass"
    assert by_rule(partial)["asset_class_bands"]["outcome"] == "fail"


def test_a_leveraged_etf_for_a_70_year_old_short_horizon_conservative_client_fails(
    api: TestClient, factory: Factory, db_url: str
) -> None:
    # 70 years and a day (the 28th for a 29 February): 70 whichever date the database's clock calls today
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    born = yesterday.replace(
        year=yesterday.year - 70, day=min(yesterday.day, 28 if yesterday.month == 2 else 31)
    )
    profile = {"risk_tolerance": "conservative", "investment_objective": "capital_preservation"}
    client = factory.client(date_of_birth=born, time_horizon="short", **profile)
    factory.account(client, cash="10000")
    agent = factory.key(client.firm_id)
    client_id = client.id
    assert fetchval(db_url, "SELECT leverage FROM securities WHERE symbol = 'WGLEV'") == 2  # flagged
    rec = propose(api, agent, client_id, [{"side": "buy", "symbol": "WGLEV", "quantity": "1"}])
    assert rec["status"] == "blocked"
    rules = by_rule(rec["verdict"])
    gate = rules["complex_for_age_and_horizon"]
    assert gate["outcome"] == "fail"
    assert gate["value"] == {"age": 70, "time_horizon": "short", "products": ["WGLEV"]}
    for word in ("WGLEV", "70", "short"):
        assert word in gate["explanation"], gate["explanation"]
    warning = rules["leveraged_holding_period"]
    assert warning["outcome"] == "needs_review"
    assert "daily" in warning["explanation"]
    assert rules["investment_objective"]["outcome"] == "fail"  # a conservative objective, a speculative fund


def _fund(db_url: str, symbol: str, leverage: int) -> None:
    execute(
        db_url,
        "INSERT INTO securities"
        " (symbol, name, asset_class, sector, region, risk_rating, is_complex, leverage)"
        " VALUES ($1, $1 || ' test fund', 'equity', 'Diversified', 'North America', 3, $2, $3)",
        symbol,
        leverage != 1,
        leverage,
    )
    execute(db_url, "INSERT INTO prices (symbol, price_date, close) VALUES ($1, '2018-04-11', 10)", symbol)


def test_a_3x_fund_counts_its_exposure_toward_the_single_position_cap(
    api: TestClient, factory: Factory, db_url: str
) -> None:
    _fund(db_url, "TRIPLE", 3)
    _fund(db_url, "SINGLE", 1)
    account = factory.account(cash="100000")
    for symbol, quantity, cost in (
        ("SPY", "150", "37500"),
        ("WGAGG", "300", "30000"),
        ("AAPL", "100", "16000"),
    ):
        factory.position(account, symbol, quantity, cost_basis=cost)
    agent, client = factory.key(account.firm_id), account.client_id
    context = api.get(f"/clients/{client}/context", headers=agent.headers).json()
    total = D(context["totals"]["total_value"])
    quantity = (total * D("0.08") / 10).quantize(D(1), rounding=ROUND_DOWN)  # about 8% of the book at 10.00
    trade = {"side": "buy", "quantity": str(quantity)}
    tripled = by_rule(check(api, agent, client, [{**trade, "symbol": "TRIPLE"}]))["single_position_cap"]
    plain = by_rule(check(api, agent, client, [{**trade, "symbol": "SINGLE"}]))["single_position_cap"]
    # three times the fund's market value, over the book's total value (which a purchase does not change)
    exposure = 3 * quantity * 10 / total
    assert D("0.23") < exposure < D("0.25")
    assert tripled["outcome"] == "fail"
    assert abs(D(tripled["value"]) - exposure) <= D("0.00005")
    assert "TRIPLE" in tripled["explanation"]
    assert "3x" in tripled["explanation"]
    # the same money in an ordinary index fund is a diversified fund: exempt, as before
    assert plain["outcome"] == "pass"
    assert "SINGLE" not in plain["explanation"]


def _equity_on(db_url: str, client_id: int, day: date) -> D:
    """The client's value on `day`: the ledger replayed to that day, each holding at its latest close."""
    rows = fetch(
        db_url,
        "SELECT * FROM transactions WHERE client_id = $1 AND trade_date <= $2 ORDER BY trade_date, id",
        client_id,
        day,
    )
    book = replay(Entry.from_row(r) for r in rows)
    value = sum(book.cash.values(), D(0))
    for (_account, symbol), holding in book.open_holdings().items():
        close = fetchval(
            db_url,
            "SELECT close FROM prices WHERE symbol = $1 AND price_date <= $2"
            " ORDER BY price_date DESC LIMIT 1",
            symbol,
            day,
        )
        value += holding.quantity * close
    return value


def test_turnover_and_cost_to_equity_are_the_ledgers_over_the_trailing_year(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    # a purchase posted in error and reversed counts nowhere: neither it nor its reversal is trading
    admin = Keys.auth(keys.admin)
    wrong = {"trade_date": "2018-04-10", "type": "buy", "symbol": "WGAGG", "quantity": "100", "price": "100"}
    posted = api.post("/accounts/1/transactions", json={**wrong, "fees": "25"}, headers=admin)
    assert posted.status_code == 201, posted.text
    tid = posted.json()["transaction"]["id"]
    assert api.post(f"/accounts/1/transactions/{tid}/reverse", headers=admin).status_code == 201
    as_of = date(2018, 4, 11)
    start = as_of - timedelta(days=365)
    rows = fetch(
        db_url,
        "SELECT * FROM transactions t WHERE client_id = 1 AND trade_date > $1 AND reverses_id IS NULL"
        " AND id NOT IN (SELECT reverses_id FROM transactions WHERE reverses_id IS NOT NULL)",
        start,
    )
    assert tid not in {r["id"] for r in rows}
    purchases = sum((r["quantity"] * r["price"] for r in rows if r["type"] == "buy"), D(0))
    costs = sum((r["fees"] for r in rows), D(0)) + sum(
        (-r["amount"] for r in rows if r["type"] == "fee"), D(0)
    )
    assert costs > 0
    # equity every 30 days back from the data date, 13 points for a year
    points = [_equity_on(db_url, 1, as_of - timedelta(days=k)) for k in range(0, 365, 30)]
    average = sum(points, D(0)) / len(points)
    buy = {"side": "buy", "symbol": "WGAGG", "quantity": "10"}
    bought = 10 * D(fetchval(db_url, "SELECT last_price FROM securities WHERE symbol = 'WGAGG'"))
    rule = by_rule(check(api, keys, 1, [buy]))["turnover_and_cost"]
    assert abs(D(rule["value"]["turnover"]) - (purchases + bought) / average) <= D("0.0001")
    assert abs(D(rule["value"]["cost_equity"]) - costs / average) <= D("0.0001")
    assert rule["outcome"] == "pass"  # Alice trades little: a yearly trim and the advisory fee


def test_a_recommendation_stored_by_the_previous_engine_replays_identically(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    stored = json.loads(OLD_RECOMMENDATIONS.read_text(encoding="utf-8"))
    key_id = fetchval(db_url, "SELECT id FROM api_keys WHERE firm_id = 1 AND name = 'agent'")
    for name in ("buy_wmt", "sell_everything", "oversell_exponent"):
        old = stored[name]
        policy_id = fetchval(
            db_url,
            "INSERT INTO policy_versions (firm_id, version, content, content_hash, created_by)"
            " SELECT 1, max(version) + 1, $1::text::jsonb, $2, 'fixture'"
            " FROM policy_versions WHERE firm_id = 1 RETURNING id",
            json.dumps(old["policy"]),
            old["policy_hash"],
        )
        rec_id = fetchval(
            db_url,
            "INSERT INTO recommendations (firm_id, client_id, status, trades, rationale, agent_name,"
            " agent_model, verdict, rules, policy_version_id, policy_hash, context_snapshot, context_digest,"
            " data_as_of, proposed_by_key_id, expires_at)"
            " VALUES (1, 1, $1, $2::text::jsonb, $3, $4, $5, $6, $7::text::jsonb, $8, $9, $10::text::jsonb,"
            " $11, $12, $13, now() + interval '1 day') RETURNING id",
            old["status"],
            json.dumps(old["trades"]),
            old["rationale"],
            old["agent_name"],
            old["agent_model"],
            old["verdict"],
            json.dumps(old["rules"]),
            policy_id,
            old["policy_hash"],
            json.dumps(old["context_snapshot"]),
            old["context_digest"],
            date.fromisoformat(old["data_as_of"]),
            key_id,
        )
        r = api.get(f"/recommendations/{rec_id}/replay", headers=Keys.auth(keys.compliance)).json()
        assert r["matches"] is True, name
        assert r["policy_hash_matches"] is True, name
        assert r["context_digest_matches"] is True, name
        assert r["recomputed"]["rules"] == old["rules"], name
        assert r["engine_version"]["at_decision"] == "2026-11-25.1" != r["engine_version"]["now"]
    # what the old engine printed is replayed as printed, exponent and all; a new check prints plain figures
    oversold = stored["oversell_exponent"]["rules"][0]
    assert oversold["explanation"] == "The client holds 4047 WGAGG and the trades sell 1E+4."
    fresh = by_rule(check(api, keys, 1, stored["oversell_exponent"]["trades"]))["holdings_sufficient"]
    assert fresh["explanation"] == "The client holds 4047 WGAGG and the trades sell 10000."
    # and the same liquidation, judged today, goes to a person where the old engine blocked it
    assert stored["sell_everything"]["verdict"] == "fail"
    assert check(api, keys, 1, stored["sell_everything"]["trades"])["verdict"] == "needs_review"


def test_the_profile_shows_held_away_assets_and_approvals(api: TestClient, factory: Factory) -> None:
    built = factory.client(held_away_assets="250000.5", options_level=2, margin_approved=True)
    agent = factory.key(built.firm_id)
    client = api.get(f"/clients/{built.id}/context", headers=agent.headers).json()["client"]
    assert isinstance(client["held_away_assets"], str)
    assert D(client["held_away_assets"]) == D("250000.5")
    assert (client["options_level"], client["margin_approved"]) == (2, True)
