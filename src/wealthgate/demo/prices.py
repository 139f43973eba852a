"""Daily prices for the demo: the real CSVs (package data) plus eight synthetic series, all deterministic.

The first four series (`_synthetic`) are drawn exactly as they always were, so the demo book built on them
does not move; the four added for the care obligation's rules (`_care_synthetic`) draw from their own stream.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from wealthgate.demo.securities import STOCK_COLUMNS
from wealthgate.money import to_price

LAST_DATE = date(2018, 4, 11)  # the stock file's last row; everything is valued on one date
SYNTHETIC_START = date(2010, 1, 4)


@dataclass(frozen=True, slots=True)
class PriceHistory:
    """Close per symbol per date, and the trading calendar (dates with a stock row)."""

    closes: dict[str, dict[date, Decimal]]
    calendar: tuple[date, ...]

    def close(self, symbol: str, day: date) -> Decimal | None:
        return self.closes.get(symbol, {}).get(day)

    def rows(self) -> list[tuple[str, date, Decimal]]:
        return [(sym, d, px) for sym, series in self.closes.items() for d, px in series.items()]


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("wealthgate.demo").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def load() -> PriceHistory:
    closes: dict[str, dict[date, Decimal]] = {}
    calendar: list[date] = []
    for row in _read("stock_prices.csv"):
        day = date.fromisoformat(row["date"])
        calendar.append(day)
        for column, value in row.items():
            if column == "date" or not value:
                continue
            closes.setdefault(STOCK_COLUMNS.get(column, column), {})[day] = to_price(Decimal(value))
    for row in _read("spy_prices.csv"):
        day = date.fromisoformat(row["date"])
        if day <= LAST_DATE and row["SPY"]:
            closes.setdefault("SPY", {})[day] = to_price(Decimal(row["SPY"]))
    days = tuple(d for d in calendar if d >= SYNTHETIC_START)
    closes.update(_synthetic(days, closes["SPY"]))
    closes.update(_care_synthetic(days, closes["SPY"]))
    return PriceHistory(closes=closes, calendar=tuple(calendar))


def _synthetic(days: tuple[date, ...], spy: dict[date, Decimal]) -> dict[str, dict[date, Decimal]]:
    mmf = {d: Decimal("1.000000") for d in days}
    agg = _random_walk(days, random.Random(20_180_411), 100.0, 0.00011, 0.0022)
    lev = _daily_reset(days, spy, 2)
    reit = _quarterly_nav(days, Decimal(25), Decimal("1.005"))
    return {"WGMMF": mmf, "WGAGG": agg, "WGLEV": lev, "WGREIT": reit}


def _random_walk(
    days: tuple[date, ...], rng: random.Random, start: float, drift: float, volatility: float
) -> dict[date, Decimal]:
    """A seeded geometric random walk from `start` (a bond fund's price, say)."""
    out: dict[date, Decimal] = {}
    level = start
    for d in days:
        out[d] = to_price(Decimal(repr(round(level, 6))))
        level *= math.exp(drift + volatility * rng.gauss(0.0, 1.0))
    return out


def _quarterly_nav(days: tuple[date, ...], start: Decimal, growth: Decimal) -> dict[date, Decimal]:
    """A NAV struck quarterly: flat within a quarter, `growth` times the last one at each new quarter."""
    out: dict[date, Decimal] = {}
    nav = start
    quarter = None
    for d in days:
        q = (d.year, (d.month - 1) // 3)
        if quarter is not None and q != quarter:
            nav = to_price(nav * growth)
        quarter = q
        out[d] = nav
    return out


def _daily_reset(days: tuple[date, ...], spy: dict[date, Decimal], multiple: int) -> dict[date, Decimal]:
    """A fund that returns `multiple` times SPY's return every day (compounded daily, no fees), from 50.00."""
    out: dict[date, Decimal] = {}
    level = Decimal(50)
    previous: Decimal | None = None
    for d in days:
        today = spy.get(d)
        if today is None:
            continue
        if previous is not None:
            level = level * (1 + multiple * (today / previous - 1))
        out[d] = to_price(level)
        previous = today
    return out


def _care_synthetic(days: tuple[date, ...], spy: dict[date, Decimal]) -> dict[str, dict[date, Decimal]]:
    """WG3X (3x daily SPY), WGINV (-1x daily SPY), WGMUNI (a municipal bond fund: a seeded random walk,
    calmer than WGAGG) and WGPCF (a private credit fund: its NAV, struck quarterly, grows 1.5% a quarter)."""
    muni = _random_walk(days, random.Random(20_261_202), 50.0, 0.00009, 0.0016)
    credit = _quarterly_nav(days, to_price(Decimal(10)), Decimal("1.015"))
    return {
        "WG3X": _daily_reset(days, spy, 3),
        "WGINV": _daily_reset(days, spy, -1),
        "WGMUNI": muni,
        "WGPCF": credit,
    }
