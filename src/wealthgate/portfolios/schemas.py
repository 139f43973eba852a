"""Input of the rebalance proposal, and the bodies of the portfolio routes.

Figures are decimal strings (amounts to the cent or to 4 places as stored, quantities and prices trimmed,
weights to 6 places); dates are ISO text. Fields are listed in the order the bodies carry them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from wealthgate.suitability.schemas import Outcome, RuleOut
from wealthgate.validation import DecimalRule

Money = Annotated[Decimal, DecimalRule(20, 4, "non-negative")]


class RebalanceIn(BaseModel):
    """Constraints of a rebalance proposal; every field may be left out."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"cash_reserve": "5000.00", "min_trade": "250", "fractional": False, "liquidate": False}
            ]
        },
    )

    cash_reserve: Money = Field(default=Decimal(0), description="Cash to keep after the trades.")
    min_trade: Money = Field(default=Decimal(0), description="Leave out trades smaller than this.")
    fractional: bool = Field(default=False, description="Allow fractional shares.")
    liquidate: bool = Field(
        default=False, description="The client asks to go to cash: sell every holding, whatever its size."
    )


class Out(BaseModel):
    """A response body: names as written (`from`, `1M`) are aliases, Python names work too."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)


# ---- GET /clients/{id}/portfolio ---------------------------------------------------------------------------


class Fifo(Out):
    """A holding's figures by FIFO lots."""

    cost_basis: str
    unrealized_gain: str | None
    realized_gain: str
    open_lots: int


class LotOut(Out):
    """One open FIFO lot."""

    acquired_on: str | None
    transaction_id: int | None = Field(description="The transaction that opened the lot.")
    quantity: str = Field(description="Still open.")
    acquired_quantity: str
    cost_basis: str = Field(description="Of the open quantity.")
    unrealized_gain: str | None = Field(
        description="Market value of the open quantity, rounded to the cent per lot, less its cost."
    )


class HoldingOut(Out):
    account_id: int
    symbol: str
    name: str
    asset_class: str
    quantity: str
    price: str | None
    price_date: str | None
    market_value: str | None
    weight: str | None = Field(description="Share of the client's total value (holdings plus cash).")
    cost_basis: str = Field(description="By average cost.")
    unrealized_gain: str | None
    realized_gain: str
    fifo: Fifo
    flags: list[str] = Field(description="`price_missing`, `price_stale`.")
    lots: list[LotOut] | None = Field(
        default=None, exclude_if=lambda v: v is None, description="With `lots=true` only."
    )


class FifoTotals(Out):
    realized_gain: str


class PortfolioTotals(Out):
    holdings_value: str
    cash: str
    total_value: str
    realized_gain: str
    fifo: FifoTotals


class AccountOut(Out):
    id: int
    name: str
    account_type: str
    allows_margin: bool
    cash: str
    holdings_value: str
    total_value: str


class Portfolio(Out):
    client_id: int
    as_of: str
    currency: str
    stale_after_days: int
    cost_basis_method: str
    totals: PortfolioTotals
    accounts: list[AccountOut]
    holdings: list[HoldingOut]


# ---- GET /clients/{id}/allocation --------------------------------------------------------------------------


class Allocation(Out):
    client_id: int
    as_of: str
    total_value: str
    by_asset_class: dict[str, str]
    by_sector: dict[str, str]
    by_region: dict[str, str]
    by_account_type: dict[str, str]
    unpriced: list[str] = Field(description="Symbols left out for want of a price.")


# ---- GET /clients/{id}/drift -------------------------------------------------------------------------------


class DriftRow(Out):
    asset_class: str
    target: str
    actual: str
    difference: str
    band: str
    in_band: bool


class DriftReport(Out):
    client_id: int
    risk_profile: str
    as_of: str
    in_band: bool
    asset_classes: list[DriftRow]


# ---- GET /clients/{id}/risk --------------------------------------------------------------------------------


class PositionWeight(Out):
    symbol: str
    weight: str


class SectorWeight(Out):
    sector: str
    weight: str


class RiskWindow(Out):
    trading_days: int
    from_: str | None = Field(alias="from")
    to: str | None
    left_out: list[str]
    priced_from: dict[str, str] = Field(description="Securities first priced inside the window, and when.")


class RiskMethods(Out):
    weights: str
    hhi: str
    annualised_volatility: str
    max_drawdown: str
    series: str
    returns: str
    reference: str


class Risk(Out):
    client_id: int
    as_of: str
    largest_position: PositionWeight | None
    top5_weight: str
    hhi: str
    largest_sector: SectorWeight | None
    cash_share: str
    annualised_volatility: str | None
    max_drawdown: str | None
    window: RiskWindow
    methods: RiskMethods


# ---- POST /clients/{id}/rebalance-proposal -----------------------------------------------------------------


class ProposedTrade(Out):
    side: str
    symbol: str
    asset_class: str
    quantity: str
    price: str
    estimated_value: str
    account_id: int
    account_type: str | None
    reason: str


class AccountCash(Out):
    id: int
    account_type: str | None
    before: str
    after: str


class ProjectedCash(Out):
    before: str
    after: str
    accounts: list[AccountCash]


class Unresolved(Out):
    asset_class: str
    reason: str


class ProposalCheck(Out):
    """The firm's suitability check of the proposed trades (never `fail`)."""

    verdict: Outcome
    policy_version: str = Field(description="Content hash of the policy applied.")
    policy_version_number: int
    engine_version: str
    as_of: str
    rules: list[RuleOut]


class ConstraintsOut(Out):
    cash_reserve: str
    min_trade: str
    fractional: bool
    liquidate: bool
    excluded_symbols: list[str]
    excluded_sectors: list[str]


class RebalanceProposal(Out):
    client_id: int
    risk_profile: str
    as_of: str
    executes: bool = Field(description="Always false: the trades are proposed, never executed.")
    trades: list[ProposedTrade]
    cash: ProjectedCash
    projected_allocation: dict[str, str]
    projected_drift: list[DriftRow]
    in_band: bool
    unresolved: list[Unresolved]
    suitability: ProposalCheck
    constraints: ConstraintsOut
    notes: list[str]


# ---- GET /clients/{id}/performance -------------------------------------------------------------------------


class ReturnsOut(Out):
    from_: str = Field(alias="from")
    to: str
    days: int
    start_value: str
    end_value: str
    net_external_flows: str
    inflows: str
    outflows: str
    twr: str | None
    mwr: str | None = Field(description="Over the period, not annualised.")
    mwr_annualised: str | None


class Period(Out):
    total: ReturnsOut | None
    accounts: dict[str, ReturnsOut | None] = Field(description="Per account id.")


class Windows(Out):
    """Each window's returns; null when the client's history starts after the window's start."""

    one_month: ReturnsOut | None = Field(alias="1M")
    three_months: ReturnsOut | None = Field(alias="3M")
    year_to_date: ReturnsOut | None = Field(alias="YTD")
    one_year: ReturnsOut | None = Field(alias="1Y")
    since_inception: ReturnsOut | None


class PerformanceMethods(Out):
    twr: str
    mwr: str
    flows: str
    intraday: str
    windows: str
    valuations: str
    reference: str


class Performance(Out):
    client_id: int
    as_of: str
    period: Period
    windows: Windows
    methods: PerformanceMethods
