"""Output of the security search (`GET /securities`): the security master as agents read it."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from wealthgate.vocabulary import AssetClass


class SecurityItem(BaseModel):
    """One security; figures are exact decimal strings."""

    symbol: str
    name: str
    asset_class: AssetClass
    sector: str
    region: str
    risk_rating: int = Field(description="Product risk rating, 1 (lowest) to 5.")
    is_complex: bool = Field(description="A complex or leveraged product.")
    leverage: str = Field(
        description="The daily multiple a fund targets: 1 ordinary, 2 or 3 leveraged, <0 inverse."
    )
    liquidity: str
    currency: str
    latest_price: str | None
    latest_price_date: date | None


class SecurityPage(BaseModel):
    """One keyset page: pass `next_cursor` back as `cursor` until it is null."""

    items: list[SecurityItem]
    next_cursor: str | None
