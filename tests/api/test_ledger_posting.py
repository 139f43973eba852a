"""Posting to the ledger: validated, applied to positions and cash in one transaction, never edited."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import asyncpg
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Keys
from tests.support import fetch, fetchval, with_conn
from wealthgate.auth.principal import Principal
from wealthgate.ledger import accounts, posting
from wealthgate.ledger.lots import lot_values
from wealthgate.ledger.replay import Entry, replay

D = Decimal


def admin_principal(keys: Keys) -> Principal:
    key_id = int(keys.admin.split("_")[2])
    return Principal(
        key_id=key_id, firm_id=1, advisor_id=None, scopes=frozenset({"admin"}), name="admin", owner="admin"
    )


def post(api: TestClient, keys: Keys, body: dict[str, Any], account: int = 1) -> Any:
    return api.post(f"/accounts/{account}/transactions", json=body, headers=Keys.auth(keys.admin))


def state(db_url: str, account: int = 1, symbol: str = "AAPL") -> tuple[Any, Any, int]:
    qty = fetchval(
        db_url,
        "SELECT quantity FROM positions WHERE firm_id = 1 AND account_id = $1 AND symbol = $2",
        account,
        symbol,
    )
    cash = fetchval(db_url, "SELECT cash_balance FROM accounts WHERE firm_id = 1 AND id = $1", account)
    return qty, cash, fetchval(db_url, "SELECT count(*) FROM transactions")


def test_a_buy_updates_position_cash_and_audit_together(api: TestClient, keys: Keys, db_url: str) -> None:
    qty, cash, _ = state(db_url)
    r = post(
        api,
        keys,
        {
            "trade_date": "2018-04-12",
            "type": "buy",
            "symbol": "AAPL",
            "quantity": "10",
            "price": "172.44",
            "fees": "4.95",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["transaction"]["amount"] == "-1729.3500"  # -(10 x 172.44 + 4.95)
    new_qty, new_cash, _ = state(db_url)
    assert new_qty == qty + 10
    assert new_cash == cash - D("1729.35")
    assert new_qty == new_qty.to_integral_value()  # whole shares: the position is written as an integer is
    assert body["position"]["quantity"] == str(int(new_qty))  # "1020", never "1.02E+3"
    event = fetch(db_url, "SELECT * FROM audit_events WHERE action = 'transaction.posted'")[0]
    assert event["target_id"] == str(body["transaction"]["id"])
    assert event["client_id"] == 1


def test_inconsistent_or_impossible_postings_store_nothing(api: TestClient, keys: Keys, db_url: str) -> None:
    before = state(db_url)
    cases = [
        (
            {
                "trade_date": "2018-04-12",
                "type": "buy",
                "symbol": "AAPL",
                "quantity": "10",
                "price": "10",
                "amount": "-99",
            },
            422,
            "amount",
        ),
        (
            {
                "trade_date": "2018-04-12",
                "type": "sell",
                "symbol": "AAPL",
                "quantity": "100000",
                "price": "1",
            },
            422,
            "quantity",
        ),
        (
            {"trade_date": "2015-01-05", "type": "sell", "symbol": "AAPL", "quantity": "1", "price": "1"},
            422,
            "quantity",
        ),  # back-dated: before the account held any
        (
            {"trade_date": "2018-04-12", "type": "buy", "symbol": "NOPE", "quantity": "1", "price": "1"},
            422,
            "symbol",
        ),
        (
            {"trade_date": "2018-04-12", "type": "buy", "symbol": "AAPL", "quantity": 1.5, "price": "1"},
            422,
            "quantity",
        ),
        (
            {"trade_date": "2018-04-12", "type": "buy", "symbol": "AAPL", "quantity": "NaN", "price": "1"},
            422,
            "quantity",
        ),
        ({"trade_date": "2018-04-12", "type": "withdrawal", "amount": "100"}, 422, "amount"),
        ({"trade_date": "2018-04-12", "type": "deposit"}, 422, "amount"),
        ({"trade_date": "2018-04-12", "type": "buy", "quantity": "1", "price": "1"}, 422, "symbol"),
        ({"trade_date": "2018-04-12", "type": "deposit", "amount": "5", "extra": 1}, 422, "extra"),
    ]
    for body, status, field in cases:
        r = post(api, keys, body)
        assert r.status_code == status, (body, r.text)
        problem = r.json()
        assert field in {e["field"] for e in problem.get("errors", [])}, (body, problem)
    assert state(db_url) == before


def test_an_external_id_posts_once(api: TestClient, keys: Keys, db_url: str) -> None:
    body = {"trade_date": "2018-04-12", "type": "deposit", "amount": "500", "external_id": "feed-1"}
    first = post(api, keys, body)
    again = post(api, keys, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["transaction"]["id"] == first.json()["transaction"]["id"]
    assert fetchval(db_url, "SELECT count(*) FROM transactions WHERE external_id = 'feed-1'") == 1
    clash = post(api, keys, {**body, "amount": "501"})
    assert clash.status_code == 409


def test_a_reversal_cancels_exactly_and_only_once(api: TestClient, keys: Keys, db_url: str) -> None:
    before_qty, before_cash, _ = state(db_url)
    bought = post(
        api,
        keys,
        {"trade_date": "2018-04-12", "type": "buy", "symbol": "AAPL", "quantity": "3", "price": "170"},
    ).json()["transaction"]
    path = f"/accounts/1/transactions/{bought['id']}/reverse"
    r = api.post(path, json={"description": "entered twice"}, headers=Keys.auth(keys.admin))
    assert r.status_code == 201, r.text
    reversal = r.json()["transaction"]
    assert reversal["reverses_id"] == bought["id"]
    assert D(reversal["amount"]) == -D(bought["amount"])
    assert state(db_url)[:2] == (before_qty, before_cash)
    assert api.post(path, headers=Keys.auth(keys.admin)).status_code == 409
    assert (
        api.post(
            f"/accounts/1/transactions/{reversal['id']}/reverse", headers=Keys.auth(keys.admin)
        ).status_code
        == 409
    )
    assert fetchval(db_url, "SELECT amount FROM transactions WHERE id = $1", bought["id"]) == D(
        bought["amount"]
    )


def test_a_reversed_sale_counts_nowhere(api: TestClient, keys: Keys, db_url: str) -> None:
    """Buy 10 JPM, buy 10 more, sell 15; reverse the sale: the first buy can then be reversed, as the sale
    no longer needs it, though the reversal sorts before the sale (its trade date is the buy's)."""
    ids = []
    for day, kind in (("2018-04-02", "buy"), ("2018-04-03", "buy"), ("2018-04-04", "sell")):
        body = {
            "trade_date": day,
            "type": kind,
            "symbol": "JPM",
            "quantity": "15" if kind == "sell" else "10",
        }
        r = post(api, keys, {**body, "price": "100"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["transaction"]["id"])
    reverse = lambda tid: api.post(f"/accounts/1/transactions/{tid}/reverse", headers=Keys.auth(keys.admin))  # noqa: E731
    assert reverse(ids[0]).status_code == 422  # the sale still needs it
    assert reverse(ids[2]).status_code == 201
    assert reverse(ids[0]).status_code == 201
    assert state(db_url, symbol="JPM")[0] == 10
    lots = fetch(
        db_url, "SELECT opened_by_id, open_quantity FROM lots WHERE account_id = 1 AND symbol = 'JPM'"
    )
    assert [tuple(r) for r in lots] == [(ids[1], 10)]


def test_scoping_and_scopes(api: TestClient, keys: Keys, db_url: str) -> None:
    body = {"trade_date": "2018-04-12", "type": "deposit", "amount": "5"}
    other_firms_account = fetchval(db_url, "SELECT min(id) FROM accounts WHERE firm_id = 2")
    assert post(api, keys, body, account=other_firms_account).status_code == 404
    assert post(api, keys, body, account=999_999).status_code == 404
    assert api.post("/accounts/1/transactions", json=body, headers=Keys.auth(keys.agent)).status_code == 403
    assert api.post("/accounts/1/transactions", json=body).status_code == 401
    assert (
        api.post("/accounts/1/transactions/999999/reverse", headers=Keys.auth(keys.admin)).status_code == 404
    )


trades = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell", "deposit", "fee"]),
        st.sampled_from(["AAPL", "SPY", "WGAGG"]),
        st.decimals(min_value=D("0.001"), max_value=D("50"), places=3),
        st.decimals(min_value=D("0.01"), max_value=D("500"), places=2),
        st.integers(0, 30),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trades)
def test_positions_and_cash_equal_the_ledger_replayed(db_url: str, keys: Keys, history: list[Any]) -> None:
    """Random postings (refused ones included) through the service; the maintained positions and cash then
    equal an independent replay of the account's ledger, to the last decimal place."""

    admin = admin_principal(keys)

    async def work(conn: asyncpg.Connection) -> None:
        tx = conn.transaction()
        await tx.start()
        try:
            for kind, symbol, qty, price, day in history:
                t = posting.NewTransaction(
                    trade_date=__import__("datetime").date(2018, 5, 1 + day),
                    type=kind,
                    symbol=symbol if kind in ("buy", "sell") else None,
                    quantity=qty if kind in ("buy", "sell") else None,
                    price=price if kind in ("buy", "sell") else None,
                    amount=None if kind in ("buy", "sell") else (price if kind == "deposit" else -price),
                )
                with contextlib.suppress(posting.Invalid, posting.RuleViolation):
                    async with conn.transaction():  # a savepoint: a refused posting leaves nothing behind
                        account = await accounts.lock(conn, admin, 3)
                        await posting.post(conn, account, t, actor=admin.actor(), request_id=None)
            rows = await conn.fetch(
                "SELECT * FROM transactions WHERE firm_id = 1 AND account_id = 3 ORDER BY trade_date, id"
            )
            book = replay(Entry.from_row(r) for r in rows)
            positions = {
                r["symbol"]: (r["quantity"], r["cost_basis"])
                for r in await conn.fetch(
                    "SELECT symbol, quantity, cost_basis FROM positions WHERE firm_id = 1 AND account_id = 3"
                )
            }
            assert positions == {s: (h.quantity, h.cost_basis) for (_, s), h in book.open_holdings().items()}
            lots: dict[str, list[Any]] = {}
            for r in await conn.fetch(
                "SELECT symbol, opened_by_id, acquired_on, quantity, open_quantity, unit_cost, cost_basis"
                " FROM lots WHERE firm_id = 1 AND account_id = 3 ORDER BY symbol, acquired_on, opened_by_id"
            ):
                lots.setdefault(r["symbol"], []).append(tuple(r)[1:])
            assert lots == {s: lot_values(h) for (_, s), h in book.holdings.items() if h.lots}
            cash = await conn.fetchval("SELECT cash_balance FROM accounts WHERE firm_id = 1 AND id = 3")
            assert cash == book.cash[3]
        finally:
            await tx.rollback()

    with_conn(db_url, work)
