"""`wealthgate import`: bad lines are named, all or nothing by default, re-runs add nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.process import cli
from tests.support import fetchval

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
    code, _, err = run_import(db_url, tmp_path, "positions", "a,b\n")
    assert code == 1
    assert "KIND must be one of" in err
