"""The demo security master carries the products the care obligation's rules are about: leveraged and inverse
funds flagged with their multiple, a bond fund and an illiquid alternative, all synthetic and named so, priced
every trading day to the book's valuation date."""

from __future__ import annotations

from decimal import Decimal

from wealthgate.demo.prices import LAST_DATE, SYNTHETIC_START, load
from wealthgate.demo.securities import SECURITIES

D = Decimal
MASTER = {s.symbol: s for s in SECURITIES}


def test_the_care_products_are_in_the_master_with_their_flags() -> None:
    assert (MASTER["WGLEV"].leverage, MASTER["WG3X"].leverage, MASTER["WGINV"].leverage) == (2, 3, -1)
    assert all(MASTER[s].is_complex for s in ("WGLEV", "WG3X", "WGINV", "WGPCF"))
    assert (MASTER["WGMUNI"].asset_class, MASTER["WGMUNI"].sector) == ("fixed_income", "Municipal Bonds")
    assert (MASTER["WGPCF"].asset_class, MASTER["WGPCF"].liquidity) == ("alternative", "illiquid")
    assert all(s.leverage == 1 for s in SECURITIES if s.symbol not in ("WGLEV", "WG3X", "WGINV"))
    synthetic = [s for s in SECURITIES if s.symbol.startswith("WG")]
    assert len(synthetic) == 8
    assert all(s.name.endswith("(synthetic demo)") for s in synthetic)


def test_every_security_is_priced_on_the_valuation_date() -> None:
    prices = load()
    assert all(prices.close(s.symbol, LAST_DATE) is not None for s in SECURITIES)
    for symbol in ("WG3X", "WGINV", "WGMUNI", "WGPCF"):
        assert min(prices.closes[symbol]) == SYNTHETIC_START


def test_the_daily_reset_funds_move_by_their_multiple_of_spy_each_day() -> None:
    prices = load()
    spy = prices.closes["SPY"]
    days = sorted(d for d in prices.closes["WG3X"] if d in spy)
    for before, day in zip(days[-300:], days[-299:], strict=False):
        index = spy[day] / spy[before] - 1
        for symbol, multiple in (("WG3X", 3), ("WGINV", -1)):
            series = prices.closes[symbol]
            fund = series[day] / series[before] - 1
            # closes are rounded to 6 places, so a day's return is exact to about 1e-6 / price
            assert abs(fund - multiple * index) < D("0.00001"), (symbol, day)
