"""Reading one CSV cell for `wealthgate import`: each parser names the field at fault in a `RowError`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg

from wealthgate.money import plain

LIMIT = Decimal("1e16")  # NUMERIC(20,4) money and NUMERIC(24,8) quantities hold 16 digits before the point
PRICE_LIMIT = Decimal("1e14")  # NUMERIC(20,6)
BIGINT = 2**63
# Constraints whose name does not say the field they guard (CHECKs are named after their field otherwise).
CONSTRAINT_FIELDS = {
    "ck_clients_finances": "net_worth",
    "fk_clients_firm_id_advisor_id_advisors": "advisor_id",
    "uq_clients_firm_id_external_id": "external_id",
    "fk_accounts_firm_id_client_id_clients": "client_external_id",
    "uq_accounts_firm_id_external_id": "external_id",
    "uq_transactions_firm_id_external_id": "external_id",
}


class RowError(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def cell_decimal(row: dict[str, str], name: str, *, required: bool = True) -> Decimal | None:
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


def cell_figure(row: dict[str, str], name: str, places: Decimal, *, minimum: Decimal = Decimal(0)) -> Decimal:
    """A required decimal stored as given: at least `minimum`, at most `places` decimals, in range."""
    value = cell_optional_figure(row, name, places, minimum=minimum)
    if value is None:
        raise RowError(name, f"{name} is required")
    return value


def cell_optional_figure(
    row: dict[str, str], name: str, places: Decimal, *, minimum: Decimal = Decimal(0)
) -> Decimal | None:
    value = cell_decimal(row, name, required=False)
    if value is None:
        return None
    if value < minimum:
        raise RowError(name, f"{name} must not be negative" if minimum == 0 else f"{name} must be positive")
    if abs(value) >= LIMIT:
        raise RowError(name, f"{name} is too large")
    if int(value.normalize().as_tuple().exponent) < int(places.as_tuple().exponent):
        raise RowError(name, f"{name} has more than {-int(places.as_tuple().exponent)} decimals")
    return value


def cell_date(row: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat((row.get(name) or "").strip())
    except ValueError as exc:
        raise RowError(name, f"{name} must be a date like 2018-04-11") from exc


def cell_text(row: dict[str, str], name: str) -> str:
    value = cell_optional_text(row, name)
    if value is None:
        raise RowError(name, f"{name} is required")
    return value


def cell_optional_text(row: dict[str, str], name: str) -> str | None:
    value = (row.get(name) or "").strip()
    if "\x00" in value:
        raise RowError(name, f"{name} must not contain the NUL character")
    return value or None


def cell_choice(row: dict[str, str], name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = cell_optional_text(row, name) or default
    if value not in allowed:
        raise RowError(name, f"{name} must be one of {', '.join(allowed)}")
    return value


def cell_whole(row: dict[str, str], name: str) -> int:
    try:
        value = int(cell_text(row, name))
    except ValueError as exc:
        raise RowError(name, f"{name} must be a whole number") from exc
    if not 0 < value < BIGINT:
        raise RowError(name, f"{name} must be a positive id")
    return value


def cell_yes_no(row: dict[str, str], name: str) -> bool:
    value = (cell_optional_text(row, name) or "false").lower()
    if value not in ("true", "false", "yes", "no", "1", "0"):
        raise RowError(name, f"{name} must be true or false")
    return value in ("true", "yes", "1")


def cell_items(row: dict[str, str], name: str, *, upper: bool = False) -> list[str]:
    """A `;`-separated list, blanks and repeats dropped."""
    cells = (cell_optional_text(row, name) or "").split(";")
    items = [i.strip().upper() if upper else i.strip() for i in cells]
    return list(dict.fromkeys(i for i in items if i))


def cell_document(values: dict[str, Any]) -> dict[str, Any]:
    """Values as an audit document holds them: dates and decimals as strings (a decimal positionally)."""
    return {
        k: v
        if isinstance(v, bool | int | str | list) or v is None
        else plain(v)
        if isinstance(v, Decimal)
        else str(v)
        for k, v in values.items()
    }


def cell_database_field(exc: asyncpg.PostgresError) -> str | None:
    column: str | None = getattr(exc, "column_name", None)
    constraint: str = getattr(exc, "constraint_name", None) or ""
    table: str = getattr(exc, "table_name", None) or ""
    if constraint in CONSTRAINT_FIELDS:
        return CONSTRAINT_FIELDS[constraint]
    if constraint.startswith(f"ck_{table}_"):
        return constraint.removeprefix(f"ck_{table}_")
    return column
