"""CSV imports read UTF-8 with or without the byte-order mark Excel writes; a file in another encoding
(Latin-1 here) is refused before any row is read, naming its line and column and saying to save it as
UTF-8, and nothing is stored. Each kind that carries free text (clients, accounts, positions,
transactions), in process through the importer's one way in (`read_csv`), and through the real
`wealthgate import`."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from tests.e2e.process import cli
from tests.support import fetchval, with_conn
from wealthgate.ledger.csv_text import NotUtf8, decode, read_csv
from wealthgate.ledger.importing import ImportResult, import_csv

CLIENTS = (
    "external_id,name,advisor_id,date_of_birth,risk_tolerance,investment_objective,time_horizon,"
    "liquidity_needs,annual_income,net_worth,liquid_net_worth,tax_status,investment_experience\n"
    "enc-c1,Zoë Émile,1,1970-05-01,moderate,growth,long,low,150000,900000,400000,taxable,extensive\n"
)
ACCOUNTS = (
    "external_id,client_external_id,name,account_type,opened_on\n"
    "enc-a1,enc-c1,Compte épargne,taxable,2015-01-02\n"
)
POSITIONS = (
    "account_external_id,symbol,quantity,cost_basis,acquired_on,external_id\n"
    "enc-a1,AAPL,10,1500.00,2015-03-02,enc-p1-é\n"
)
TRANSACTIONS = (
    "account_id,trade_date,type,symbol,quantity,price,amount,fees,description,external_id\n"
    "1,2018-04-12,deposit,,,,1000,,Dépôt initial,enc-t1\n"
)
# (kind, text, the table that grows, the line and column of the é a Latin-1 file cannot carry)
KINDS = [
    ("clients", CLIENTS, "clients", 2, "name"),
    ("accounts", ACCOUNTS, "accounts", 2, "name"),
    ("positions", POSITIONS, "transactions", 2, "external_id"),
    ("transactions", TRANSACTIONS, "transactions", 2, "description"),
]
BEFORE = {"accounts": ("clients",), "positions": ("clients", "accounts")}
TEXT = {"clients": CLIENTS, "accounts": ACCOUNTS}


def run(url: str, kind: str, path: Path) -> ImportResult:
    async def work(conn: asyncpg.Connection) -> ImportResult:
        return await import_csv(conn, kind, read_csv(path), firm_id=1, operator="t", partial=False)

    return with_conn(url, work)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def prepare(url: str, tmp_path: Path, kind: str) -> None:
    for earlier in BEFORE.get(kind, ()):
        assert run(url, earlier, write(tmp_path, f"{earlier}.csv", TEXT[earlier].encode())).committed


@pytest.mark.parametrize(("kind", "text", "table", "line", "column"), KINDS)
def test_utf8_with_a_byte_order_mark_is_read(
    kind: str, text: str, table: str, line: int, column: str, db_url: str, tmp_path: Path
) -> None:
    prepare(db_url, tmp_path, kind)
    before = fetchval(db_url, f"SELECT count(*) FROM {table}")  # noqa: S608  (a table name from KINDS)
    result = run(db_url, kind, write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + text.encode()))
    assert result.errors == []
    assert result.committed
    assert result.added == 1
    assert fetchval(db_url, f"SELECT count(*) FROM {table}") == before + 1  # noqa: S608
    again = run(
        db_url, kind, write(tmp_path, "plain.csv", text.encode())
    )  # the same rows, no BOM: already there
    assert again.committed
    assert again.added == 0
    assert again.unchanged == 1


@pytest.mark.parametrize(("kind", "text", "table", "line", "column"), KINDS)
def test_latin1_is_refused_with_its_line_and_column_and_nothing_is_stored(
    kind: str, text: str, table: str, line: int, column: str, db_url: str, tmp_path: Path
) -> None:
    prepare(db_url, tmp_path, kind)
    before = fetchval(db_url, f"SELECT count(*) FROM {table}")  # noqa: S608  (a table name from KINDS)
    with pytest.raises(NotUtf8) as refused:
        run(db_url, kind, write(tmp_path, "latin1.csv", text.encode("latin-1")))
    assert refused.value.line == line
    assert refused.value.column == column
    assert refused.value.detail.startswith(f"line {line}, column {column}: the file is not UTF-8")
    assert "save it as UTF-8" in refused.value.detail
    assert fetchval(db_url, f"SELECT count(*) FROM {table}") == before  # noqa: S608


def test_the_bad_byte_is_located_past_the_first_buffer_and_in_quoted_cells() -> None:
    rows = "".join(f'{i},"quoted, with a comma",plain\n' for i in range(2000))  # beyond any 8 KiB buffer
    data = ("id,note,other\n" + rows).encode() + b'2000,"caf\xe9, au lait",plain\n'
    with pytest.raises(NotUtf8) as refused:
        decode(data)
    assert (refused.value.line, refused.value.column) == (2002, "note")
    header_bad = b"id,n\xe9,other\n1,2,3\n"  # in the header itself: the column's number
    with pytest.raises(NotUtf8, match=r"^line 1, column 2: "):
        decode(header_bad)
    with pytest.raises(NotUtf8, match="UTF-16"):
        decode("id,name\n".encode("utf-16"))
    assert decode(b"\xef\xbb\xbfid,name\n") == "id,name\n"


def test_the_command_reads_a_bom_and_names_the_line_of_a_latin1_file(db_url: str, tmp_path: Path) -> None:
    """What an operator sees: Excel's UTF-8 file imports; a Latin-1 one is a line, exit 1, nothing stored."""
    excel = write(tmp_path, "excel.csv", b"\xef\xbb\xbf" + CLIENTS.encode())
    done = cli("import", "clients", str(excel), "--firm", "1", DATABASE_URL=db_url)
    assert done.returncode == 0, done.stderr
    assert "clients: 1 rows, 1 added" in done.stdout
    before = fetchval(db_url, "SELECT count(*) FROM clients")
    latin = write(tmp_path, "latin1.csv", CLIENTS.replace("enc-c1", "enc-c2").encode("latin-1"))
    refused = cli("import", "clients", str(latin), "--firm", "1", DATABASE_URL=db_url)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "error: line 2, column name: the file is not UTF-8 (byte 0xeb cannot be read); save it as UTF-8"
        ' (in Excel: "CSV UTF-8 (Comma delimited)") and import it again; nothing stored'
    ]
    assert "Traceback" not in refused.stderr
    assert fetchval(db_url, "SELECT count(*) FROM clients") == before
