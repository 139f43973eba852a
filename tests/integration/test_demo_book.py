"""The demo book is realistic, deterministic, and its positions, lots and cash are its ledger replayed."""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from typing import Any

from tests.support import fetch, fetchval
from wealthgate.demo.book import build
from wealthgate.ledger.lots import lot_values
from wealthgate.ledger.replay import Entry, replay
from wealthgate.vocabulary import RISK_LEVELS

# Independent of the Python replay: PostgreSQL sums the ledger itself.
LEDGER_VS_POSITIONS = """
WITH ledger AS (
    SELECT firm_id, account_id, symbol,
           sum(CASE type WHEN 'buy' THEN quantity WHEN 'sell' THEN -quantity
                         WHEN 'transfer' THEN quantity ELSE 0 END) AS quantity
    FROM transactions WHERE symbol IS NOT NULL GROUP BY 1, 2, 3
)
SELECT coalesce(l.account_id, p.account_id) AS account_id, coalesce(l.symbol, p.symbol) AS symbol,
       l.quantity AS ledger, p.quantity AS position
FROM (SELECT * FROM ledger WHERE quantity <> 0) l
FULL JOIN positions p USING (firm_id, account_id, symbol)
WHERE l.quantity IS DISTINCT FROM p.quantity
"""
# Independent of the Python replay too: open lots add up to the position, and none is left of a closed one.
LOTS_VS_POSITIONS = """
SELECT coalesce(l.account_id, p.account_id) AS account_id, coalesce(l.symbol, p.symbol) AS symbol,
       l.quantity AS lots, p.quantity AS position
FROM (SELECT firm_id, account_id, symbol, sum(open_quantity) AS quantity FROM lots GROUP BY 1, 2, 3) l
FULL JOIN (SELECT * FROM positions WHERE quantity > 0) p USING (firm_id, account_id, symbol)
WHERE l.quantity IS DISTINCT FROM p.quantity
"""
CASH_VS_LEDGER = """
SELECT a.id, a.cash_balance, coalesce(sum(t.amount), 0) AS ledger
FROM accounts a LEFT JOIN transactions t ON t.firm_id = a.firm_id AND t.account_id = a.id
GROUP BY a.id, a.cash_balance HAVING a.cash_balance <> coalesce(sum(t.amount), 0)
"""


def stored_lots(db_url: str, where: str = "true", *args: Any) -> dict[tuple[int, int, str], list[Any]]:
    """The `lots` table per (firm, account, symbol): (client, opened by, acquired, quantities, costs)."""
    rows = fetch(
        db_url,
        "SELECT firm_id, client_id, account_id, symbol, opened_by_id, acquired_on, quantity, open_quantity,"  # noqa: S608  (where: a constant filter written in the calling test)
        f" unit_cost, cost_basis FROM lots WHERE {where} ORDER BY firm_id, account_id, symbol, acquired_on,"
        " opened_by_id",
        *args,
    )
    return {
        key: [(r["client_id"], *tuple(r)[4:]) for r in group]
        for key, group in groupby(rows, key=lambda r: (r["firm_id"], r["account_id"], r["symbol"]))
    }


def replayed_lots(db_url: str, where: str = "true", *args: Any) -> dict[tuple[int, int, str], list[Any]]:
    """What the `lots` table should hold: each (account, symbol) slice of the ledger replayed."""
    rows = fetch(
        db_url,
        f"SELECT * FROM transactions WHERE symbol IS NOT NULL AND {where}"  # noqa: S608  (where: a constant filter written in the calling test)
        " ORDER BY firm_id, account_id, symbol, trade_date, id",
        *args,
    )
    out = {}
    for (firm, account, symbol), group in groupby(
        rows, key=lambda r: (r["firm_id"], r["account_id"], r["symbol"])
    ):
        slice_ = list(group)
        holding = replay(Entry.from_row(r) for r in slice_).holdings.get((account, symbol))
        if values := lot_values(holding):
            out[(firm, account, symbol)] = [(slice_[0]["client_id"], *v) for v in values]
    return out


def test_positions_equal_the_transaction_history(db_url: str) -> None:
    assert fetchval(db_url, "SELECT count(*) FROM positions") > 500
    assert fetch(db_url, LEDGER_VS_POSITIONS) == []
    assert fetch(db_url, CASH_VS_LEDGER) == []


def test_lots_equal_the_transaction_history(db_url: str) -> None:
    assert fetchval(db_url, "SELECT count(*) FROM lots") > fetchval(db_url, "SELECT count(*) FROM positions")
    assert fetch(db_url, LOTS_VS_POSITIONS) == []
    assert stored_lots(db_url) == replayed_lots(db_url)


def test_the_comparison_can_fail(db_url: str) -> None:
    fetch(db_url, "UPDATE positions SET quantity = quantity + 1 WHERE id = 1")
    fetch(db_url, "UPDATE accounts SET cash_balance = cash_balance + 0.01 WHERE id = 3")
    assert len(fetch(db_url, LEDGER_VS_POSITIONS)) == 1
    assert len(fetch(db_url, CASH_VS_LEDGER)) == 1
    assert len(fetch(db_url, LOTS_VS_POSITIONS)) == 1
    fetch(db_url, "UPDATE lots SET cost_basis = cost_basis + 0.0001 WHERE id = (SELECT max(id) FROM lots)")
    assert stored_lots(db_url) != replayed_lots(db_url)


def test_no_account_ever_went_below_zero_cash_or_oversold(db_url: str) -> None:
    running = fetch(
        db_url,
        """
        SELECT min(cash) AS low FROM (
            SELECT sum(amount) OVER (PARTITION BY account_id ORDER BY trade_date, id) AS cash
            FROM transactions) x""",
    )
    assert running[0]["low"] >= 0
    oversold = fetch(
        db_url,
        """
        SELECT min(q) AS low FROM (
            SELECT sum(CASE type WHEN 'buy' THEN quantity ELSE -quantity END)
                   OVER (PARTITION BY account_id, symbol ORDER BY trade_date, id) AS q
            FROM transactions WHERE type IN ('buy', 'sell')) x""",
    )
    assert oversold[0]["low"] >= 0


def test_shape_of_the_book(db_url: str) -> None:
    assert fetchval(db_url, "SELECT count(*) FROM firms") == 2
    assert fetchval(db_url, "SELECT count(*) FROM advisors") == 3
    assert fetchval(db_url, "SELECT count(*) FROM clients") == 50
    alice = fetch(db_url, "SELECT * FROM clients WHERE id = 1")[0]
    assert (alice["name"], alice["risk_tolerance"], alice["firm_id"]) == ("Alice Chen", "moderate", 1)
    for firm in (1, 2):
        levels = {
            r["risk_tolerance"]
            for r in fetch(db_url, "SELECT risk_tolerance FROM clients WHERE firm_id=$1", firm)
        }
        assert levels == set(RISK_LEVELS)
    per_client = fetch(db_url, "SELECT client_id, count(*) AS n FROM accounts GROUP BY client_id")
    assert len(per_client) == 50
    assert all(1 <= r["n"] <= 3 for r in per_client)
    assert fetchval(db_url, "SELECT count(DISTINCT symbol) FROM prices") == 29
    assert fetchval(db_url, "SELECT count(*) FROM model_portfolios") == 10
    sums = fetch(
        db_url, "SELECT sum(target_weight) AS s FROM model_portfolio_weights GROUP BY model_portfolio_id"
    )
    assert all(r["s"] == 1 for r in sums)


def test_the_book_is_deterministic() -> None:
    a, b = build(), build()
    assert a == b
    assert Counter(t.type for t in a.transactions)["buy"] > 500
