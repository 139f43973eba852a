"""What a suitability check is judged on (facts), what it judges (trades), and what it answers (a verdict).

Plain frozen values, no I/O. Every field added after the first engine version has a default, so facts stored
by an older version still load (`snapshot.facts_from_json`) and callers that build facts by hand keep working.
A default means "not recorded": the rules that need such a figure send the trade to a person, never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

ONE = Decimal(1)
OUTCOMES = ("pass", "needs_review", "fail")


@dataclass(frozen=True, slots=True)
class Security:
    symbol: str
    name: str
    asset_class: str
    sector: str
    risk_rating: int
    is_complex: bool
    liquidity: str
    price: Decimal
    price_date: date
    # the daily multiple a fund targets: 1 ordinary; 2, 3 leveraged; -1..-3 inverse (reset daily)
    leverage: Decimal = ONE

    @property
    def leveraged(self) -> bool:
        """A leveraged or inverse fund: its daily multiple is not 1."""
        return self.leverage != ONE

    @property
    def complex(self) -> bool:
        """Complex for the care rules: flagged so in the master, or leveraged or inverse (FINRA RN 09-31)."""
        return self.is_complex or self.leveraged


@dataclass(frozen=True, slots=True)
class Profile:
    risk_level: str
    age: int
    time_horizon: str
    liquidity_needs: str
    investment_experience: str
    excluded_symbols: frozenset[str]
    excluded_sectors: frozenset[str]
    # read from engine 2026-12-02.1 on; None is "not recorded"
    investment_objective: str | None = None
    annual_income: Decimal | None = None
    net_worth: Decimal | None = None
    liquid_net_worth: Decimal | None = None
    tax_status: str | None = None
    held_away_assets: Decimal = Decimal(0)
    options_level: int = 0  # 0 none; 1-4 the firm's approval levels
    margin_approved: bool = False


@dataclass(frozen=True, slots=True)
class Activity:
    """The client's trading over the policy's turnover window ending on the data date (reversed pairs left
    out): gross purchases, costs (trade fees and advisory fees) and average equity (sampled every 30 days)."""

    window_days: int
    purchases: Decimal
    costs: Decimal
    average_equity: Decimal


@dataclass(frozen=True, slots=True)
class Facts:
    as_of: date
    profile: Profile
    positions: Mapping[str, Decimal]  # client-level quantity per symbol
    cash: Decimal
    securities: Mapping[str, Security]  # every held and traded symbol
    recent_trades: int  # the client's buys and sells in the policy window before as_of
    margin_account: bool = False  # some account of the client allows margin
    activity: Activity | None = None  # None: not measured


@dataclass(frozen=True, slots=True)
class Trade:
    side: str  # "buy" | "sell"
    symbol: str
    quantity: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str
    outcome: str
    threshold: Any
    value: Any
    explanation: str


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str
    rules: tuple[RuleResult, ...]
    as_of: date

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "rules": [
                {
                    "rule": r.rule,
                    "outcome": r.outcome,
                    "threshold": r.threshold,
                    "value": r.value,
                    "explanation": r.explanation,
                }
                for r in self.rules
            ],
            "as_of": self.as_of.isoformat(),
        }
