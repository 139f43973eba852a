"""Pydantic shapes of the client endpoints (documentation of the JSON PostgreSQL builds, and the list)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Restrictions(BaseModel):
    excluded_symbols: list[str]
    excluded_sectors: list[str]


class ClientProfile(BaseModel):
    id: int
    name: str
    risk_profile: str = Field(description="The client's risk tolerance, one of five levels.")
    advisor_id: int
    date_of_birth: date
    age: int
    investment_objective: str
    time_horizon: str
    liquidity_needs: str
    annual_income: str
    net_worth: str
    liquid_net_worth: str
    tax_status: str
    marginal_tax_rate: str | None
    investment_experience: str
    held_away_assets: str = Field(
        description="Assets the client holds elsewhere; they count toward concentration and net-worth tests."
    )
    options_level: int = Field(description="Options approval: 0 none, 1-4 the firm's approval levels.")
    margin_approved: bool = Field(description="Whether the client may borrow on margin.")
    restrictions: Restrictions


class Holding(BaseModel):
    id: int
    client_id: int
    account_id: int
    symbol: str
    name: str
    asset_class: str
    sector: str
    region: str
    risk_rating: int
    quantity: str
    cost_basis: str
    price: str | None
    price_date: date | None
    market_value: str | None
    weight: str | None = Field(description="Share of total value (holdings plus cash), 6 decimals.")


class AccountSummary(BaseModel):
    id: int
    name: str
    account_type: str
    currency: str
    cash: str


class Totals(BaseModel):
    currency: str
    holdings_value: str
    cash: str
    total_value: str
    positions: int
    priced_as_of: date | None


class ClientContext(BaseModel):
    """Everything an agent needs before it reasons about a client; figures are exact decimal strings."""

    client: ClientProfile
    portfolio: list[Holding]
    accounts: list[AccountSummary]
    totals: Totals
    instructions: list[str]


class ClientListItem(BaseModel):
    id: int
    name: str
    risk_profile: str
    advisor_id: int
    investment_objective: str


class ClientList(BaseModel):
    items: list[ClientListItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
