"""Importing transactions judges each row as a single posting would and writes them together (ledger/bulk.py):
the same refusals (line, field, message) and the same ledger, positions, lots, cash and audit details as
posting the rows one by one through `posting.post`; and the statements it sends do not grow with the rows."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from tests.support import with_conn
from wealthgate.auth.principal import Principal, operator_actor
from wealthgate.errors import DomainError
from wealthgate.ledger import accounts, posting
from wealthgate.ledger.csv_cells import RowError
from wealthgate.ledger.importing import _transaction, import_csv

HEADER = "account_id,trade_date,type,symbol,quantity,price,amount,fees,description,external_id\n"
FIRST_DAY = date(
    2015, 10, 1
)  # the demo ledger runs from 2015-10-29 to 2018-04-02: rows go before, among, after


def random_file(seed: int, rows: int) -> str:
    """Rows meant to hit every rule: overdrafts, short sales, back-dated entries, unknown accounts (another
    firm's too) and securities, external ids repeated with the same and with other content."""
    rnd = random.Random(seed)
    lines: list[str] = []
    for i in range(rows):
        if lines and rnd.random() < 0.08:  # an id seen before: the same row, or other content under it
            again = rnd.choice(lines)
            lines.append(again if rnd.random() < 0.5 else again.replace(",20", ",19", 1))
            continue
        account = rnd.choice([1, 1, 2, 2, 3, 3, 76, 9999])
        day = FIRST_DAY + timedelta(days=rnd.randint(0, 1000))
        kind = rnd.choice(
            ["deposit", "withdrawal", "buy", "buy", "sell", "sell", "transfer", "dividend", "fee"]
        )
        symbol = rnd.choice(["AAPL", "AMD", "GOOG", "BBY", "NOPE"])
        quantity = rnd.choice([1, 5, 40, 300, 2000])
        cash = rnd.choice([10, 500, 5000, 80000])
        row = {
            "deposit": f"{account},{day},deposit,,,,{cash},,in,",
            "withdrawal": f"{account},{day},withdrawal,,,,-{cash},,out,",
            "buy": f"{account},{day},buy,{symbol},{quantity},{rnd.randint(1, 300)}.25,,1.5,,",
            "sell": f"{account},{day},sell,{symbol},{quantity},{rnd.randint(1, 300)},,,,",
            "transfer": f"{account},{day},transfer,{symbol},{rnd.choice([-1, 1]) * quantity},12.5,0,,,",
            "dividend": f"{account},{day},dividend,{symbol},,,{cash},,,",
            "fee": f"{account},{day},fee,,,,-{cash},,,",
        }[kind]
        lines.append(f"{row}bulk-{seed}-{i}")
    return HEADER + "".join(f"{line}\n" for line in lines)


def _terms(conn: asyncpg.Connection) -> Any:
    # one account that may go below zero cash, one that may sell short: both rules' other branch
    return conn.execute(
        "UPDATE accounts SET allows_margin = (id = 2), allows_shorting = (id = 3) WHERE id IN (1, 2, 3)"
    )


class OneByOne:
    """The handlers' posting seam, posting each row at once through `posting.post` (the API's path)."""

    def __init__(self, conn: asyncpg.Connection, principal: Principal, actor: dict[str, Any]) -> None:
        self.conn, self.principal, self.actor = conn, principal, actor

    async def seen(self, external_id: str) -> dict[str, Any] | None:
        row = await self.conn.fetchrow(
            "SELECT account_id, trade_date, type, symbol, quantity, price, amount FROM transactions"
            " WHERE firm_id = 1 AND external_id = $1",
            external_id,
        )
        return None if row is None else dict(row)

    async def post(self, account_id: int, t: posting.NewTransaction) -> bool:
        account = await accounts.lock(self.conn, self.principal, account_id)
        return (await posting.post(self.conn, account, t, actor=self.actor, request_id=None)).created


async def one_by_one(conn: asyncpg.Connection, text: str) -> list[tuple[int, str | None, str]]:
    """The file posted row by row, each in a savepoint; the refusals as import_csv reports them."""
    principal = Principal(
        key_id=0, firm_id=1, advisor_id=None, scopes=frozenset({"admin"}), name="import", owner="t"
    )
    poster = OneByOne(conn, principal, operator_actor(1, "t"))
    errors: list[tuple[int, str | None, str]] = []
    async with conn.transaction():
        for line, raw in enumerate(text.splitlines()[1:], start=2):
            row = dict(zip(HEADER.strip().split(","), raw.split(","), strict=True))
            try:
                async with conn.transaction():
                    try:
                        await _transaction(poster, row)  # type: ignore[arg-type]
                    except DomainError as exc:
                        raise RowError(exc.field, exc.detail) from exc
            except RowError as exc:
                errors.append((line, exc.field, exc.message))
    return errors


STATE = {
    "transactions": "SELECT account_id, trade_date, type, symbol, quantity, price, amount, fees, description,"
    " external_id FROM transactions WHERE external_id LIKE 'bulk-%' ORDER BY id",
    "positions": "SELECT account_id, symbol, quantity, cost_basis FROM positions"
    " WHERE account_id IN (1, 2, 3) ORDER BY 1, 2",
    "lots": "SELECT l.account_id, l.symbol, t.external_id, l.acquired_on, l.quantity, l.open_quantity,"
    " l.unit_cost, l.cost_basis FROM lots l JOIN transactions t ON t.firm_id = l.firm_id"
    " AND t.id = l.opened_by_id WHERE l.account_id IN (1, 2, 3) ORDER BY 1, 2, l.acquired_on, t.id",
    "cash": "SELECT id, cash_balance FROM accounts WHERE id IN (1, 2, 3) ORDER BY id",
    "audit": "SELECT client_id, details - 'id' AS details FROM audit_events"
    " WHERE action = 'transaction.posted' AND details->>'external_id' LIKE 'bulk-%' ORDER BY id",
}


def state(url: str) -> dict[str, list[tuple[Any, ...]]]:
    async def read(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
        return {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in STATE.items()}

    return with_conn(url, read)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_import_refuses_and_stores_what_posting_row_by_row_does(
    seed: int, db_url: str, fresh_database: Callable[[str | None], str], template_db: str
) -> None:
    reference_url = fresh_database(template_db)
    text = random_file(seed, 300)

    async def bulk(conn: asyncpg.Connection) -> list[tuple[int, str | None, str]]:
        await _terms(conn)
        result = await import_csv(
            conn, "transactions", text.splitlines(keepends=True), firm_id=1, operator="t", partial=True
        )
        assert result.committed
        return result.errors

    async def reference(conn: asyncpg.Connection) -> list[tuple[int, str | None, str]]:
        await _terms(conn)
        return await one_by_one(conn, text)

    bulk_errors = with_conn(db_url, bulk)
    reference_errors = with_conn(reference_url, reference)
    assert bulk_errors == reference_errors
    kinds = {message.split(" ")[0] + " " + message.split(" ")[1] for _, _, message in bulk_errors}
    assert len(kinds) >= 4, kinds  # the file did reach several rules
    assert any("overdraw" in m for _, _, m in bulk_errors)
    assert any("sell more" in m for _, _, m in bulk_errors)
    stored, expected = state(db_url), state(reference_url)
    assert len(stored["transactions"]) > 100
    for name in STATE:
        assert stored[name] == expected[name], name


def test_the_statements_sent_do_not_grow_with_the_rows(
    fresh_database: Callable[[str | None], str], template_db: str
) -> None:
    """Batched: importing 400 rows into one account sends as many statements as 100 rows (one round of
    look-ups per account and holding, then a few writes per few thousand rows), not one set per row."""

    def statements(rows: int) -> int:
        lines = [f"1,2018-05-{1 + i % 28:02d},deposit,,,,10,,,cnt-{i}" for i in range(rows // 2)]
        lines += [f"1,2018-05-{1 + i % 28:02d},buy,AAPL,1,2,,,,cnt-b{i}" for i in range(rows - rows // 2)]
        text = HEADER + "\n".join(lines) + "\n"
        sent: list[str] = []

        async def work(conn: asyncpg.Connection) -> None:
            conn.add_query_logger(lambda record: sent.append(record.query))
            result = await import_csv(
                conn, "transactions", text.splitlines(keepends=True), firm_id=1, operator="t", partial=False
            )
            assert result.committed, result.errors
            assert result.added == rows

        with_conn(fresh_database(template_db), work)
        return len(sent)

    assert statements(400) == statements(100)
