"""What the portfolio routes answer, as functions of the loaded book: figures formatted as decimal text, per
holding, per account and in total. Pure: the loading is `service.py`'s, the arithmetic the engines'."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from wealthgate.ledger.replay import Holding as Replayed
from wealthgate.money import plain, to_cents, to_money, to_weight, trimmed
from wealthgate.portfolios import analytics, daily
from wealthgate.portfolios.analytics import STALE_AFTER_DAYS, Drift
from wealthgate.portfolios.performance import Day, Returns, months_before, returns
from wealthgate.portfolios.risk import concentration, price_risk, value_series
from wealthgate.portfolios.schemas import (
    AccountOut,
    Allocation,
    DriftReport,
    DriftRow,
    Fifo,
    FifoTotals,
    HoldingOut,
    LotOut,
    Performance,
    PerformanceMethods,
    Period,
    Portfolio,
    PortfolioTotals,
    PositionWeight,
    ReturnsOut,
    Risk,
    RiskMethods,
    RiskWindow,
    SectorWeight,
    Windows,
)
from wealthgate.portfolios.service import ClientBook

ZERO = Decimal(0)


def _s(x: Decimal | None) -> str | None:
    return None if x is None else plain(x)


def _q(x: Decimal) -> str:
    """A quantity or price as the context writes it: trailing zeros trimmed, no exponent (10, not 1E+1)."""
    return trimmed(x)


def _day(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


# ---- portfolio ---------------------------------------------------------------------------------------------


def _fifo(r: Replayed | None, market_value: Decimal | None) -> Fifo:
    """A holding's figures by FIFO lots, beside the average-cost ones."""
    lots = r.lots if r is not None else []
    cost = to_money(r.fifo_cost_basis if r is not None else ZERO)
    return Fifo(
        cost_basis=plain(cost),
        unrealized_gain=None if market_value is None else plain(market_value - cost),
        realized_gain=plain(r.fifo_realized_gain if r is not None else ZERO),
        open_lots=len(lots),
    )


def _lots(r: Replayed | None, price: Decimal | None) -> list[LotOut]:
    """Open lots, oldest first; each lot's market value is rounded to the cent on its own, so lots' gains may
    differ from the holding's by a few cents in all."""
    return [
        LotOut(
            acquired_on=_day(lot.acquired_on),
            transaction_id=lot.opened_by,
            quantity=_q(lot.open_quantity),
            acquired_quantity=_q(lot.quantity),
            cost_basis=plain(lot.open_cost),
            unrealized_gain=None
            if price is None
            else plain(to_cents(lot.open_quantity * price) - lot.open_cost),
        )
        for lot in (r.lots if r is not None else [])
    ]


def portfolio(book: ClientBook, *, lots: bool) -> Portfolio:
    """Holdings valued, with average-cost and FIFO figures (and, with `lots`, the open lots); per account and
    in total; cash."""
    v = book.valuation
    total = v.total_value
    replayed = book.replayed or {}
    by_account: dict[int, Decimal] = {}
    for item in v.holdings:
        account = item.holding.account_id
        by_account[account] = by_account.get(account, ZERO) + (item.market_value or ZERO)
    holdings = []
    for i in v.holdings:
        h = i.holding
        r = replayed.get((h.account_id, h.symbol))
        row = HoldingOut(
            account_id=h.account_id,
            symbol=h.symbol,
            name=h.name,
            asset_class=h.asset_class,
            quantity=_q(h.quantity),
            price=None if h.price is None else _q(h.price),
            price_date=_day(h.price_date),
            market_value=_s(i.market_value),
            weight=None if i.market_value is None or total <= 0 else plain(to_weight(i.market_value / total)),
            cost_basis=plain(h.cost_basis),
            unrealized_gain=_s(i.unrealized_gain),
            realized_gain=plain(r.realized_gain if r is not None else ZERO),
            fifo=_fifo(r, i.market_value),
            flags=list(i.flags),
            lots=_lots(r, h.price) if lots else None,
        )
        holdings.append(row)
    return Portfolio(
        client_id=book.client.id,
        as_of=v.as_of.isoformat(),
        currency="USD",
        stale_after_days=STALE_AFTER_DAYS,
        cost_basis_method="average",
        totals=PortfolioTotals(
            holdings_value=plain(v.holdings_value),
            cash=plain(v.cash_total),
            total_value=plain(total),
            realized_gain=plain(sum((r.realized_gain for r in replayed.values()), ZERO)),
            fifo=FifoTotals(
                realized_gain=plain(sum((r.fifo_realized_gain for r in replayed.values()), ZERO))
            ),
        ),
        accounts=[
            AccountOut(
                id=a,
                name=book.account_names[a],
                account_type=v.account_types[a],
                allows_margin=book.allows_margin.get(a, False),
                cash=plain(v.cash[a]),
                holdings_value=plain(by_account.get(a, ZERO)),
                total_value=plain(by_account.get(a, ZERO) + v.cash[a]),
            )
            for a in sorted(v.account_types)
        ],
        holdings=holdings,
    )


# ---- allocation and drift ----------------------------------------------------------------------------------


def allocation(book: ClientBook) -> Allocation:
    """Weights by asset class, sector, region and account type; holdings without a price left out."""
    v = book.valuation
    parts = {
        dim: {k: plain(w) for k, w in sorted(shares.items())}
        for dim, shares in analytics.allocation(v).items()
    }
    return Allocation(
        client_id=book.client.id,
        as_of=v.as_of.isoformat(),
        total_value=plain(v.total_value),
        by_asset_class=parts["asset_class"],
        by_sector=parts["sector"],
        by_region=parts["region"],
        by_account_type=parts["account_type"],
        unpriced=[i.holding.symbol for i in v.holdings if i.market_value is None],
    )


def drift_rows(rows: Sequence[Drift]) -> list[DriftRow]:
    return [
        DriftRow(
            asset_class=r.asset_class,
            target=plain(r.target),
            actual=plain(r.actual),
            difference=plain(r.difference),
            band=plain(r.band),
            in_band=r.in_band,
        )
        for r in rows
    ]


def drift(book: ClientBook, model: dict[str, tuple[Decimal, Decimal]]) -> DriftReport:
    """Drift per asset class from `model`, judged on the exact weights."""
    rows = analytics.drift(analytics.allocation(book.valuation, exact=True)["asset_class"], model)
    return DriftReport(
        client_id=book.client.id,
        risk_profile=book.client.risk_profile,
        as_of=book.valuation.as_of.isoformat(),
        in_band=all(r.in_band for r in rows),
        asset_classes=drift_rows(rows),
    )


# ---- risk --------------------------------------------------------------------------------------------------

RISK_METHODS = RiskMethods(
    weights="shares of total value (holdings plus cash), securities aggregated across accounts",
    hhi="sum of squared security weights within the invested part (cash excluded)",
    annualised_volatility="sample standard deviation (n - 1) of daily simple returns x sqrt(252)",
    max_drawdown="largest fall from a running peak of the index the daily returns chain into",
    series="current quantities and cash held constant, valued at each trading day's closes "
    "(carried forward when missing)",
    returns="a day's return is that of what was priced the day before: a security enters on its "
    "first close in the window (`priced_from`), which is not a return",
    reference="docs/methodology.md",
)


def risk(book: ClientBook, closes: dict[str, dict[date, Decimal]], window: int) -> Risk:
    """Concentration of the book, and volatility and drawdown of its value over `window` trading days of
    `closes`, current quantities and cash held constant."""
    v = book.valuation
    c = concentration(v)
    quantities: dict[str, Decimal] = {}
    for item in v.holdings:
        quantities[item.holding.symbol] = quantities.get(item.holding.symbol, ZERO) + item.holding.quantity
    series, left_out = value_series(quantities, v.cash_total, closes, window)
    p = price_risk(series, left_out)
    return Risk(
        client_id=book.client.id,
        as_of=v.as_of.isoformat(),
        largest_position=None
        if c.largest_position is None
        else PositionWeight(symbol=c.largest_position[0], weight=str(c.largest_position[1])),
        top5_weight=str(c.top5_weight),
        hhi=str(c.hhi),
        largest_sector=None
        if c.largest_sector is None
        else SectorWeight(sector=c.largest_sector[0], weight=str(c.largest_sector[1])),
        cash_share=str(c.cash_share),
        annualised_volatility=_s(p.annualised_volatility),
        max_drawdown=_s(p.max_drawdown),
        window=RiskWindow(
            trading_days=p.observations,
            from_=_day(p.first_date),
            to=_day(p.last_date),
            left_out=list(p.left_out),
            priced_from={symbol: on.isoformat() for symbol, on in p.priced_from},
        ),
        methods=RISK_METHODS,
    )


# ---- performance -------------------------------------------------------------------------------------------

PERFORMANCE_METHODS = PerformanceMethods(
    twr="GIPS sub-periods, daily: prod((V_t - E_t) / (V_t-1 + S_t)) - 1; a day with nothing invested has no "
    "return",
    mwr="IRR of the start value, the flows and the end value (XIRR, actual/365), by bisection; annualised "
    "from a year on",
    flows="external flows are deposits, withdrawals and transfers of securities or cash, a security at "
    "quantity x that day's close; fees, interest and dividends are returns",
    intraday="deposits (S_t) at the start of the day, invested from the previous close; withdrawals and "
    "transfers (E_t) at the close; the same for TWR and MWR",
    windows="1M, 3M, 1Y: calendar months back from `as_of`, end-of-month aware; YTD: from the last close of "
    "the previous year; each from the last market day on or before its start",
    valuations="holdings from the ledger at each day's closes (carried forward), plus cash",
    reference="docs/methodology.md",
)


def _returns(r: Returns | None) -> ReturnsOut | None:
    if r is None:
        return None
    return ReturnsOut(
        from_=r.start.isoformat(),
        to=r.end.isoformat(),
        days=r.days,
        start_value=plain(to_cents(r.start_value)),
        end_value=plain(to_cents(r.end_value)),
        net_external_flows=plain(to_cents(r.net_flows)),
        inflows=plain(to_cents(r.inflows)),
        outflows=plain(to_cents(r.outflows)),
        twr=_s(r.twr),
        mwr=_s(r.mwr_period),
        mwr_annualised=_s(r.mwr_annualised),
    )


def performance(client_id: int, end: date, start: date | None, days: dict[int, list[Day]]) -> Performance:
    """Returns over the period from `start` (default: inception) to `end`, per account and in total, and over
    the standard windows back from `end`; a window that starts before the client's history is null."""
    total = days.get(daily.TOTAL, [])
    inception = total[0].on if total else end

    def over(since: date, *, always: bool = False) -> ReturnsOut | None:
        return _returns(returns(daily.window(total, since))) if since >= inception or always else None

    return Performance(
        client_id=client_id,
        as_of=end.isoformat(),
        period=Period(
            total=_returns(returns(daily.window(total, start or inception))),
            accounts={
                str(a): _returns(returns(daily.window(s, start or inception)))
                for a, s in days.items()
                if a != daily.TOTAL
            },
        ),
        windows=Windows(
            one_month=over(months_before(end, 1)),
            three_months=over(months_before(end, 3)),
            year_to_date=over(date(end.year - 1, 12, 31)),
            one_year=over(months_before(end, 12)),
            since_inception=over(inception, always=True),
        ),
        methods=PERFORMANCE_METHODS,
    )
