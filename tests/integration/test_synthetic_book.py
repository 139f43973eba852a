"""`demo-data`'s generator: the size asked for, its ledger consistent, and a re-run adds nothing."""

from __future__ import annotations

import asyncpg

from tests.integration.test_demo_book import (
    CASH_VS_LEDGER,
    LEDGER_VS_POSITIONS,
    LOTS_VS_POSITIONS,
    replayed_lots,
    stored_lots,
)
from tests.support import fetch, fetchval, with_conn
from wealthgate.demo.synthetic import SyntheticResult, add_synthetic_book


def add(url: str, clients: int) -> SyntheticResult:
    async def work(conn: asyncpg.Connection) -> SyntheticResult:
        return await add_synthetic_book(
            conn, firm_id=2, clients=clients, positions_per_client=6, transactions_per_client=9
        )

    return with_conn(url, work)


def test_generates_what_was_asked_and_reruns_add_nothing(db_url: str) -> None:
    before = fetchval(db_url, "SELECT count(*) FROM clients")
    first = add(db_url, 30)
    assert (first.added_clients, first.positions, first.transactions) == (30, 180, 270)
    assert fetchval(db_url, "SELECT count(*) FROM clients") == before + 30
    again = add(db_url, 30)
    assert (again.added_clients, again.existing_clients) == (0, 30)
    grown = add(db_url, 35)
    assert grown.added_clients == 5
    assert fetchval(db_url, "SELECT count(*) FROM clients WHERE external_id LIKE 'synth-2-%'") == 35
    assert fetch(db_url, LEDGER_VS_POSITIONS) == []
    assert fetch(db_url, CASH_VS_LEDGER) == []
    assert fetch(db_url, LOTS_VS_POSITIONS) == []
    synthetic = "client_id IN (SELECT id FROM clients WHERE external_id LIKE 'synth-%')"
    assert len(stored_lots(db_url, synthetic)) == 35 * 6
    assert stored_lots(db_url, synthetic) == replayed_lots(db_url, synthetic)
    per_client = fetch(
        db_url,
        "SELECT count(*) AS n FROM positions WHERE client_id IN "
        "(SELECT id FROM clients WHERE external_id LIKE 'synth-%') GROUP BY client_id",
    )
    assert {r["n"] for r in per_client} == {6}


def test_the_same_index_is_the_same_client_in_any_database(
    db_url: str, fresh_database: object, template_db: str
) -> None:
    other = fresh_database(template_db)  # type: ignore[operator]
    add(db_url, 3)
    add(other, 3)
    query = (
        "SELECT c.external_id, c.risk_tolerance, p.symbol, p.quantity FROM clients c JOIN positions p "
        "ON p.firm_id = c.firm_id AND p.client_id = c.id WHERE c.external_id LIKE 'synth-%' ORDER BY 1, 3"
    )
    assert [tuple(r) for r in fetch(db_url, query)] == [tuple(r) for r in fetch(other, query)]
