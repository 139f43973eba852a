"""Input of the rebalance proposal."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from wealthgate.validation import DecimalText

Money = Annotated[DecimalText, Field(ge=0, max_digits=20, decimal_places=4)]


class RebalanceIn(BaseModel):
    """Constraints of a rebalance proposal; every field may be left out."""

    model_config = ConfigDict(strict=True, extra="forbid")

    cash_reserve: Money = Field(default=Decimal(0), description="Cash to keep after the trades.")
    min_trade: Money = Field(default=Decimal(0), description="Leave out trades smaller than this.")
    fractional: bool = Field(default=False, description="Allow fractional shares.")
    liquidate: bool = Field(
        default=False, description="The client asks to go to cash: sell every holding, whatever its size."
    )
