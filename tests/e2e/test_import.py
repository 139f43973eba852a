"""`wealthgate import`: bad lines are named, all or nothing by default, re-runs add nothing, opening positions
keep their exact cost basis."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.process import cli
from tests.support import fetch, fetchval

pytestmark = pytest.mark.e2e

SECURITIES = """symbol,name,asset_class,sector,region,risk_rating
TSTQ,Test Quality Co.,equity,Industrials,North America,3
"""
PRICES = """symbol,date,close
TSTQ,2018-04-10,10.50
TSTQ,2018-04-11,11.25
TSTQ,2018-04-12,11.00
"""
BAD_PRICES = """symbol,date,close
TSTQ,2018-04-13,12
TSTQ,2018-04-14,-5
NOPE,2018-04-15,1
"""
TRANSACTIONS = """account_id,trade_date,type,symbol,quantity,price,amount,fees,description,external_id
1,2018-04-12,deposit,,,,1000,,Top-up,imp-1
1,2018-04-12,buy,TSTQ,10,11,,4.95,Buy TSTQ,imp-2
"""


def run_import(db_url: str, tmp_path: Path, kind: str, text: str, *flags: str) -> tuple[int, str, str]:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text)
    result = cli("import", kind, str(path), "--firm", "1", *flags, DATABASE_URL=db_url)
    return result.returncode, result.stdout, result.stderr


def test_import_twice_gives_the_same_database(db_url: str, tmp_path: Path) -> None:
    assert run_import(db_url, tmp_path, "securities", SECURITIES)[0] == 0
    code, out, _ = run_import(db_url, tmp_path, "prices", PRICES)
    assert code == 0
    assert "3 added" in out
    code, out, _ = run_import(db_url, tmp_path, "prices", PRICES)
    assert code == 0
    assert "0 added, 3 already there" in out
    cash_before = fetchval(db_url, "SELECT cash_balance FROM accounts WHERE firm_id = 1 AND id = 1")
    for _ in range(2):
        code, out, err = run_import(db_url, tmp_path, "transactions", TRANSACTIONS)
        assert code == 0, err
    assert fetchval(db_url, "SELECT count(*) FROM transactions WHERE external_id LIKE 'imp-%'") == 2
    assert fetchval(db_url, "SELECT quantity FROM positions WHERE account_id = 1 AND symbol = 'TSTQ'") == 10
    cash_after = fetchval(db_url, "SELECT cash_balance FROM accounts WHERE firm_id = 1 AND id = 1")
    assert cash_after - cash_before == Decimal("1000") - Decimal("114.95")
    assert fetchval(db_url, "SELECT last_price FROM securities WHERE symbol = 'TSTQ'") == Decimal("11")


def test_a_bad_line_is_named_and_nothing_is_stored(db_url: str, tmp_path: Path) -> None:
    run_import(db_url, tmp_path, "securities", SECURITIES)
    before = fetchval(db_url, "SELECT count(*) FROM prices WHERE symbol = 'TSTQ'")
    code, out, err = run_import(db_url, tmp_path, "prices", BAD_PRICES)
    assert code == 1
    assert "line 3: close: close must be positive" in err
    assert "line 4: symbol: unknown security NOPE" in err
    assert "nothing stored" in out
    assert fetchval(db_url, "SELECT count(*) FROM prices WHERE symbol = 'TSTQ'") == before
    code, out, err = run_import(db_url, tmp_path, "prices", BAD_PRICES, "--partial")
    assert code == 0
    assert "1 added" in out
    assert "2 rejected; committed" in out
    assert fetchval(db_url, "SELECT count(*) FROM prices WHERE symbol = 'TSTQ'") == before + 1


def test_a_bad_transaction_rejects_the_file(db_url: str, tmp_path: Path) -> None:
    text = TRANSACTIONS + "1,2018-04-12,sell,AAPL,100000,1,,,Too many,imp-3\n"
    run_import(db_url, tmp_path, "securities", SECURITIES)
    code, _, err = run_import(db_url, tmp_path, "transactions", text)
    assert code == 1
    assert "line 4: quantity:" in err
    assert fetchval(db_url, "SELECT count(*) FROM transactions WHERE external_id LIKE 'imp-%'") == 0
    code, _, err = run_import(db_url, tmp_path, "holdings", "a,b\n")
    assert code == 1
    assert "KIND must be one of" in err


CLIENT_COLUMNS = (
    "external_id,name,advisor_id,date_of_birth,risk_tolerance,investment_objective,time_horizon,"
    "liquidity_needs,annual_income,net_worth,liquid_net_worth,tax_status,marginal_tax_rate,"
    "investment_experience,excluded_symbols,excluded_sectors\n"
)
CLIENTS = CLIENT_COLUMNS + (
    "imp-c1,Ada Import,1,1970-05-01,moderate,growth,long,low,150000,900000,400000,taxable,0.32,extensive,"
    "tsla;XOM,Energy;Tobacco\n"
    "imp-c2,Ben Import,2,1958-11-20,conservative,income,short,high,60000,300000,120000,tax_exempt,,"
    "limited,,\n"
)
ACCOUNTS = """external_id,client_external_id,name,account_type,opened_on
imp-a1,imp-c1,Ada Taxable,taxable,2015-01-02
imp-a2,imp-c2,Ben IRA,ira,2016-01-04
"""
# imp-p2: no six-decimal price rounds 7000 shares back to 12345.67, so it enters as two transfers.
POSITIONS = """account_external_id,account_id,symbol,quantity,cost_basis,acquired_on,external_id
imp-a1,,AAPL,10,1500.00,2015-03-02,imp-p1
imp-a1,,xom,7000,12345.67,2016-06-01,imp-p2
imp-a2,,AAPL,3,100.00,2017-01-03,imp-p3
imp-a2,,SPY,0.12345678,10.01,2018-01-02,imp-p4
"""
EXPECTED = {
    ("imp-a1", "AAPL"): (Decimal(10), Decimal("1500")),
    ("imp-a1", "XOM"): (Decimal(7000), Decimal("12345.67")),
    ("imp-a2", "AAPL"): (Decimal(3), Decimal(100)),
    ("imp-a2", "SPY"): (Decimal("0.12345678"), Decimal("10.01")),
}
TABLES = ("clients", "accounts", "transactions", "positions", "audit_events")


def snapshot(db_url: str) -> tuple[dict[str, int], list[tuple[object, ...]]]:
    counts = {t: fetchval(db_url, f"SELECT count(*) FROM {t}") for t in TABLES}  # noqa: S608  (constant TABLES)
    positions = fetch(db_url, "SELECT * FROM positions ORDER BY firm_id, id")
    return counts, [tuple(r.values()) for r in positions]


def imported_positions(db_url: str) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    rows = fetch(
        db_url,
        "SELECT a.external_id, p.symbol, p.quantity, p.cost_basis FROM positions p"
        " JOIN accounts a ON a.firm_id = p.firm_id AND a.id = p.account_id"
        " WHERE p.firm_id = 1 AND a.external_id LIKE 'imp-%'",
    )
    return {(r["external_id"], r["symbol"]): (r["quantity"], r["cost_basis"]) for r in rows}


def import_book(db_url: str, tmp_path: Path) -> list[str]:
    outputs = []
    for kind, text in (("clients", CLIENTS), ("accounts", ACCOUNTS), ("positions", POSITIONS)):
        code, out, err = run_import(db_url, tmp_path, kind, text)
        assert code == 0, err
        assert err == ""
        outputs.append(out)
    return outputs


def test_clients_accounts_and_positions_twice_give_the_same_database(db_url: str, tmp_path: Path) -> None:
    before = snapshot(db_url)
    first = import_book(db_url, tmp_path)
    assert "clients: 2 rows, 2 added, 0 already there, 0 rejected; committed" in first[0]
    assert "accounts: 2 rows, 2 added" in first[1]
    assert "positions: 4 rows, 4 added" in first[2]
    after = snapshot(db_url)
    assert after != before
    added = {t: after[0][t] - before[0][t] for t in TABLES}
    # 5 postings (imp-p2 is two); an audit event per client, account and posting
    assert added == {"clients": 2, "accounts": 2, "transactions": 5, "positions": 4, "audit_events": 9}
    assert imported_positions(db_url) == EXPECTED

    again = import_book(db_url, tmp_path)
    assert "clients: 2 rows, 0 added, 2 already there, 0 rejected; committed" in again[0]
    assert "accounts: 2 rows, 0 added, 2 already there" in again[1]
    assert "positions: 4 rows, 0 added, 4 already there" in again[2]
    assert snapshot(db_url) == after
    assert imported_positions(db_url) == EXPECTED

    client = fetch(db_url, "SELECT * FROM clients WHERE firm_id = 1 AND external_id = 'imp-c1'")[0]
    assert (client["advisor_id"], client["risk_tolerance"], client["marginal_tax_rate"]) == (
        1,
        "moderate",
        Decimal("0.32"),
    )
    assert client["excluded_symbols"] == ["TSLA", "XOM"]
    assert client["excluded_sectors"] == ["Energy", "Tobacco"]
    cash = fetch(db_url, "SELECT cash_balance FROM accounts WHERE external_id LIKE 'imp-a%'")
    assert [r["cash_balance"] for r in cash] == [0, 0]  # cash only enters through the ledger
    legs = fetch(
        db_url,
        "SELECT external_id, type, quantity, price, amount FROM transactions"
        " WHERE external_id LIKE 'imp-p2%' ORDER BY id",
    )
    assert [(r["external_id"], r["type"], r["amount"]) for r in legs] == [
        ("imp-p2", "transfer", 0),
        ("imp-p2#rest", "transfer", 0),
    ]
    assert sum(r["quantity"] for r in legs) == 7000
    assert cli("audit", "verify", "--firm", "1", DATABASE_URL=db_url).returncode == 0


def test_a_position_id_seen_with_other_content_is_refused(db_url: str, tmp_path: Path) -> None:
    import_book(db_url, tmp_path)
    changed = POSITIONS.replace("imp-a1,,AAPL,10,1500.00", "imp-a1,,AAPL,10,1600.00")
    code, _, err = run_import(db_url, tmp_path, "positions", changed)
    assert code == 1
    assert "line 2: external_id: external_id imp-p1 was imported with other content" in err
    assert imported_positions(db_url) == EXPECTED


def test_bad_clients_are_named_and_nothing_is_stored(db_url: str, tmp_path: Path) -> None:
    text = CLIENTS + (
        "imp-c3,Cy Bad,1,1980-01-01,reckless,growth,long,low,1,2,1,taxable,,none,,\n"
        "imp-c4,Di Other Firm,3,1980-01-01,moderate,growth,long,low,1,2,1,taxable,,none,,\n"
        "imp-c5,Ed Poor,1,1980-01-01,moderate,growth,long,low,1,2,3,taxable,,none,,\n"
        "imp-c6,Fay Rate,1,1980-01-01,moderate,growth,long,low,1,2,1,taxable,24,none,,\n"
        "imp-c7,Gus Date,1,1980-13-01,moderate,growth,long,low,1,2,1,taxable,,none,,\n"
        "imp-c8,Hal Cents,1,1980-01-01,moderate,growth,long,low,1.00001,2,1,taxable,,none,,\n"
    )
    before = fetchval(db_url, "SELECT count(*) FROM clients")
    code, out, err = run_import(db_url, tmp_path, "clients", text)
    assert code == 1
    assert "line 4: risk_tolerance: risk_tolerance must be one of conservative," in err
    assert "line 5: advisor_id: unknown advisor 3" in err  # firm 2's advisor
    assert "line 6: net_worth: net_worth must be at least liquid_net_worth" in err
    assert "line 7: marginal_tax_rate: marginal_tax_rate must be between 0 and 1" in err
    assert "line 8: date_of_birth: date_of_birth must be a date" in err
    assert "line 9: annual_income: annual_income has more than 4 decimals" in err
    assert "clients: 8 rows, 0 added, 0 already there, 6 rejected; nothing stored" in out
    assert fetchval(db_url, "SELECT count(*) FROM clients") == before
    code, out, _ = run_import(db_url, tmp_path, "clients", text, "--partial")
    assert code == 0
    assert "2 added, 0 already there, 6 rejected; committed" in out
    stored = fetch(db_url, "SELECT external_id FROM clients WHERE external_id LIKE 'imp-%' ORDER BY 1")
    assert [r["external_id"] for r in stored] == ["imp-c1", "imp-c2"]


def test_bad_accounts_and_positions_are_named_and_nothing_is_stored(db_url: str, tmp_path: Path) -> None:
    assert run_import(db_url, tmp_path, "clients", CLIENTS)[0] == 0
    other_client = fetchval(db_url, "SELECT external_id FROM clients WHERE firm_id = 2 LIMIT 1")
    other_account = fetchval(db_url, "SELECT id FROM accounts WHERE firm_id = 2 LIMIT 1")
    accounts = ACCOUNTS + f"imp-a3,nobody,No One,taxable,2019-01-01\nimp-a4,{other_client},X,ira,2019-01-01\n"
    accounts += "imp-a5,imp-c1,Odd,checking,2019-01-01\n"
    code, out, err = run_import(db_url, tmp_path, "accounts", accounts)
    assert code == 1
    assert "line 4: client_external_id: unknown client nobody" in err
    assert f"line 5: client_external_id: unknown client {other_client}" in err
    assert "line 6: account_type: account_type must be one of taxable," in err
    assert fetchval(db_url, "SELECT count(*) FROM accounts WHERE external_id LIKE 'imp-%'") == 0
    assert run_import(db_url, tmp_path, "accounts", accounts, "--partial")[0] == 0
    assert fetchval(db_url, "SELECT count(*) FROM accounts WHERE external_id LIKE 'imp-%'") == 2

    positions = POSITIONS + (
        "imp-a1,,AAPL,-5,100,2018-01-02,imp-p5\n"
        "nowhere,,AAPL,5,100,2018-01-02,imp-p6\n"
        f",{other_account},AAPL,5,100,2018-01-02,imp-p7\n"
        "imp-a1,,NOPE,5,100,2018-01-02,imp-p8\n"
        "imp-a1,,AAPL,5,100.00001,2018-01-02,imp-p9\n"
        "imp-a1,,AAPL,5,100,yesterday,imp-p10\n"
    )
    transactions = fetchval(db_url, "SELECT count(*) FROM transactions")
    code, out, err = run_import(db_url, tmp_path, "positions", positions)
    assert code == 1
    assert "line 6: quantity: quantity must be positive" in err
    assert "line 7: account_external_id: unknown account nowhere" in err
    assert f"line 8: account_id: unknown account {other_account}" in err  # firm 2's account
    assert "line 9: symbol: unknown security NOPE" in err
    assert "line 10: cost_basis: cost_basis has more than 4 decimals" in err
    assert "line 11: acquired_on: acquired_on must be a date" in err
    assert "positions: 10 rows, 0 added, 0 already there, 6 rejected; nothing stored" in out
    assert fetchval(db_url, "SELECT count(*) FROM transactions") == transactions
    assert imported_positions(db_url) == {}
    code, out, _ = run_import(db_url, tmp_path, "positions", positions, "--partial")
    assert code == 0
    assert "4 added, 0 already there, 6 rejected; committed" in out
    assert imported_positions(db_url) == EXPECTED


def test_a_header_without_an_account_column_is_refused(db_url: str, tmp_path: Path) -> None:
    code, _, err = run_import(
        db_url, tmp_path, "positions", "symbol,quantity,cost_basis,acquired_on,external_id\n"
    )
    assert code == 1
    assert (
        "line 1: account_external_id or account_id: the header lacks account_external_id or account_id" in err
    )


def test_positions_by_account_id_add_to_what_is_held(db_url: str, tmp_path: Path) -> None:
    def held() -> tuple[Decimal, Decimal]:
        rows = fetch(
            db_url, "SELECT quantity, cost_basis FROM positions WHERE account_id = 1 AND symbol = 'GE'"
        )
        return (rows[0]["quantity"], rows[0]["cost_basis"]) if rows else (Decimal(0), Decimal(0))

    quantity, cost = held()
    text = "account_id,symbol,quantity,cost_basis,acquired_on,external_id\n1,GE,5,50.5,2018-01-02,imp-id1\n"
    for _ in range(2):
        assert run_import(db_url, tmp_path, "positions", text)[0] == 0
    assert held() == (quantity + 5, cost + Decimal("50.5"))


def test_a_nul_character_is_a_row_error_not_a_crash(db_url: str, tmp_path: Path) -> None:
    code, _, err = run_import(db_url, tmp_path, "clients", CLIENTS.replace("Ben Import", "Ben\x00Import"))
    assert code == 1
    assert "line 3: name: name must not contain the NUL character" in err
    # transactions too, checked before anything is written (they are written together at the end)
    code, out, err = run_import(db_url, tmp_path, "transactions", TRANSACTIONS.replace("Top-up", "Top\x00up"))
    assert code == 1
    assert "line 2: description: description must not contain the NUL character" in err
    assert "nothing stored" in out
