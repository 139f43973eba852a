"""Portfolio analytics routes: valuation, allocation, drift against the firm's model, risk, performance and
the rebalance proposal. Each reads in one snapshot (`AgentReadConn`: on a replica when one has replayed the
caller's writes): the scoped lookup, the book, then the report (`portfolios/report.py`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wealthgate.api.conditional import ETAG_HEADER, NOT_MODIFIED, IfNoneMatch, json_document
from wealthgate.api.deps import AgentReadConn, Reader, Reads, request_id_of
from wealthgate.api.routes.clients import ClientId
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.portfolios import daily, proposal, report, service
from wealthgate.portfolios.risk import TRADING_DAYS
from wealthgate.portfolios.schemas import (
    Allocation,
    DriftReport,
    Performance,
    Portfolio,
    RebalanceIn,
    RebalanceProposal,
    Risk,
)
from wealthgate.validation import Day

router = APIRouter(route_class=StrictJSONRoute, tags=["portfolio"])
AsOf = Annotated[Day | None, Query(description="Value the book as of this date (default: the latest close).")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such client visible to this key"}}


@router.get(
    "/clients/{client_id}/portfolio",
    summary="Holdings valued as of a date",
    response_model=Portfolio,
    responses={**NOT_FOUND, **NOT_MODIFIED, 200: {"description": "The portfolio", "headers": ETAG_HEADER}},
)
async def get_portfolio(
    client_id: ClientId,
    principal: Reader,
    conn: AgentReadConn,
    reads: Reads,
    request: Request,
    as_of: AsOf = None,
    lots: Annotated[
        bool, Query(description="List each holding's open FIFO lots (acquired on, quantity, cost, gain).")
    ] = False,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Per holding: quantity, price and its date, market value, weight, cost basis, unrealized and realized
    gain by average cost (`cost_basis_method`), the same by FIFO lots (`fifo`) and, with `lots=true`, the
    open lots; flags (`price_missing`, `price_stale`: older than 5 days); per account and in total; cash. With
    `as_of` the holdings are the ledger replayed to that date and priced at that date's closes. A strong
    `ETag` comes with it; `If-None-Match` answers 304 while the document is unchanged."""
    client = await service.find(conn, principal, client_id)
    book = await service.load(conn, client, as_of, with_realized=True)
    reads.note(principal, client_id, "GET /clients/{id}/portfolio", request_id_of(request))
    return json_document(report.portfolio(book, lots=lots).model_dump_json().encode(), if_none_match)


@router.get(
    "/clients/{client_id}/allocation",
    summary="Weights by asset class, sector, region, account type",
    response_model=Allocation,
    responses=NOT_FOUND,
)
async def get_allocation(
    client_id: ClientId,
    principal: Reader,
    conn: AgentReadConn,
    reads: Reads,
    request: Request,
    as_of: AsOf = None,
) -> Allocation:
    """Weights to 6 places, each rounded half away from zero on its own (a set may add up to 1 give or take
    a few millionths). Cash counts as `cash_equivalent`. Holdings without a price are left out and listed in
    `unpriced`."""
    client = await service.find(conn, principal, client_id)
    book = await service.load(conn, client, as_of)
    reads.note(principal, client_id, "GET /clients/{id}/allocation", request_id_of(request))
    return report.allocation(book)


@router.get(
    "/clients/{client_id}/drift",
    summary="Asset-class drift from the client's model portfolio",
    response_model=DriftReport,
    responses=NOT_FOUND,
)
async def get_drift(
    client_id: ClientId,
    principal: Reader,
    conn: AgentReadConn,
    reads: Reads,
    request: Request,
    as_of: AsOf = None,
) -> DriftReport:
    """Target, actual, difference and tolerance band per asset class of the model for the client's risk
    profile; `in_band` per class and overall, judged on the exact weights (the figures shown are rounded to
    6 places, so a class just beyond its band may show a difference equal to the band)."""
    client = await service.find(conn, principal, client_id)
    book = await service.load(conn, client, as_of)
    reads.note(principal, client_id, "GET /clients/{id}/drift", request_id_of(request))
    return report.drift(book, await service.model_for(conn, client))


@router.get(
    "/clients/{client_id}/risk",
    summary="Concentration, volatility and drawdown",
    response_model=Risk,
    responses=NOT_FOUND,
)
async def get_risk(
    client_id: ClientId,
    principal: Reader,
    conn: AgentReadConn,
    reads: Reads,
    request: Request,
    as_of: AsOf = None,
    window: Annotated[
        int, Query(ge=20, le=2520, description="Trading days of price history.")
    ] = TRADING_DAYS,
) -> Risk:
    """Largest position, top-five and largest-sector weights, cash share and Herfindahl-Hirschman index; and,
    from the price history, annualised volatility and maximum drawdown of the current book over `window`
    trading days (default 252, one year); a security first priced inside the window counts from that day
    (`window.priced_from`). The method behind each figure is named in `methods` (docs/methodology.md)."""
    client = await service.find(conn, principal, client_id)
    book = await service.load(conn, client, as_of)
    reads.note(principal, client_id, "GET /clients/{id}/risk", request_id_of(request))
    closes = await service.price_history(conn, book.valuation, window)
    return report.risk(book, closes, window)


@router.post(
    "/clients/{client_id}/rebalance-proposal",
    summary="Trades that bring every asset class into its band, checked against the firm's policy",
    response_model=RebalanceProposal,
    responses={**NOT_FOUND, 409: {"description": "The firm has no suitability policy yet"}},
)
async def propose_rebalance(
    client_id: ClientId,
    principal: Reader,
    conn: AgentReadConn,
    reads: Reads,
    request: Request,
    body: RebalanceIn | None = None,
) -> RebalanceProposal:
    """Proposes (never executes) trades toward the model of the client's risk profile, each in an account
    that can pay for it, honouring a cash reserve, a minimum trade size, whole or fractional shares, the
    client's restrictions and profile, and the firm's caps; or, with `liquidate`, sells everything. The firm's
    suitability check runs on the trades before they are returned and never fails them (`suitability`: its
    verdict, rules and policy version); each asset class left outside its band says why (`unresolved`).
    Returns the trades and the allocation, drift and cash projected after them at current prices."""
    client = await service.find(conn, principal, client_id)
    case = await proposal.load(conn, client)
    reads.note(principal, client_id, "POST /clients/{id}/rebalance-proposal", request_id_of(request))
    return proposal.report(case, body or RebalanceIn())


@router.get(
    "/clients/{client_id}/performance",
    summary="Time- and money-weighted returns",
    response_model=Performance,
    responses=NOT_FOUND,
)
async def get_performance(
    client_id: ClientId,
    principal: Reader,
    conn: AgentReadConn,
    reads: Reads,
    request: Request,
    from_date: Annotated[
        Day | None, Query(alias="from", description="Default: the first transaction.")
    ] = None,
    to_date: Annotated[Day | None, Query(alias="to", description="Default: the latest close.")] = None,
) -> Performance:
    """ "How is my portfolio doing?": the time-weighted return (daily valuations chained across every external
    flow: deposits, withdrawals, transfers of securities or cash) and the money-weighted return (IRR of those
    flows) over the period, per account and in total, and over 1M, 3M, YTD, 1Y (calendar months, end-of-month
    aware) and since inception. Returns under a year are not annualised. Method: docs/methodology.md."""
    client = await service.find(conn, principal, client_id)
    reads.note(principal, client_id, "GET /clients/{id}/performance", request_id_of(request))
    end = service.period_end(client, from_date, to_date)
    days = await daily.series(conn, client.visible, end)
    return report.performance(client_id, end, from_date, days)
