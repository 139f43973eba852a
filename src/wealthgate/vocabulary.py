"""Closed vocabularies shared by the schema, the API and the rules. Stored as text with CHECK constraints."""

from __future__ import annotations

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
TRANSACTION_TYPES = ("buy", "sell", "dividend", "interest", "deposit", "withdrawal", "fee", "transfer")
ASSET_CLASSES = (
    "equity",
    "fixed_income",
    "cash_equivalent",
    "real_estate",
    "commodity",
    "alternative",
    "multi_asset",
)
# A ticker as the security master stores it (the CHECK on securities.symbol is built from this pattern).
SYMBOL_PATTERN = r"^[A-Z0-9][A-Z0-9.\-]{0,14}$"
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
AGENT_SCOPES = ("clients:read", "recommendations:write")
