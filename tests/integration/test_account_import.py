"""Importing accounts: `allows_margin` is an optional column (false when absent or blank), stored and recorded
in the account's audit event; a value that is no yes/no is named."""

from __future__ import annotations

import asyncpg

from tests.support import fetch, with_conn
from wealthgate.ledger.importing import ImportResult, import_csv

CLIENTS = (
    "external_id,name,advisor_id,date_of_birth,risk_tolerance,investment_objective,time_horizon,"
    "liquidity_needs,annual_income,net_worth,liquid_net_worth,tax_status,investment_experience\n"
    "mrg-c1,Mo Margin,1,1970-05-01,moderate,growth,long,low,150000,900000,400000,taxable,extensive\n"
)


def run(url: str, kind: str, text: str) -> ImportResult:
    async def work(conn: asyncpg.Connection) -> ImportResult:
        return await import_csv(
            conn, kind, text.splitlines(keepends=True), firm_id=1, operator="t", partial=False
        )

    return with_conn(url, work)


def test_allows_margin_is_an_optional_column(db_url: str) -> None:
    assert run(db_url, "clients", CLIENTS).committed
    accounts = (
        "external_id,client_external_id,name,account_type,opened_on,allows_margin\n"
        "mrg-a1,mrg-c1,Margin,taxable,2016-01-04,true\n"
        "mrg-a2,mrg-c1,Cash only,ira,2016-01-04,\n"
    )
    result = run(db_url, "accounts", accounts)
    assert result.committed, result.errors
    stored = fetch(
        db_url, "SELECT external_id, allows_margin FROM accounts WHERE external_id LIKE 'mrg-%' ORDER BY 1"
    )
    assert [tuple(r) for r in stored] == [("mrg-a1", True), ("mrg-a2", False)]
    events = fetch(
        db_url,
        "SELECT details->>'allows_margin' AS margin FROM audit_events WHERE action = 'account.imported'"
        " ORDER BY id DESC LIMIT 2",
    )
    assert sorted(r["margin"] for r in events) == ["false", "true"]
    without = (
        "external_id,client_external_id,name,account_type,opened_on\nmrg-a3,mrg-c1,Plain,taxable,2016-01-04\n"
    )
    assert run(db_url, "accounts", without).committed
    assert fetch(db_url, "SELECT allows_margin FROM accounts WHERE external_id = 'mrg-a3'")[0][0] is False


def test_a_bad_margin_value_is_named(db_url: str) -> None:
    run(db_url, "clients", CLIENTS)
    bad = (
        "external_id,client_external_id,name,account_type,opened_on,allows_margin\n"
        "mrg-a4,mrg-c1,X,taxable,2016-01-04,maybe\n"
    )
    result = run(db_url, "accounts", bad)
    assert not result.committed
    assert [(line, field) for line, field, _ in result.errors] == [(2, "allows_margin")]
