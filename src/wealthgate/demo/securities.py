"""The demo security master: 21 real US securities plus 8 synthetic ones named as such.

The synthetic ones fill what the real price files lack (see data/README.md): a money market fund, two bond
funds, a non-traded REIT, a private credit fund (an illiquid alternative), and three daily-reset funds on SPY:
2x and 3x leveraged and -1x inverse, flagged with their `leverage` and as complex products.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class SecurityRow:
    symbol: str
    name: str
    asset_class: str
    sector: str
    region: str
    risk_rating: int
    is_complex: bool = False
    liquidity: str = "high"
    leverage: Decimal = Decimal(1)  # the daily multiple: 2, 3 leveraged; -1 inverse


US = "North America"
SECURITIES: tuple[SecurityRow, ...] = (
    SecurityRow("AAPL", "Apple Inc.", "equity", "Information Technology", US, 4),
    SecurityRow("AMD", "Advanced Micro Devices Inc.", "equity", "Information Technology", US, 5),
    SecurityRow("AMZN", "Amazon.com Inc.", "equity", "Consumer Discretionary", US, 4),
    SecurityRow(
        "BABA", "Alibaba Group Holding Ltd. ADR", "equity", "Consumer Discretionary", "Asia Pacific", 5
    ),
    SecurityRow("BAC", "Bank of America Corp.", "equity", "Financials", US, 4),
    SecurityRow("BBY", "Best Buy Co. Inc.", "equity", "Consumer Discretionary", US, 4),
    SecurityRow("GE", "General Electric Co.", "equity", "Industrials", US, 4),
    SecurityRow("GM", "General Motors Co.", "equity", "Consumer Discretionary", US, 4),
    SecurityRow("GOOG", "Alphabet Inc. Class C", "equity", "Communication Services", US, 4),
    SecurityRow("JPM", "JPMorgan Chase & Co.", "equity", "Financials", US, 3),
    SecurityRow("MA", "Mastercard Inc.", "equity", "Financials", US, 3),
    SecurityRow(
        "META", "Meta Platforms Inc. (Facebook at the time)", "equity", "Communication Services", US, 4
    ),
    SecurityRow("PFE", "Pfizer Inc.", "equity", "Health Care", US, 3),
    SecurityRow("RRC", "Range Resources Corp.", "equity", "Energy", US, 5),
    SecurityRow("SBUX", "Starbucks Corp.", "equity", "Consumer Discretionary", US, 3),
    SecurityRow(
        "SHLD", "Sears Holdings Corp.", "equity", "Consumer Discretionary", US, 5, liquidity="medium"
    ),
    SecurityRow("SPY", "SPDR S&P 500 ETF Trust", "equity", "Diversified", US, 3),
    SecurityRow("T", "AT&T Inc.", "equity", "Communication Services", US, 3),
    SecurityRow("UAA", "Under Armour Inc. Class A", "equity", "Consumer Discretionary", US, 5),
    SecurityRow("WMT", "Walmart Inc.", "equity", "Consumer Staples", US, 3),
    SecurityRow("XOM", "Exxon Mobil Corp.", "equity", "Energy", US, 3),
    SecurityRow("WGMMF", "Government Money Market Fund (synthetic demo)", "cash_equivalent", "Cash", US, 1),
    SecurityRow("WGAGG", "Aggregate Bond Index Fund (synthetic demo)", "fixed_income", "Diversified", US, 2),
    SecurityRow(
        "WGLEV",
        "2x Daily S&P 500 Leveraged ETF (synthetic demo)",
        "equity",
        "Diversified",
        US,
        5,
        is_complex=True,
        leverage=Decimal(2),
    ),
    SecurityRow(
        "WG3X",
        "3x Daily S&P 500 Leveraged ETF (synthetic demo)",
        "equity",
        "Diversified",
        US,
        5,
        is_complex=True,
        leverage=Decimal(3),
    ),
    SecurityRow(
        "WGINV",
        "-1x Daily S&P 500 Inverse ETF (synthetic demo)",
        "equity",
        "Diversified",
        US,
        5,
        is_complex=True,
        leverage=Decimal(-1),
    ),
    SecurityRow(
        "WGMUNI", "National Municipal Bond Fund (synthetic demo)", "fixed_income", "Municipal Bonds", US, 2
    ),
    SecurityRow(
        "WGPCF",
        "Private Credit Fund, quarterly redemptions (synthetic demo)",
        "alternative",
        "Private Credit",
        US,
        4,
        is_complex=True,
        liquidity="illiquid",
    ),
    SecurityRow(
        "WGREIT",
        "Non-traded Real Estate Income Trust (synthetic demo)",
        "real_estate",
        "Real Estate",
        US,
        4,
        liquidity="illiquid",
    ),
)

STOCK_COLUMNS = {"FB": "META"}  # CSV column -> ticker loaded
STOCKS = tuple(
    s.symbol
    for s in SECURITIES
    if s.asset_class == "equity" and not s.symbol.startswith("WG") and s.symbol != "SPY"
)
