"""No negative cash unless the account allows margin: every posting that would overdraw an account, on any day
from its trade date on, is refused with a 422 naming the field, and nothing is stored. The demo and synthetic
books keep the rule too."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_ledger_posting import admin_principal
from tests.conftest import Keys
from tests.integration.test_synthetic_book import add
from tests.support import execute, fetch, fetchval, with_conn
from wealthgate.ledger import accounts, posting

D = Decimal
IRA = 6  # client 3's IRA: no margin, as every demo account


def post(api: TestClient, keys: Keys, body: dict[str, Any], account: int = IRA) -> Any:
    return api.post(f"/accounts/{account}/transactions", json=body, headers=Keys.auth(keys.admin))


def cash(db_url: str, account: int = IRA) -> Decimal:
    value: Decimal = fetchval(
        db_url, "SELECT cash_balance FROM accounts WHERE firm_id = 1 AND id = $1", account
    )
    return value


def stored(db_url: str) -> tuple[Any, ...]:
    """What a refused posting must leave unchanged."""
    return (
        fetchval(db_url, "SELECT count(*) FROM transactions"),
        fetchval(db_url, "SELECT count(*) FROM audit_events"),
        cash(db_url),
        [
            tuple(r)
            for r in fetch(
                db_url,
                "SELECT symbol, quantity, cost_basis FROM positions WHERE account_id = $1 ORDER BY symbol",
                IRA,
            )
        ],
    )


def refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert field in {e["field"] for e in problem.get("errors", [])}, problem
    assert "margin" in problem["detail"]


def daily_lows(db_url: str) -> dict[int, Decimal]:
    """Per account, the lowest closing cash over its ledger's days (a running sum by trade date)."""
    rows = fetch(
        db_url,
        "SELECT firm_id, account_id, trade_date, sum(amount) AS net FROM transactions"
        " GROUP BY firm_id, account_id, trade_date ORDER BY firm_id, account_id, trade_date",
    )
    running: dict[int, Decimal] = {}
    lows: dict[int, Decimal] = {}
    for r in rows:
        running[r["account_id"]] = running.get(r["account_id"], D(0)) + r["net"]
        lows[r["account_id"]] = min(lows.get(r["account_id"], D(0)), running[r["account_id"]])
    return lows


def test_an_ira_cannot_be_overdrawn_and_nothing_is_stored(api: TestClient, keys: Keys, db_url: str) -> None:
    have = cash(db_url)
    assert have > 0
    before = stored(db_url)
    over = have + D("0.01")
    cases = [
        ({"trade_date": "2018-04-12", "type": "withdrawal", "amount": f"-{over}"}, "amount"),
        ({"trade_date": "2018-04-12", "type": "withdrawal", "amount": "-1000000000000000"}, "amount"),
        ({"trade_date": "2018-04-12", "type": "fee", "amount": f"-{over}"}, "amount"),
        # 1 share more than the cash buys (fees included)
        (
            {
                "trade_date": "2018-04-12",
                "type": "buy",
                "symbol": "SPY",
                "quantity": "1",
                "price": str(have),
                "fees": "0.01",
            },
            "quantity",
        ),
        # back-dated: the account had no cash yet in 2014, though it has enough now
        ({"trade_date": "2014-12-31", "type": "withdrawal", "amount": "-1"}, "amount"),
    ]
    for body, field in cases:
        refused(post(api, keys, body), field)
    assert stored(db_url) == before
    # up to the last cent is fine
    assert (
        post(api, keys, {"trade_date": "2018-04-12", "type": "withdrawal", "amount": f"-{have}"}).status_code
        == 201
    )
    assert cash(db_url) == 0


def test_a_reversal_may_not_overdraw_either(api: TestClient, keys: Keys, db_url: str) -> None:
    deposit = post(api, keys, {"trade_date": "2018-04-12", "type": "deposit", "amount": "1000"})
    assert deposit.status_code == 201, deposit.text
    spent = post(api, keys, {"trade_date": "2018-04-12", "type": "withdrawal", "amount": f"-{cash(db_url)}"})
    assert spent.status_code == 201, spent.text
    before = stored(db_url)
    r = api.post(
        f"/accounts/{IRA}/transactions/{deposit.json()['transaction']['id']}/reverse",
        headers=Keys.auth(keys.admin),
    )
    refused(r, "transaction_id")
    assert stored(db_url) == before


def test_an_account_with_margin_may_borrow(api: TestClient, keys: Keys, db_url: str) -> None:
    execute(db_url, "UPDATE accounts SET allows_margin = true WHERE firm_id = 1 AND id = $1", IRA)
    have = cash(db_url)
    r = post(api, keys, {"trade_date": "2018-04-12", "type": "withdrawal", "amount": f"-{have + 100}"})
    assert r.status_code == 201, r.text
    assert cash(db_url) == -100
    assert D(r.json()["cash"]) == -100
    # margin withdrawn: cash coming in is still welcome, cash going out is not
    execute(db_url, "UPDATE accounts SET allows_margin = false WHERE firm_id = 1 AND id = $1", IRA)
    assert post(api, keys, {"trade_date": "2018-04-13", "type": "deposit", "amount": "10"}).status_code == 201
    assert cash(db_url) == -90
    refused(post(api, keys, {"trade_date": "2018-04-13", "type": "fee", "amount": "-1"}), "amount")


def test_accounts_show_whether_they_allow_margin(api: TestClient, keys: Keys, db_url: str) -> None:
    execute(db_url, "UPDATE accounts SET allows_margin = true WHERE firm_id = 1 AND id = 2")
    for route, key in (("context", "accounts"), ("portfolio", "accounts")):
        body = api.get(f"/clients/1/{route}", headers=Keys.auth(keys.agent)).json()
        flags = {a["id"]: a["allows_margin"] for a in body[key]}
        assert flags == {1: False, 2: True}, route


def test_the_demo_and_synthetic_books_keep_the_rule(db_url: str) -> None:
    add(db_url, 20)
    margin = {r["id"] for r in fetch(db_url, "SELECT id FROM accounts WHERE allows_margin")}
    lows = daily_lows(db_url)
    assert len(lows) > 100
    assert {a: low for a, low in lows.items() if low < 0 and a not in margin} == {}


postings = st.lists(
    st.tuples(
        st.sampled_from(["deposit", "withdrawal", "fee", "buy", "sell"]),
        st.decimals(min_value=D("0.01"), max_value=D("30000"), places=2),
        st.integers(0, 1500),  # days after 2014-06-01: before, during and after the demo ledger
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(postings)
def test_no_sequence_of_postings_overdraws_an_account(db_url: str, keys: Keys, history: list[Any]) -> None:
    """Random postings, back-dated ones included, to an account without margin: whatever is accepted, the
    account's closing cash is never below zero on any day, its cash is its ledger's sum, and a refused posting
    is a rule violation on the field it names and leaves the ledger as it was."""
    admin = admin_principal(keys)

    async def work(conn: asyncpg.Connection) -> None:
        tx = conn.transaction()
        await tx.start()
        try:
            for kind, figure, day in history:
                trade = kind in ("buy", "sell")
                t = posting.NewTransaction(
                    trade_date=date.fromordinal(date(2014, 6, 1).toordinal() + day),
                    type=kind,
                    symbol="WGAGG" if trade else None,
                    quantity=D(1) if trade else None,
                    price=figure if trade else None,
                    fees=D("0.50") if kind == "sell" else D(0),
                    amount=None if trade else (figure if kind == "deposit" else -figure),
                )
                count = await conn.fetchval("SELECT count(*) FROM transactions WHERE account_id = $1", IRA)
                with contextlib.suppress(posting.RuleViolation):
                    async with conn.transaction():
                        account = await accounts.lock(conn, admin, IRA)
                        await posting.post(conn, account, t, actor=admin.actor(), request_id=None)
                    continue
                assert (
                    await conn.fetchval("SELECT count(*) FROM transactions WHERE account_id = $1", IRA)
                    == count
                )
            days = await conn.fetch(
                "SELECT trade_date, sum(amount) AS net FROM transactions"
                " WHERE firm_id = 1 AND account_id = $1 GROUP BY trade_date ORDER BY trade_date",
                IRA,
            )
            running = D(0)
            for d in days:
                running += d["net"]
                assert running >= 0, d["trade_date"]
            assert (
                await conn.fetchval("SELECT cash_balance FROM accounts WHERE firm_id = 1 AND id = $1", IRA)
                == running
            )
        finally:
            await tx.rollback()

    with_conn(db_url, work)
