"""CSV import of securities, prices and transactions (`wealthgate import KIND FILE`).

- Every row is checked; a bad row is reported with its line number (the header is line 1).
- By default the file is all or nothing: one bad row and nothing is stored. With `partial`, the good rows are
  committed and the bad ones reported.
- Re-running the same file adds nothing: securities are keyed by symbol, prices by (symbol, date) and
  transactions by their required `external_id` (posting the same id again returns the original).
- Transactions go through the posting service: the same validation, positions and cash, and audit events as
  `POST /accounts/{id}/transactions`, attributed to the operator.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg

from wealthgate.auth.principal import Principal, operator_actor
from wealthgate.errors import DomainError
from wealthgate.ledger import posting
from wealthgate.vocabulary import ASSET_CLASSES, SECURITY_LIQUIDITY

KINDS = ("securities", "prices", "transactions")
REQUIRED = {
    "securities": ("symbol", "name", "asset_class", "sector", "region", "risk_rating"),
    "prices": ("symbol", "date", "close"),
    "transactions": ("account_id", "trade_date", "type", "external_id"),
}


class RowError(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(slots=True)
class ImportResult:
    kind: str
    rows: int = 0
    added: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str | None, str]] = field(default_factory=list)  # (line, field, message)
    committed: bool = False


def _decimal(row: dict[str, str], name: str, *, required: bool = True) -> Decimal | None:
    text = (row.get(name) or "").strip()
    if not text:
        if required:
            raise RowError(name, f"{name} is required")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise RowError(name, f"{name} is not a decimal number: {text!r}") from exc
    if not value.is_finite():
        raise RowError(name, f"{name} must be finite")
    return value


def _date(row: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat((row.get(name) or "").strip())
    except ValueError as exc:
        raise RowError(name, f"{name} must be a date like 2018-04-11") from exc


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
    status: str = await conn.execute(
        "INSERT INTO securities (symbol, name, asset_class, sector, region, risk_rating, is_complex,"
        " liquidity) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (symbol) DO NOTHING",
        symbol,
        row["name"].strip(),
        row["asset_class"],
        row["sector"].strip(),
        row["region"].strip(),
        int(rating),
        (row.get("is_complex") or "").strip().lower() in ("true", "1", "yes"),
        liquidity,
    )
    return status.endswith(" 1")


async def _price(conn: asyncpg.Connection, row: dict[str, str]) -> bool:
    symbol = row["symbol"].strip().upper()
    close = _decimal(row, "close")
    if close is None or close <= 0:
        raise RowError("close", "close must be positive")
    if not await conn.fetchval("SELECT 1 FROM securities WHERE symbol = $1", symbol):
        raise RowError("symbol", f"unknown security {symbol}")
    status: str = await conn.execute(
        "INSERT INTO prices (symbol, price_date, close) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        symbol,
        _date(row, "date"),
        close,
    )
    return status.endswith(" 1")


async def _transaction(
    conn: asyncpg.Connection, row: dict[str, str], principal: Principal, actor: dict[str, Any]
) -> bool:
    try:
        account_id = int(row["account_id"])
    except ValueError as exc:
        raise RowError("account_id", "account_id must be a whole number") from exc
    t = posting.NewTransaction(
        trade_date=_date(row, "trade_date"),
        type=row["type"].strip(),
        symbol=(row.get("symbol") or "").strip().upper() or None,
        quantity=_decimal(row, "quantity", required=False),
        price=_decimal(row, "price", required=False),
        amount=_decimal(row, "amount", required=False),
        fees=_decimal(row, "fees", required=False) or Decimal(0),
        description=(row.get("description") or "").strip() or None,
        external_id=row["external_id"].strip(),
    )
    if t.type not in ("buy", "sell", "dividend", "interest", "deposit", "withdrawal", "fee", "transfer"):
        raise RowError("type", f"unknown transaction type {t.type!r}")
    try:
        posted = await posting.post(conn, principal, account_id, t, request_id=None, actor=actor)
    except DomainError as exc:
        raise RowError(exc.field, exc.detail) from exc
    return posted.created


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
    if kind not in KINDS:
        raise ValueError(f"KIND must be one of {', '.join(KINDS)}")
    result = ImportResult(kind)
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED[kind] if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append((1, missing[0], f"the header lacks {', '.join(missing)}"))
        return result
    principal = Principal(
        key_id=0, firm_id=firm_id, advisor_id=None, scopes=frozenset({"admin"}), name="import", owner=operator
    )
    actor = operator_actor(firm_id, operator)
    try:
        async with conn.transaction():
            for row in reader:
                line = reader.line_num
                result.rows += 1
                try:
                    async with conn.transaction():  # a savepoint per row: a bad row leaves nothing behind
                        if kind == "securities":
                            added = await _security(conn, row)
                        elif kind == "prices":
                            added = await _price(conn, row)
                        else:
                            added = await _transaction(conn, row, principal, actor)
                except RowError as exc:
                    result.errors.append((line, exc.field, exc.message))
                except (KeyError, AttributeError) as exc:
                    result.errors.append((line, None, f"the row is incomplete ({exc})"))
                else:
                    result.added += int(added)
                    result.unchanged += int(not added)
                on_row()
            if result.errors and not partial:
                raise _AllOrNothing
        result.committed = True
    except _AllOrNothing:
        result.added = result.unchanged = 0
    return result


class _AllOrNothing(Exception):
    pass
