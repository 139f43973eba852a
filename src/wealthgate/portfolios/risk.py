"""Concentration and price risk of a valued book: pure functions in Decimal, each method stated.

- Concentration: holdings are aggregated by security across accounts; largest position, top five and largest
  sector are shares of total value (cash included); the Herfindahl-Hirschman index is the sum of squared
  security weights within the invested part (cash excluded), from 1/n (even) to 1 (one security).
- Price risk: the current quantities (and cash, held flat) valued on each of the last `window` trading days
  of the price history; annualised volatility is the sample standard deviation of daily simple returns times
  sqrt(252); maximum drawdown is the worst fall from a running peak. A missing close is carried forward from
  the last known one; a security with no price in the window is left out and named.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from itertools import pairwise

from wealthgate.portfolios.analytics import Valuation

TRADING_DAYS = 252
RATIO = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Concentration:
    largest_position: tuple[str, Decimal] | None
    top5_weight: Decimal
    hhi: Decimal
    largest_sector: tuple[str, Decimal] | None
    cash_share: Decimal


@dataclass(frozen=True, slots=True)
class PriceRisk:
    annualised_volatility: Decimal | None
    max_drawdown: Decimal | None
    observations: int
    first_date: date | None
    last_date: date | None
    left_out: tuple[str, ...]


def concentration(v: Valuation) -> Concentration:
    total = v.total_value
    by_symbol: dict[str, Decimal] = defaultdict(Decimal)
    by_sector: dict[str, Decimal] = defaultdict(Decimal)
    for item in v.holdings:
        if item.market_value is not None:
            by_symbol[item.holding.symbol] += item.market_value
            by_sector[item.holding.sector] += item.market_value
    if total <= 0:
        return Concentration(None, Decimal(0), Decimal(0), None, Decimal(0))
    ranked = sorted(by_symbol.items(), key=lambda kv: (-kv[1], kv[0]))
    invested = sum(by_symbol.values(), Decimal(0))
    hhi = sum(((mv / invested) ** 2 for mv in by_symbol.values()), Decimal(0)) if invested > 0 else Decimal(0)
    sector = max(by_sector.items(), key=lambda kv: (kv[1], kv[0])) if by_sector else None
    return Concentration(
        largest_position=(ranked[0][0], (ranked[0][1] / total).quantize(RATIO)) if ranked else None,
        top5_weight=(sum((mv for _, mv in ranked[:5]), Decimal(0)) / total).quantize(RATIO),
        hhi=hhi.quantize(RATIO),
        largest_sector=(sector[0], (sector[1] / total).quantize(RATIO)) if sector else None,
        cash_share=(v.cash_total / total).quantize(RATIO),
    )


def value_series(
    quantities: Mapping[str, Decimal],
    cash: Decimal,
    closes: Mapping[str, Mapping[date, Decimal]],
    window: int,
) -> tuple[list[tuple[date, Decimal]], tuple[str, ...]]:
    """The book's value on each of the last `window` + 1 trading days (dates on which any held security
    closed), closes carried forward; securities never priced in that span are left out."""
    days = sorted({d for series in closes.values() for d in series})[-(window + 1) :]
    left_out = tuple(sorted(s for s in quantities if not any(d in closes.get(s, {}) for d in days)))
    last: dict[str, Decimal] = {}
    for s in quantities:  # carry in the last close before the window, if any
        before = [d for d in closes.get(s, {}) if days and d < days[0]]
        if before:
            last[s] = closes[s][max(before)]
    series = []
    for d in days:
        for s in quantities:
            if d in closes.get(s, {}):
                last[s] = closes[s][d]
        series.append((d, cash + sum((q * last[s] for s, q in quantities.items() if s in last), Decimal(0))))
    return series, left_out


def price_risk(series: list[tuple[date, Decimal]], left_out: tuple[str, ...] = ()) -> PriceRisk:
    values = [value for _, value in series]
    returns = [b / a - 1 for a, b in pairwise(values) if a > 0]
    if len(returns) < 2:
        return PriceRisk(
            None,
            None,
            len(returns),
            series[0][0] if series else None,
            series[-1][0] if series else None,
            left_out,
        )
    with localcontext() as ctx:
        ctx.prec = 28
        mean = sum(returns, Decimal(0)) / len(returns)
        variance = sum(((r - mean) ** 2 for r in returns), Decimal(0)) / (len(returns) - 1)
        volatility = (variance.sqrt() * Decimal(TRADING_DAYS).sqrt()).quantize(RATIO)
        peak = values[0]
        worst = Decimal(0)
        for value in values:
            peak = max(peak, value)
            if peak > 0:
                worst = min(worst, value / peak - 1)
    return PriceRisk(volatility, worst.quantize(RATIO), len(returns), series[0][0], series[-1][0], left_out)
