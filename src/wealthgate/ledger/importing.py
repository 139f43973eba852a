"""CSV import of clients, accounts, securities, prices, transactions and positions
(`wealthgate import KIND FILE`).

- Every row is checked; a bad row is reported with its line number (the header is line 1) and the field at
  fault. What the schema would refuse is caught first and named; a refusal that still comes from the database
  is reported on its row with the field its constraint guards, never as a crash.
- By default the file is all or nothing: one bad row and nothing is stored. With `partial`, the good rows are
  committed and the bad ones reported.
- Re-running the same file adds nothing: securities are keyed by symbol, prices by (symbol, date), clients,
  accounts, transactions and positions by their required `external_id` within the firm.
- A client or account whose `external_id` is already there counts as unchanged and is left as it is: the
  import creates, it never updates. Advisors, clients and accounts are looked up in the importing firm only.
- Accounts start without cash: cash only enters through the ledger (a `deposit` transaction).
- Transactions go through the posting service: the same validation, positions and cash, and audit events as
  `POST /accounts/{id}/transactions`, attributed to the operator. So do positions (opening balances moved from
  another system), each as a `transfer` in at cost_basis / quantity. A price holds six decimals, so when no
  such price rounds quantity x price back to the cost basis, all but one unit come in at the unit cost rounded
  down and the last unit (external id `<external_id>#rest`) carries the remaining cost: the position's
  quantity and cost basis are exactly the file's. A position's `external_id` seen before with other content
  is refused.
- Created clients and accounts are audit events (`client.imported`, `account.imported`) of the operator.
- The file is UTF-8, with or without the byte-order mark Excel writes; another encoding is refused before any
  row is read, naming the line and column of the first byte that is not UTF-8 (ledger/csv_text.py).
- Transactions and positions are judged row by row with the posting's rules and written together at the end
  (ledger/bulk.py), so an import's time grows with its row count, not its square.
"""

from __future__ import annotations

import csv
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import asyncpg

from wealthgate.auth.principal import Principal, operator_actor
from wealthgate.clients.importing import import_account, import_client
from wealthgate.db.sql import Sql
from wealthgate.errors import DomainError
from wealthgate.ledger import posting
from wealthgate.ledger.bulk import BulkPosting
from wealthgate.ledger.csv_cells import (
    PRICE_LIMIT,
    RowError,
    cell_database_field,
    cell_date,
    cell_decimal,
    cell_figure,
    cell_optional_text,
    cell_text,
    cell_whole,
)
from wealthgate.ledger.csv_text import BOM, read_csv
from wealthgate.ledger.replay import Entry, replay
from wealthgate.money import MONEY_PLACES, PRICE_PLACES, QUANTITY_PLACES, to_money, to_price
from wealthgate.vocabulary import ASSET_CLASSES, SECURITY_LIQUIDITY, TRANSACTION_TYPES

KINDS = ("clients", "accounts", "securities", "prices", "transactions", "positions")
REQUIRED = {
    "clients": (
        "external_id",
        "name",
        "advisor_id",
        "date_of_birth",
        "risk_tolerance",
        "investment_objective",
        "time_horizon",
        "liquidity_needs",
        "annual_income",
        "net_worth",
        "liquid_net_worth",
        "tax_status",
        "investment_experience",
    ),
    "accounts": ("external_id", "client_external_id", "name", "account_type", "opened_on"),
    "securities": ("symbol", "name", "asset_class", "sector", "region", "risk_rating"),
    "prices": ("symbol", "date", "close"),
    "transactions": ("account_id", "trade_date", "type", "external_id"),
    "positions": ("symbol", "quantity", "cost_basis", "acquired_on", "external_id"),
}
ONE_OF = {"positions": ("account_external_id", "account_id")}  # the header needs at least one of these
REST = "#rest"  # suffix of the external id of a position's last unit when it carries the remaining cost

_ADD_SECURITY = Sql(
    """
INSERT INTO securities (symbol, name, asset_class, sector, region, risk_rating, is_complex, liquidity)
VALUES (:symbol, :name, :asset_class, :sector, :region, :risk_rating, :is_complex, :liquidity)
ON CONFLICT (symbol) DO NOTHING
"""
)
_SECURITY_EXISTS = Sql("SELECT 1 FROM securities WHERE symbol = :symbol")
_ADD_PRICE = Sql(
    "INSERT INTO prices (symbol, price_date, close) VALUES (:symbol, :price_date, :close)"
    " ON CONFLICT DO NOTHING"
)
_ACCOUNT_BY_EXTERNAL_ID = Sql(
    "SELECT id FROM accounts WHERE firm_id = :firm_id AND external_id = :external_id"
)
_ACCOUNT_BY_ID = Sql("SELECT id FROM accounts WHERE firm_id = :firm_id AND id = :account_id")
LEG_COLUMNS = ("account_id", "trade_date", "type", "symbol", "quantity", "price")

__all__ = ["KINDS", "ImportResult", "import_csv", "opening_legs", "read_csv"]


@dataclass(slots=True)
class ImportResult:
    kind: str
    rows: int = 0
    added: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str | None, str]] = field(default_factory=list)  # (line, field, message)
    committed: bool = False


async def _security(conn: asyncpg.Connection, row: dict[str, str]) -> bool:
    symbol = row["symbol"].strip().upper()
    if row["asset_class"] not in ASSET_CLASSES:
        raise RowError("asset_class", f"asset_class must be one of {', '.join(ASSET_CLASSES)}")
    liquidity = (row.get("liquidity") or "high").strip()
    if liquidity not in SECURITY_LIQUIDITY:
        raise RowError("liquidity", f"liquidity must be one of {', '.join(SECURITY_LIQUIDITY)}")
    rating = row["risk_rating"].strip()
    if rating not in {"1", "2", "3", "4", "5"}:
        raise RowError("risk_rating", "risk_rating must be 1 to 5")
    status = await _ADD_SECURITY.execute(
        conn,
        symbol=symbol,
        name=row["name"].strip(),
        asset_class=row["asset_class"],
        sector=row["sector"].strip(),
        region=row["region"].strip(),
        risk_rating=int(rating),
        is_complex=(row.get("is_complex") or "").strip().lower() in ("true", "1", "yes"),
        liquidity=liquidity,
    )
    return status.endswith(" 1")


async def _price(conn: asyncpg.Connection, row: dict[str, str]) -> bool:
    symbol = row["symbol"].strip().upper()
    close = cell_decimal(row, "close")
    if close is None or close <= 0:
        raise RowError("close", "close must be positive")
    if not await _SECURITY_EXISTS.fetchval(conn, symbol=symbol):
        raise RowError("symbol", f"unknown security {symbol}")
    status = await _ADD_PRICE.execute(conn, symbol=symbol, price_date=cell_date(row, "date"), close=close)
    return status.endswith(" 1")


async def _post(bulk: BulkPosting, account_id: int, t: posting.NewTransaction) -> bool:
    """Post `t` as `POST /accounts/{id}/transactions` would, as the operator; a refusal is its row's error."""
    try:
        return await bulk.post(account_id, t)
    except DomainError as exc:
        raise RowError(exc.field, exc.detail) from exc


async def _transaction(bulk: BulkPosting, row: dict[str, str]) -> bool:
    try:
        account_id = int(row["account_id"])
    except ValueError as exc:
        raise RowError("account_id", "account_id must be a whole number") from exc
    t = posting.NewTransaction(
        trade_date=cell_date(row, "trade_date"),
        type=row["type"].strip(),
        symbol=(cell_optional_text(row, "symbol") or "").upper() or None,
        quantity=cell_decimal(row, "quantity", required=False),
        price=cell_decimal(row, "price", required=False),
        amount=cell_decimal(row, "amount", required=False),
        fees=cell_decimal(row, "fees", required=False) or Decimal(0),
        description=cell_optional_text(row, "description"),
        external_id=cell_optional_text(row, "external_id") or "",
    )
    if t.type not in TRANSACTION_TYPES:
        raise RowError("type", f"unknown transaction type {t.type!r}")
    return await _post(bulk, account_id, t)


def _transferred_cost(legs: list[tuple[Decimal, Decimal]]) -> Decimal:
    """The cost basis ledger replay gives transfers in of (quantity, price)."""
    book = replay(Entry(0, "transfer", "-", quantity, price, Decimal(0)) for quantity, price in legs)
    return book.holdings[(0, "-")].cost_basis


def opening_legs(quantity: Decimal, cost_basis: Decimal) -> list[tuple[Decimal, Decimal]]:
    """The transfers in, as (quantity, price), whose replay holds exactly `quantity` at `cost_basis`."""
    if cost_basis / quantity >= PRICE_LIMIT:
        raise RowError("cost_basis", "cost_basis / quantity is too large a price")
    unit = to_price(cost_basis / quantity)
    for price in (unit, unit - PRICE_PLACES, unit + PRICE_PLACES):
        if price >= 0 and _transferred_cost([(quantity, price)]) == cost_basis:
            return [(quantity, price)]
    # No six-decimal price rounds back (only possible above 100 units): the last unit takes what is left.
    floor = (cost_basis / quantity).quantize(PRICE_PLACES, rounding=ROUND_FLOOR)
    bulk = to_money(floor * (quantity - 1))
    legs = [(quantity - 1, floor), (Decimal(1), cost_basis - bulk)]
    if quantity <= 1 or _transferred_cost(legs) != cost_basis:  # not expected; refuse rather than drift
        raise RowError("cost_basis", f"cost_basis {cost_basis} cannot be carried by {quantity} units")
    return legs


async def _position_account(conn: asyncpg.Connection, row: dict[str, str], firm_id: int) -> int:
    if cell_optional_text(row, "account_external_id") is not None:
        ref = cell_text(row, "account_external_id")
        found = await _ACCOUNT_BY_EXTERNAL_ID.fetchval(conn, firm_id=firm_id, external_id=ref)
        name = "account_external_id"
    else:
        number = cell_whole(row, "account_id")
        found = await _ACCOUNT_BY_ID.fetchval(conn, firm_id=firm_id, account_id=number)
        ref = str(number)
        name = "account_id"
    if found is None:
        raise RowError(name, f"unknown account {ref}")
    account_id: int = found
    return account_id


async def _position(bulk: BulkPosting, row: dict[str, str]) -> bool:
    account_id = await _position_account(bulk.conn, row, bulk.principal.firm_id)
    symbol = cell_text(row, "symbol").upper()
    quantity = cell_figure(row, "quantity", QUANTITY_PLACES, minimum=QUANTITY_PLACES)
    cost_basis = cell_figure(row, "cost_basis", MONEY_PLACES)
    acquired_on = cell_date(row, "acquired_on")
    external_id = cell_text(row, "external_id")
    created = False
    for i, (leg_quantity, price) in enumerate(opening_legs(quantity, cost_basis)):
        leg_id = external_id if i == 0 else external_id + REST
        seen = await bulk.seen(leg_id)
        planned = (account_id, acquired_on, "transfer", symbol, leg_quantity, price)
        if seen is not None and tuple(seen[c] for c in LEG_COLUMNS) != planned:
            raise RowError("external_id", f"external_id {leg_id} was imported with other content")
        t = posting.NewTransaction(
            trade_date=acquired_on,
            type="transfer",
            symbol=symbol,
            quantity=leg_quantity,
            price=price,
            amount=Decimal(0),
            description="Opening position" if i == 0 else "Opening position, remaining cost",
            external_id=leg_id,
        )
        created = await _post(bulk, account_id, t) or created
    return created


def _external_ids(kind: str, row: dict[str, str]) -> list[str]:
    """The external ids a row of `kind` may post under, to look them up for the whole file at once."""
    external_id = (row.get("external_id") or "").strip()
    return [external_id, external_id + REST] if kind == "positions" else [external_id]


async def import_csv(
    conn: asyncpg.Connection,
    kind: str,
    lines: Iterable[str],
    *,
    firm_id: int,
    operator: str,
    partial: bool,
    on_row: Callable[[], None] = lambda: None,
) -> ImportResult:
    if kind not in HANDLERS and kind not in BULK_HANDLERS:
        raise ValueError(f"KIND must be one of {', '.join(KINDS)}")
    result = ImportResult(kind)
    reader = csv.DictReader(lines)
    if reader.fieldnames and reader.fieldnames[0].startswith(BOM):  # text read without dropping Excel's BOM
        reader.fieldnames = [reader.fieldnames[0].removeprefix(BOM), *reader.fieldnames[1:]]
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED[kind] if c not in header]
    either = ONE_OF.get(kind, ())
    if either and not any(c in header for c in either):
        missing.append(" or ".join(either))
    if missing:
        result.errors.append((1, missing[0], f"the header lacks {', '.join(missing)}"))
        return result
    principal = Principal(
        key_id=0, firm_id=firm_id, advisor_id=None, scopes=frozenset({"admin"}), name="import", owner=operator
    )
    actor = operator_actor(firm_id, operator)
    bulk = BulkPosting(conn, principal, actor) if kind in BULK_HANDLERS else None
    try:
        async with conn.transaction():
            rows: Iterable[tuple[int, dict[str, str]]] = ((reader.line_num, row) for row in reader)
            if bulk is not None:
                rows = list(rows)
                await bulk.prefetch(e for _, row in rows for e in _external_ids(kind, row))
            for line, row in rows:
                result.rows += 1
                if bulk is not None:  # judged in memory, written by `flush`: a bad row leaves nothing
                    await _one_row(result, line, BULK_HANDLERS[kind](bulk, row))
                else:
                    await _one_row(result, line, _saved(conn, HANDLERS[kind](conn, row, principal, actor)))
                on_row()
            if result.errors and not partial:
                raise _AllOrNothing
            if bulk is not None:
                await bulk.flush()
        result.committed = True
    except _AllOrNothing:
        result.added = result.unchanged = 0
    return result


class _AllOrNothing(Exception):
    pass


async def _saved(conn: asyncpg.Connection, work: Awaitable[bool]) -> bool:
    """`work` in a savepoint: a bad row that wrote something leaves nothing behind."""
    async with conn.transaction():
        return await work


async def _one_row(result: ImportResult, line: int, work: Awaitable[bool]) -> None:
    """Count the row `work` imports, or record why it was refused (its line and field)."""
    try:
        added = await work
    except RowError as exc:
        result.errors.append((line, exc.field, exc.message))
    except (KeyError, AttributeError) as exc:
        result.errors.append((line, None, f"the row is incomplete ({exc})"))
    except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as exc:
        result.errors.append((line, cell_database_field(exc), f"refused by the database: {exc}"))
    else:
        result.added += int(added)
        result.unchanged += int(not added)


Handler = Callable[[asyncpg.Connection, dict[str, str], Principal, dict[str, Any]], Awaitable[bool]]
HANDLERS: dict[str, Handler] = {
    "clients": import_client,
    "accounts": import_account,
    "securities": lambda conn, row, _principal, _actor: _security(conn, row),
    "prices": lambda conn, row, _principal, _actor: _price(conn, row),
}
# Postings: judged row by row, written together (ledger/bulk.py).
BULK_HANDLERS: dict[str, Callable[[BulkPosting, dict[str, str]], Awaitable[bool]]] = {
    "transactions": _transaction,
    "positions": _position,
}
