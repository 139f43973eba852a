"""Closed vocabularies shared by the schema, the API, the rules and the agent tools, each written once here.
Stored as text with CHECK constraints. Where a type checker or pydantic needs the vocabulary as a type it is a
`Literal` and the tuple is read from it (`get_args`), so the two cannot disagree.
"""

from __future__ import annotations

from typing import Literal, get_args

RISK_LEVELS = (
    "conservative",
    "moderately_conservative",
    "moderate",
    "moderately_aggressive",
    "aggressive",
)
INVESTMENT_OBJECTIVES = ("capital_preservation", "income", "growth_and_income", "growth", "speculation")
TIME_HORIZONS = ("short", "medium", "long")  # under 3 years, 3-10 years, over 10 years
LIQUIDITY_NEEDS = ("low", "medium", "high")
TAX_STATUSES = ("taxable", "tax_exempt")
EXPERIENCE_LEVELS = ("none", "limited", "moderate", "extensive")

ACCOUNT_TYPES = ("taxable", "ira", "roth_ira", "joint", "trust", "401k", "custodial", "corporate")
TransactionType = Literal["buy", "sell", "dividend", "interest", "deposit", "withdrawal", "fee", "transfer"]
TRANSACTION_TYPES: tuple[TransactionType, ...] = get_args(TransactionType)
TYPES_WITH_SYMBOL: tuple[TransactionType, ...] = ("buy", "sell", "dividend", "transfer")  # name a security
AssetClass = Literal[
    "equity", "fixed_income", "cash_equivalent", "real_estate", "commodity", "alternative", "multi_asset"
]
ASSET_CLASSES: tuple[AssetClass, ...] = get_args(AssetClass)
TradeSide = Literal["buy", "sell"]
# A ticker as the security master stores it (the CHECK on securities.symbol is built from this pattern).
SYMBOL_PATTERN = r"^[A-Z0-9][A-Z0-9.\-]{0,14}$"
# A ticker as a caller may type it in a proposed trade: any case, upper-cased before use.
SYMBOL_INPUT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,14}$"
SECURITY_LIQUIDITY = ("high", "medium", "low", "illiquid")

VERDICTS = ("pass", "fail", "needs_review")
RECOMMENDATION_STATUSES = (
    "proposed",
    "blocked",
    "needs_review",
    "approved",
    "rejected",
    "executed",
    "expired",
)

SCOPES = ("clients:read", "recommendations:write", "compliance:review", "admin")
USER_ROLES = ("admin", "compliance", "advisor")  # the people who sign in (people/models.py)
AGENT_SCOPES = ("clients:read", "recommendations:write")
