"""Concentration and price risk of a valued book: pure functions in Decimal, each method stated.

- Concentration: holdings are aggregated by security across accounts; largest position, top five and largest
  sector are shares of total value (cash included); the Herfindahl-Hirschman index is the sum of squared
  security weights within the invested part (cash excluded), from 1/n (even) to 1 (one security).
- Price risk: the current quantities (and cash, held flat) valued on each of the last `window` trading days
  of the price history (days on which any held security closed). A day's return is that of what was priced
  the day before: r_t = (V_t - N_t) / V_{t-1} - 1, where N_t is the value of securities priced for the first
  time on day t. A security enters the book on its first close and its days before it are ignored: its first
  price is not a return (otherwise a long window that starts before a security's first price shows a jump).
- Annualised volatility: the sample standard deviation (n - 1) of the daily simple returns times sqrt(252),
  252 trading days a year, as in empyrical and most fact sheets. Maximum drawdown: the worst fall from a
  running peak of the value index the daily returns chain into (1 on the window's first day), so a security
  entering neither lifts a peak nor hides a fall. A missing close is carried forward from the last known one;
  a security with no price in the window is left out and named. Method and references: docs/methodology.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import NamedTuple

from wealthgate.money import rounded
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


class Point(NamedTuple):
    """The book's value on a trading day; `entering` is the part of it brought in by `entered`, the securities
    priced that day for the first time in the window: value, not return."""

    on: date
    value: Decimal
    entering: Decimal = Decimal(0)
    entered: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PriceRisk:
    annualised_volatility: Decimal | None
    max_drawdown: Decimal | None
    observations: int
    first_date: date | None
    last_date: date | None
    left_out: tuple[str, ...]
    priced_from: tuple[tuple[str, date], ...] = ()  # securities first priced inside the window, and when


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
        largest_position=(ranked[0][0], rounded(ranked[0][1] / total, RATIO)) if ranked else None,
        top5_weight=rounded(sum((mv for _, mv in ranked[:5]), Decimal(0)) / total, RATIO),
        hhi=rounded(hhi, RATIO),
        largest_sector=(sector[0], rounded(sector[1] / total, RATIO)) if sector else None,
        cash_share=rounded(v.cash_total / total, RATIO),
    )


def value_series(
    quantities: Mapping[str, Decimal],
    cash: Decimal,
    closes: Mapping[str, Mapping[date, Decimal]],
    window: int,
) -> tuple[list[Point], tuple[str, ...]]:
    """The book's value on each of the last `window` + 1 trading days (dates on which any held security
    closed), closes carried forward, with what securities priced for the first time that day add; securities
    never priced in that span are left out."""
    days = sorted({d for series in closes.values() for d in series})[-(window + 1) :]
    left_out = tuple(sorted(s for s in quantities if not any(d in closes.get(s, {}) for d in days)))
    last: dict[str, Decimal] = {}
    for s in quantities:  # carry in the last close before the window, if any
        before = [d for d in closes.get(s, {}) if days and d < days[0]]
        if before:
            last[s] = closes[s][max(before)]
    series: list[Point] = []
    for d in days:
        # on the first day everything priced is the base, not an entry
        entered = tuple(s for s in quantities if series and s not in last and d in closes.get(s, {}))
        for s in quantities:
            if d in closes.get(s, {}):
                last[s] = closes[s][d]
        value = cash + sum((q * last[s] for s, q in quantities.items() if s in last), Decimal(0))
        entering = sum((quantities[s] * last[s] for s in entered), Decimal(0))
        series.append(Point(d, value, entering, entered))
    return series, left_out


def price_risk(series: Sequence[Point], left_out: tuple[str, ...] = ()) -> PriceRisk:
    priced_from = tuple((s, p.on) for p in series[1:] for s in p.entered)
    returns = [(b.value - b.entering) / a.value - 1 for a, b in pairwise(series) if a.value > 0]
    if len(returns) < 2:
        return PriceRisk(
            None,
            None,
            len(returns),
            series[0].on if series else None,
            series[-1].on if series else None,
            left_out,
            priced_from,
        )
    with localcontext() as ctx:
        ctx.prec = 28
        mean = sum(returns, Decimal(0)) / len(returns)
        variance = sum(((r - mean) ** 2 for r in returns), Decimal(0)) / (len(returns) - 1)
        volatility = rounded(variance.sqrt() * Decimal(TRADING_DAYS).sqrt(), RATIO)
        index = peak = Decimal(1)
        worst = Decimal(0)
        for r in returns:
            index *= 1 + r
            peak = max(peak, index)
            if peak > 0:
                worst = min(worst, index / peak - 1)
    return PriceRisk(
        volatility, rounded(worst, RATIO), len(returns), series[0].on, series[-1].on, left_out, priced_from
    )
