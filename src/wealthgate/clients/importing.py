"""CSV import of clients and accounts (`wealthgate import clients|accounts FILE`); see ledger/importing.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.auth.principal import Principal
from wealthgate.db.sql import Sql
from wealthgate.ledger.csv_cells import (
    RowError,
    cell_choice,
    cell_date,
    cell_document,
    cell_figure,
    cell_items,
    cell_optional_figure,
    cell_optional_text,
    cell_text,
    cell_whole,
    cell_yes_no,
)
from wealthgate.money import MONEY_PLACES
from wealthgate.vocabulary import (
    ACCOUNT_TYPES,
    EXPERIENCE_LEVELS,
    INVESTMENT_OBJECTIVES,
    LIQUIDITY_NEEDS,
    RISK_LEVELS,
    TAX_STATUSES,
    TIME_HORIZONS,
)

_ADVISOR_EXISTS = Sql("SELECT 1 FROM advisors WHERE firm_id = :firm_id AND id = :advisor_id")
# the columns are the keys of an imported client's values (`client_profile` and the two ids)
_INSERT_CLIENT = Sql("""
INSERT INTO clients (firm_id, external_id, advisor_id, name, email, date_of_birth, risk_tolerance,
                     investment_objective, time_horizon, liquidity_needs, annual_income, net_worth,
                     liquid_net_worth, tax_status, marginal_tax_rate, investment_experience, held_away_assets,
                     options_level, margin_approved, excluded_symbols, excluded_sectors)
VALUES (:firm_id, :external_id, :advisor_id, :name, :email, :date_of_birth, :risk_tolerance,
        :investment_objective, :time_horizon, :liquidity_needs, :annual_income, :net_worth,
        :liquid_net_worth, :tax_status, :marginal_tax_rate, :investment_experience, :held_away_assets,
        :options_level, :margin_approved, :excluded_symbols, :excluded_sectors)
ON CONFLICT (firm_id, external_id) DO NOTHING RETURNING id
""")
_CLIENT_BY_EXTERNAL_ID = Sql("SELECT id FROM clients WHERE firm_id = :firm_id AND external_id = :external_id")
_INSERT_ACCOUNT = Sql("""
INSERT INTO accounts (firm_id, client_id, external_id, name, account_type, currency, allows_shorting,
                      allows_margin, opened_on)
VALUES (:firm_id, :client_id, :external_id, :name, :account_type, :currency, :allows_shorting,
        :allows_margin, :opened_on)
ON CONFLICT (firm_id, external_id) DO NOTHING RETURNING id
""")


def client_profile(row: dict[str, str]) -> dict[str, Any]:
    born = cell_date(row, "date_of_birth")
    if born > datetime.now(UTC).date():
        raise RowError("date_of_birth", "date_of_birth must not be in the future")
    email = cell_optional_text(row, "email")
    if email is not None and "@" not in email:
        raise RowError("email", "email must be an address like name@example.com")
    net_worth = cell_figure(row, "net_worth", MONEY_PLACES)
    liquid_net_worth = cell_figure(row, "liquid_net_worth", MONEY_PLACES)
    if net_worth < liquid_net_worth:
        raise RowError("net_worth", "net_worth must be at least liquid_net_worth")
    tax_rate = cell_optional_figure(row, "marginal_tax_rate", MONEY_PLACES)
    if tax_rate is not None and tax_rate > 1:
        raise RowError("marginal_tax_rate", "marginal_tax_rate must be between 0 and 1 (0.24 for 24%)")
    options_level = cell_optional_text(row, "options_level") or "0"
    if options_level not in ("0", "1", "2", "3", "4"):
        raise RowError(
            "options_level", "options_level must be 0 (no options) or an approval level from 1 to 4"
        )
    return {
        "name": cell_text(row, "name"),
        "email": email,
        "date_of_birth": born,
        "risk_tolerance": cell_choice(row, "risk_tolerance", RISK_LEVELS),
        "investment_objective": cell_choice(row, "investment_objective", INVESTMENT_OBJECTIVES),
        "time_horizon": cell_choice(row, "time_horizon", TIME_HORIZONS),
        "liquidity_needs": cell_choice(row, "liquidity_needs", LIQUIDITY_NEEDS),
        "annual_income": cell_figure(row, "annual_income", MONEY_PLACES),
        "net_worth": net_worth,
        "liquid_net_worth": liquid_net_worth,
        "tax_status": cell_choice(row, "tax_status", TAX_STATUSES),
        "marginal_tax_rate": tax_rate,
        "investment_experience": cell_choice(row, "investment_experience", EXPERIENCE_LEVELS),
        # optional columns (Reg BI's care obligation): absent or blank means none held away, no approvals
        "held_away_assets": cell_optional_figure(row, "held_away_assets", MONEY_PLACES) or Decimal(0),
        "options_level": int(options_level),
        "margin_approved": cell_yes_no(row, "margin_approved"),
        "excluded_symbols": cell_items(row, "excluded_symbols", upper=True),
        "excluded_sectors": cell_items(row, "excluded_sectors"),
    }


async def import_client(
    conn: asyncpg.Connection, row: dict[str, str], principal: Principal, actor: dict[str, Any]
) -> bool:
    firm_id = principal.firm_id
    external_id = cell_text(row, "external_id")
    advisor_id = cell_whole(row, "advisor_id")
    profile = client_profile(row)
    if not await _ADVISOR_EXISTS.fetchval(conn, firm_id=firm_id, advisor_id=advisor_id):
        raise RowError("advisor_id", f"unknown advisor {advisor_id}")
    values = {"external_id": external_id, "advisor_id": advisor_id, **profile}
    client_id = await _INSERT_CLIENT.fetchval(conn, firm_id=firm_id, **values)
    if client_id is None:
        return False
    await record(
        conn,
        firm_id=firm_id,
        actor=actor,
        action="client.imported",
        target_type="client",
        target_id=client_id,
        client_id=client_id,
        details=cell_document(values),
    )
    return True


async def import_account(
    conn: asyncpg.Connection, row: dict[str, str], principal: Principal, actor: dict[str, Any]
) -> bool:
    firm_id = principal.firm_id
    external_id = cell_text(row, "external_id")
    client = cell_text(row, "client_external_id")
    currency = (cell_optional_text(row, "currency") or "USD").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise RowError("currency", "currency must be a three-letter ISO 4217 code such as USD")
    values = {
        "external_id": external_id,
        "name": cell_text(row, "name"),
        "account_type": cell_choice(row, "account_type", ACCOUNT_TYPES),
        "currency": currency,
        "allows_shorting": cell_yes_no(row, "allows_shorting"),
        "allows_margin": cell_yes_no(row, "allows_margin"),  # may cash go below zero (ledger/posting.py)
        "opened_on": cell_date(row, "opened_on"),
    }
    client_id = await _CLIENT_BY_EXTERNAL_ID.fetchval(conn, firm_id=firm_id, external_id=client)
    if client_id is None:
        raise RowError("client_external_id", f"unknown client {client}")
    account_id = await _INSERT_ACCOUNT.fetchval(conn, firm_id=firm_id, client_id=client_id, **values)
    if account_id is None:
        return False
    await record(
        conn,
        firm_id=firm_id,
        actor=actor,
        action="account.imported",
        target_type="account",
        target_id=account_id,
        client_id=client_id,
        details=cell_document({"client_external_id": client, **values}),
    )
    return True
