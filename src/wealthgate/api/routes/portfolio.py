"""Portfolio analytics routes: valuation, allocation, drift against the firm's model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from wealthgate.api.deps import request_id_of, require
from wealthgate.api.routes.clients import ClientId
from wealthgate.api.routing import StrictJSONRoute
from wealthgate.auth.principal import Principal
from wealthgate.errors import Invalid
from wealthgate.ledger.replay import Holding as Replayed
from wealthgate.money import plain, to_cents, to_money, to_weight, trimmed
from wealthgate.portfolios import daily, service
from wealthgate.portfolios.analytics import STALE_AFTER_DAYS, Drift, allocation, drift
from wealthgate.portfolios.performance import Returns, months_before, returns
from wealthgate.portfolios.rebalance import Constraints, propose, rebalance_model
from wealthgate.portfolios.risk import TRADING_DAYS, concentration, price_risk, value_series
from wealthgate.portfolios.schemas import RebalanceIn
from wealthgate.suitability import policies
from wealthgate.suitability import policy as rules
from wealthgate.suitability import service as suitability
from wealthgate.suitability.engine import ENGINE_VERSION
from wealthgate.suitability.engine import Trade as Checked

router = APIRouter(route_class=StrictJSONRoute, tags=["portfolio"])
AsOf = Annotated[
    date | None, Query(description="Value the book as of this date (default: the latest close).")
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such client visible to this key"}}


def _s(x: Decimal | None) -> str | None:
    return None if x is None else plain(x)


def _drift_rows(rows: Sequence[Drift]) -> list[dict[str, Any]]:
    return [
        {
            "asset_class": r.asset_class,
            "target": plain(r.target),
            "actual": plain(r.actual),
            "difference": plain(r.difference),
            "band": plain(r.band),
            "in_band": r.in_band,
        }
        for r in rows
    ]


def _q(x: Decimal) -> str:
    """A quantity or price as the context writes it: trailing zeros trimmed, no exponent (10, not 1E+1)."""
    return trimmed(x)


def _fifo(r: Replayed | None, market_value: Decimal | None) -> dict[str, Any]:
    """A holding's figures by FIFO lots, beside the average-cost ones."""
    lots = r.lots if r is not None else []
    cost = to_money(r.fifo_cost_basis if r is not None else Decimal(0))
    return {
        "cost_basis": plain(cost),
        "unrealized_gain": None if market_value is None else plain(market_value - cost),
        "realized_gain": plain(r.fifo_realized_gain if r is not None else Decimal(0)),
        "open_lots": len(lots),
    }


def _lots(r: Replayed | None, price: Decimal | None) -> list[dict[str, Any]]:
    """Open lots, oldest first; each lot's market value is rounded to the cent on its own, so lots' gains may
    differ from the holding's by a few cents in all."""
    return [
        {
            "acquired_on": lot.acquired_on.isoformat() if lot.acquired_on else None,
            "transaction_id": lot.opened_by,
            "quantity": _q(lot.open_quantity),
            "acquired_quantity": _q(lot.quantity),
            "cost_basis": plain(lot.open_cost),
            "unrealized_gain": None
            if price is None
            else plain(to_cents(lot.open_quantity * price) - lot.open_cost),
        }
        for lot in (r.lots if r is not None else [])
    ]


@router.get("/clients/{client_id}/portfolio", summary="Holdings valued as of a date", responses=NOT_FOUND)
async def get_portfolio(
    client_id: ClientId,
    principal: Annotated[Principal, Depends(require("clients:read"))],
    request: Request,
    as_of: AsOf = None,
    lots: Annotated[
        bool, Query(description="List each holding's open FIFO lots (acquired on, quantity, cost, gain).")
    ] = False,
) -> dict[str, Any]:
    """Per holding: quantity, price and its date, market value, weight, cost basis, unrealized and realized
    gain by average cost (`cost_basis_method`), the same by FIFO lots (`fifo`) and, with `lots=true`, the
    open lots; flags (`price_missing`, `price_stale`: older than 5 days); per account and in total; cash. With
    `as_of` the holdings are the ledger replayed to that date and priced at that date's closes."""
    book = await service.load(request.app.state.pool, principal, client_id, as_of, with_realized=True)
    request.app.state.reads.note(principal, client_id, "GET /clients/{id}/portfolio", request_id_of(request))
    v = book.valuation
    total = v.total_value
    replayed = book.replayed or {}
    by_account: dict[int, Decimal] = {}
    for item in v.holdings:
        by_account[item.holding.account_id] = by_account.get(item.holding.account_id, Decimal(0)) + (
            item.market_value or Decimal(0)
        )
    holdings = []
    for i in v.holdings:
        h = i.holding
        r = replayed.get((h.account_id, h.symbol))
        row: dict[str, Any] = {
            "account_id": h.account_id,
            "symbol": h.symbol,
            "name": h.name,
            "asset_class": h.asset_class,
            "quantity": _q(h.quantity),
            "price": None if h.price is None else _q(h.price),
            "price_date": h.price_date.isoformat() if h.price_date else None,
            "market_value": _s(i.market_value),
            "weight": None
            if i.market_value is None or total <= 0
            else plain(to_weight(i.market_value / total)),
            "cost_basis": plain(h.cost_basis),
            "unrealized_gain": _s(i.unrealized_gain),
            "realized_gain": plain(r.realized_gain if r is not None else Decimal(0)),
            "fifo": _fifo(r, i.market_value),
            "flags": list(i.flags),
        }
        if lots:
            row["lots"] = _lots(r, h.price)
        holdings.append(row)
    return {
        "client_id": client_id,
        "as_of": v.as_of.isoformat(),
        "currency": "USD",
        "stale_after_days": STALE_AFTER_DAYS,
        "cost_basis_method": "average",
        "totals": {
            "holdings_value": plain(v.holdings_value),
            "cash": plain(v.cash_total),
            "total_value": plain(total),
            "realized_gain": plain(sum((r.realized_gain for r in replayed.values()), Decimal(0))),
            "fifo": {
                "realized_gain": plain(sum((r.fifo_realized_gain for r in replayed.values()), Decimal(0)))
            },
        },
        "accounts": [
            {
                "id": a,
                "name": book.account_names[a],
                "account_type": v.account_types[a],
                "allows_margin": book.allows_margin.get(a, False),
                "cash": plain(v.cash[a]),
                "holdings_value": plain(by_account.get(a, Decimal(0))),
                "total_value": plain(by_account.get(a, Decimal(0)) + v.cash[a]),
            }
            for a in sorted(v.account_types)
        ],
        "holdings": holdings,
    }


@router.get(
    "/clients/{client_id}/allocation",
    summary="Weights by asset class, sector, region, account type",
    responses=NOT_FOUND,
)
async def get_allocation(
    client_id: ClientId,
    principal: Annotated[Principal, Depends(require("clients:read"))],
    request: Request,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Weights to 6 places, each rounded half away from zero on its own (a set may add up to 1 give or take
    a few millionths). Cash counts as `cash_equivalent`. Holdings without a price are left out and listed in
    `unpriced`."""
    book = await service.load(request.app.state.pool, principal, client_id, as_of)
    request.app.state.reads.note(principal, client_id, "GET /clients/{id}/allocation", request_id_of(request))
    a = allocation(book.valuation)
    return {
        "client_id": client_id,
        "as_of": book.valuation.as_of.isoformat(),
        "total_value": plain(book.valuation.total_value),
        **{f"by_{dim}": {k: plain(w) for k, w in sorted(parts.items())} for dim, parts in a.items()},
        "unpriced": [i.holding.symbol for i in book.valuation.holdings if i.market_value is None],
    }


@router.get(
    "/clients/{client_id}/drift",
    summary="Asset-class drift from the client's model portfolio",
    responses=NOT_FOUND,
)
async def get_drift(
    client_id: ClientId,
    principal: Annotated[Principal, Depends(require("clients:read"))],
    request: Request,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Target, actual, difference and tolerance band per asset class of the model for the client's risk
    profile; `in_band` per class and overall, judged on the exact weights (the figures shown are rounded to
    6 places, so a class just beyond its band may show a difference equal to the band)."""
    book = await service.load(request.app.state.pool, principal, client_id, as_of)
    request.app.state.reads.note(principal, client_id, "GET /clients/{id}/drift", request_id_of(request))
    model = await service.model_for(request.app.state.pool, principal.firm_id, book.risk_profile)
    rows = drift(allocation(book.valuation, exact=True)["asset_class"], model)
    return {
        "client_id": client_id,
        "risk_profile": book.risk_profile,
        "as_of": book.valuation.as_of.isoformat(),
        "in_band": all(r.in_band for r in rows),
        "asset_classes": _drift_rows(rows),
    }


@router.get(
    "/clients/{client_id}/risk", summary="Concentration, volatility and drawdown", responses=NOT_FOUND
)
async def get_risk(
    client_id: ClientId,
    principal: Annotated[Principal, Depends(require("clients:read"))],
    request: Request,
    as_of: AsOf = None,
    window: Annotated[
        int, Query(ge=20, le=2520, description="Trading days of price history.")
    ] = TRADING_DAYS,
) -> dict[str, Any]:
    """Largest position, top-five and largest-sector weights, cash share and Herfindahl-Hirschman index; and,
    from the price history, annualised volatility and maximum drawdown of the current book over `window`
    trading days (default 252, one year); a security first priced inside the window counts from that day
    (`window.priced_from`). The method behind each figure is named in `methods` (docs/methodology.md)."""
    pool = request.app.state.pool
    book = await service.load(pool, principal, client_id, as_of)
    request.app.state.reads.note(principal, client_id, "GET /clients/{id}/risk", request_id_of(request))
    v = book.valuation
    c = concentration(v)
    quantities: dict[str, Decimal] = {}
    for item in v.holdings:
        quantities[item.holding.symbol] = (
            quantities.get(item.holding.symbol, Decimal(0)) + item.holding.quantity
        )
    closes = await service.price_history(pool, sorted(quantities), v.as_of, window)
    series, left_out = value_series(quantities, v.cash_total, closes, window)
    p = price_risk(series, left_out)
    return {
        "client_id": client_id,
        "as_of": v.as_of.isoformat(),
        "largest_position": None
        if c.largest_position is None
        else {"symbol": c.largest_position[0], "weight": str(c.largest_position[1])},
        "top5_weight": str(c.top5_weight),
        "hhi": str(c.hhi),
        "largest_sector": None
        if c.largest_sector is None
        else {"sector": c.largest_sector[0], "weight": str(c.largest_sector[1])},
        "cash_share": str(c.cash_share),
        "annualised_volatility": _s(p.annualised_volatility),
        "max_drawdown": _s(p.max_drawdown),
        "window": {
            "trading_days": p.observations,
            "from": p.first_date.isoformat() if p.first_date else None,
            "to": p.last_date.isoformat() if p.last_date else None,
            "left_out": list(p.left_out),
            "priced_from": {symbol: on.isoformat() for symbol, on in p.priced_from},
        },
        "methods": {
            "weights": "shares of total value (holdings plus cash), securities aggregated across accounts",
            "hhi": "sum of squared security weights within the invested part (cash excluded)",
            "annualised_volatility": "sample standard deviation (n - 1) of daily simple returns x sqrt(252)",
            "max_drawdown": "largest fall from a running peak of the index the daily returns chain into",
            "series": "current quantities and cash held constant, valued at each trading day's closes "
            "(carried forward when missing)",
            "returns": "a day's return is that of what was priced the day before: a security enters on its "
            "first close in the window (`priced_from`), which is not a return",
            "reference": "docs/methodology.md",
        },
    }


@router.post(
    "/clients/{client_id}/rebalance-proposal",
    summary="Trades that bring every asset class into its band, checked against the firm's policy",
    responses={**NOT_FOUND, 409: {"description": "The firm has no suitability policy yet"}},
)
async def propose_rebalance(
    client_id: ClientId,
    principal: Annotated[Principal, Depends(require("clients:read"))],
    request: Request,
    body: RebalanceIn | None = None,
) -> dict[str, Any]:
    """Proposes (never executes) trades toward the model of the client's risk profile, each in an account
    that can pay for it, honouring a cash reserve, a minimum trade size, whole or fractional shares, the
    client's restrictions and profile, and the firm's caps; or, with `liquidate`, sells everything. The firm's
    suitability check runs on the trades before they are returned and never fails them (`suitability`: its
    verdict, rules and policy version); each asset class left outside its band says why (`unresolved`).
    Returns the trades and the allocation, drift and cash projected after them at current prices."""
    constraints_in = body or RebalanceIn()
    async with (
        request.app.state.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        book = await service.load(conn, principal, client_id, None)
        version = await policies.current(conn, principal.firm_id)
        policy = rules.parse(version.content)
        model = rebalance_model(
            policy, book.risk_profile, await service.model_for(conn, principal.firm_id, book.risk_profile)
        )
        universe = await service.candidates(conn)
        # Every candidate is named so the facts carry its rating, complexity and liquidity for the check.
        named = [Checked("buy", c.symbol, quantity=Decimal(0)) for c in universe]
        facts = await suitability.load_facts(conn, principal, client_id, named, policy)
    request.app.state.reads.note(
        principal, client_id, "POST /clients/{id}/rebalance-proposal", request_id_of(request)
    )
    constraints = Constraints(
        cash_reserve=constraints_in.cash_reserve,
        min_trade=constraints_in.min_trade,
        fractional=constraints_in.fractional,
        excluded_symbols=book.excluded_symbols,
        excluded_sectors=book.excluded_sectors,
        liquidate=constraints_in.liquidate,
    )
    p = propose(book.valuation, model, universe, constraints, facts=facts, policy=policy)
    v = book.valuation
    return {
        "client_id": client_id,
        "risk_profile": book.risk_profile,
        "as_of": v.as_of.isoformat(),
        "executes": False,
        "trades": [
            {
                "side": t.side,
                "symbol": t.symbol,
                "asset_class": t.asset_class,
                "quantity": _q(t.quantity),
                "price": _q(t.price),
                "estimated_value": plain(t.estimated_value),
                "account_id": t.account_id,
                "account_type": v.account_types.get(t.account_id),
                "reason": t.reason,
            }
            for t in p.trades
        ],
        "cash": {
            "before": plain(v.cash_total),
            "after": plain(sum(p.cash_after.values(), Decimal(0))),
            "accounts": [
                {
                    "id": a,
                    "account_type": v.account_types.get(a),
                    "before": plain(v.cash.get(a, Decimal(0))),
                    "after": plain(p.cash_after[a]),
                }
                for a in sorted(p.cash_after)
            ],
        },
        "projected_allocation": {k: plain(w) for k, w in sorted(p.projected.items())},
        "projected_drift": _drift_rows(p.projected_drift),
        "in_band": p.in_band,
        "unresolved": [{"asset_class": k, "reason": why} for k, why in sorted(p.unresolved.items())],
        "suitability": {
            "verdict": p.verdict.verdict,
            "policy_version": version.content_hash,
            "policy_version_number": version.version,
            "engine_version": ENGINE_VERSION,
            "as_of": p.verdict.as_of.isoformat(),
            "rules": p.verdict.to_json()["rules"],
        },
        "constraints": {
            "cash_reserve": plain(constraints.cash_reserve),
            "min_trade": plain(constraints.min_trade),
            "fractional": constraints.fractional,
            "liquidate": constraints.liquidate,
            "excluded_symbols": sorted(constraints.excluded_symbols),
            "excluded_sectors": sorted(constraints.excluded_sectors),
        },
        "notes": list(p.notes),
    }


def _returns(r: Returns | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "from": r.start.isoformat(),
        "to": r.end.isoformat(),
        "days": r.days,
        "start_value": plain(to_cents(r.start_value)),
        "end_value": plain(to_cents(r.end_value)),
        "net_external_flows": plain(to_cents(r.net_flows)),
        "inflows": plain(to_cents(r.inflows)),
        "outflows": plain(to_cents(r.outflows)),
        "twr": _s(r.twr),
        "mwr": _s(r.mwr_period),
        "mwr_annualised": _s(r.mwr_annualised),
    }


@router.get(
    "/clients/{client_id}/performance", summary="Time- and money-weighted returns", responses=NOT_FOUND
)
async def get_performance(
    client_id: ClientId,
    principal: Annotated[Principal, Depends(require("clients:read"))],
    request: Request,
    from_date: Annotated[
        date | None, Query(alias="from", description="Default: the first transaction.")
    ] = None,
    to_date: Annotated[date | None, Query(alias="to", description="Default: the latest close.")] = None,
) -> dict[str, Any]:
    """ "How is my portfolio doing?": the time-weighted return (daily valuations chained across every external
    flow: deposits, withdrawals, transfers of securities or cash) and the money-weighted return (IRR of those
    flows) over the period, per account and in total, and over 1M, 3M, YTD, 1Y (calendar months, end-of-month
    aware) and since inception. Returns under a year are not annualised. Method: docs/methodology.md."""
    pool = request.app.state.pool
    client = await service.visible_client(pool, principal, client_id)
    request.app.state.reads.note(
        principal, client_id, "GET /clients/{id}/performance", request_id_of(request)
    )
    end = to_date or client["market_date"] or date.today()  # noqa: DTZ011  (a calendar date)
    if from_date is not None and from_date > end:
        raise Invalid("from must not be after to", field="from")
    days = await daily.series(pool, principal.firm_id, client_id, end)
    total = days.get(daily.TOTAL, [])
    inception = total[0].on if total else end
    start = from_date or inception
    windows = {
        "1M": months_before(end, 1),
        "3M": months_before(end, 3),
        "YTD": date(end.year - 1, 12, 31),
        "1Y": months_before(end, 12),
        "since_inception": inception,
    }
    return {
        "client_id": client_id,
        "as_of": end.isoformat(),
        "period": {
            "total": _returns(returns(daily.window(total, start))),
            "accounts": {
                str(a): _returns(returns(daily.window(s, start))) for a, s in days.items() if a != daily.TOTAL
            },
        },
        "windows": {
            name: _returns(returns(daily.window(total, since)))
            if since >= inception or name == "since_inception"
            else None
            for name, since in windows.items()
        },
        "methods": {
            "twr": "GIPS sub-periods, daily: prod((V_t - E_t) / (V_t-1 + S_t)) - 1; a day with nothing "
            "invested has no return",
            "mwr": "IRR of the start value, the flows and the end value (XIRR, actual/365), by bisection; "
            "annualised from a year on",
            "flows": "external flows are deposits, withdrawals and transfers of securities or cash, a "
            "security at quantity x that day's close; fees, interest and dividends are returns",
            "intraday": "deposits (S_t) at the start of the day, invested from the previous close; "
            "withdrawals and transfers (E_t) at the close; the same for TWR and MWR",
            "windows": "1M, 3M, 1Y: calendar months back from `as_of`, end-of-month aware; YTD: from the "
            "last close of the previous year; each from the last market day on or before its start",
            "valuations": "holdings from the ledger at each day's closes (carried forward), plus cash",
            "reference": "docs/methodology.md",
        },
    }
