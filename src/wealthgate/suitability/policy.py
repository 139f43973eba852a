"""A firm's suitability policy: plain data, validated, canonical, content-hashed.

The policy is a JSON document (YAML for people; see docs/suitability.md). Every threshold the rules use lives
here, so changing a threshold is a new policy version, never a code change. Decimals are strings.
`content_hash` is SHA-256 over the canonical form (keys sorted, decimals normalised), so the same policy
always has the same hash whatever the spelling of its file.

Settings added after the first version (`CARE_SETTINGS`, for Reg BI's care obligation) are optional: a
document that lacks one takes its default, so every document published before they existed still validates
and keeps its hash (the hash is over the document as published; defaults are not written into it). A released
default is never changed: a different default is a new engine version, so a replay reads the policy as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from wealthgate.errors import Invalid
from wealthgate.vocabulary import (
    ASSET_CLASSES,
    EXPERIENCE_LEVELS,
    INVESTMENT_OBJECTIVES,
    LIQUIDITY_NEEDS,
    RISK_LEVELS,
    SECURITY_LIQUIDITY,
    SYMBOL_PATTERN,
    TIME_HORIZONS,
)

# Sectors of funds that spread their own risk: exempt from the caps (a leveraged fund is not, see the rules).
FUND_SECTORS = ("Diversified", "Cash", "Municipal Bonds")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_SYMBOL = re.compile(SYMBOL_PATTERN)

DEFAULT: dict[str, Any] = {
    "max_product_risk": {
        "conservative": 2,
        "moderately_conservative": 3,
        "moderate": 4,
        "moderately_aggressive": 5,
        "aggressive": 5,
    },
    "single_position_cap": "0.20",
    "sector_cap": "0.40",
    "cap_exempt_sectors": list(FUND_SECTORS),
    "asset_class_bands": {},
    "restricted_symbols": [],
    "complex_products": {
        "min_experience": "extensive",
        "risk_levels": ["moderately_aggressive", "aggressive"],
    },
    "illiquid_products": {
        "liquidity": ["low", "illiquid"],
        "blocked_for_liquidity_needs": ["high"],
        "max_share": "0.10",
    },
    "equity_by_time_horizon": {"short": "0.35", "medium": "0.70", "long": "1.00"},
    "equity_by_age": {"from_age": 75, "max_share": "0.60"},
    "trade_frequency": {"window_days": 30, "max_trades": 12},
    # Reg BI's care obligation (engine 2026-12-02.1); optional in a document, these are the defaults
    "investment_objective": {
        "max_product_risk": {
            "capital_preservation": 2,
            "income": 3,
            "growth_and_income": 4,
            "growth": 5,
            "speculation": 5,
        },
        "no_complex_products": ["capital_preservation", "income"],
    },
    "complex_by_age_and_horizon": {"from_age": 70, "time_horizons": ["short"]},
    "leveraged_funds": {"holding_period_days": 1},
    "options_products": {},
    "margin": {"max_loan_share": "0.50"},
    "accredited_investor": {
        "asset_classes": ["alternative"],
        "liquidity": ["illiquid"],
        "min_net_worth": "1000000",
        "min_annual_income": "200000",
    },
    "tax_exempt_income": {"sectors": ["Municipal Bonds"]},
    "trade_size": {"max_share_of_liquid_net_worth": "0.25"},
    "concentration": {"include_held_away_assets": True, "max_position_share_of_net_worth": "0.10"},
    "turnover": {
        "window_days": 365,
        "review_turnover": "4",
        "fail_turnover": "6",
        "review_cost_equity": "0.12",
        "fail_cost_equity": "0.20",
    },
}
CARE_SETTINGS = (
    "investment_objective",
    "complex_by_age_and_horizon",
    "leveraged_funds",
    "options_products",
    "margin",
    "accredited_investor",
    "tax_exempt_income",
    "trade_size",
    "concentration",
    "turnover",
)


@dataclass(frozen=True, slots=True)
class Band:
    target: Decimal
    band: Decimal


@dataclass(frozen=True, slots=True)
class Policy:
    max_product_risk: Mapping[str, int]
    single_position_cap: Decimal
    sector_cap: Decimal
    cap_exempt_sectors: frozenset[str]
    asset_class_bands: Mapping[str, Mapping[str, Band]]
    restricted_symbols: frozenset[str]
    complex_min_experience: str
    complex_risk_levels: frozenset[str]
    illiquid_liquidity: frozenset[str]
    illiquid_blocked_needs: frozenset[str]
    illiquid_max_share: Decimal
    equity_by_time_horizon: Mapping[str, Decimal]
    equity_age_from: int
    equity_age_max_share: Decimal
    frequency_window_days: int
    frequency_max_trades: int
    # the care obligation's settings; the defaults are DEFAULT's (tests/unit/test_suitability_versions.py)
    objective_max_product_risk: Mapping[str, int] = field(
        default_factory=lambda: dict(zip(INVESTMENT_OBJECTIVES, (2, 3, 4, 5, 5), strict=True))
    )
    objective_no_complex: frozenset[str] = frozenset({"capital_preservation", "income"})
    complex_age_from: int = 70
    complex_time_horizons: frozenset[str] = frozenset({"short"})
    leveraged_holding_period_days: int = 1
    options_products: Mapping[str, int] = field(default_factory=dict)
    margin_max_loan_share: Decimal = Decimal("0.50")
    accredited_asset_classes: frozenset[str] = frozenset({"alternative"})
    accredited_liquidity: frozenset[str] = frozenset({"illiquid"})
    accredited_min_net_worth: Decimal = Decimal(1_000_000)
    accredited_min_annual_income: Decimal = Decimal(200_000)
    tax_exempt_income_sectors: frozenset[str] = frozenset({"Municipal Bonds"})
    trade_size_max_share: Decimal = Decimal("0.25")
    include_held_away_assets: bool = True
    net_worth_max_position_share: Decimal = Decimal("0.10")
    turnover_window_days: int = 365
    turnover_review: Decimal = Decimal(4)
    turnover_fail: Decimal = Decimal(6)
    cost_equity_review: Decimal = Decimal("0.12")
    cost_equity_fail: Decimal = Decimal("0.20")


def _at(doc: Mapping[str, Any], path: str) -> Any:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise Invalid(f"the policy lacks {path}", field=f"policy.{path}")
        node = node[part]
    return node


def _share(value: Any, path: str) -> Decimal:
    try:
        d = Decimal(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or not 0 <= d <= 1:
        raise Invalid(f"{path} must be a decimal string between 0 and 1", field=f"policy.{path}")
    return d


def _figure(value: Any, path: str) -> Decimal:
    """A non-negative decimal string in plain digits, without an upper bound (a ratio such as turnover, or
    money): "6", "1000000", "0.20"; never an exponent."""
    d = Decimal(value) if isinstance(value, str) and _DECIMAL.fullmatch(value) else None
    if d is None or d >= 10**16:
        raise Invalid(f"{path} must be a non-negative decimal string", field=f"policy.{path}")
    return d


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"{path} must be true or false", field=f"policy.{path}")
    return value


def _int(value: Any, path: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(f"{path} must be a whole number from {low} to {high}", field=f"policy.{path}")
    return value


def _names(value: Any, path: str, allowed: tuple[str, ...] | None = None) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise Invalid(f"{path} must be a list of names", field=f"policy.{path}")
    if allowed is not None and (bad := [v for v in value if v not in allowed]):
        raise Invalid(f"{path} has {bad[0]!r}; allowed: {', '.join(allowed)}", field=f"policy.{path}")
    return frozenset(value)


def _choice(value: Any, path: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise Invalid(f"{path} must be one of {', '.join(allowed)}", field=f"policy.{path}")
    return str(value)


def _keys(value: Any, path: str, allowed: tuple[str, ...], *, complete: bool) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Invalid(f"{path} must be a mapping", field=f"policy.{path}")
    if bad := [k for k in value if k not in allowed]:
        raise Invalid(
            f"{path} has {bad[0]!r}; allowed: {', '.join(allowed)}", field=f"policy.{path}.{bad[0]}"
        )
    if complete and (missing := [k for k in allowed if k not in value]):
        raise Invalid(f"{path} lacks {missing[0]}", field=f"policy.{path}.{missing[0]}")
    return value


def parse(doc: Any) -> Policy:
    """Validate a policy document; every problem is an `Invalid` naming the field (`policy.<path>`)."""
    if not isinstance(doc, Mapping):
        raise Invalid("the policy must be a mapping", field="policy")
    if unknown := sorted(set(doc) - set(DEFAULT)):
        raise Invalid(f"the policy has an unknown rule setting {unknown[0]!r}", field=f"policy.{unknown[0]}")
    risk = _keys(_at(doc, "max_product_risk"), "max_product_risk", RISK_LEVELS, complete=True)
    bands_doc = _keys(_at(doc, "asset_class_bands"), "asset_class_bands", RISK_LEVELS, complete=False)
    bands: dict[str, dict[str, Band]] = {}
    for level, classes in bands_doc.items():
        path = f"asset_class_bands.{level}"
        bands[level] = {
            cls: Band(
                _share(_at(spec, "target"), f"{path}.{cls}.target"),
                _share(_at(spec, "band"), f"{path}.{cls}.band"),
            )
            for cls, spec in _keys(classes, path, ASSET_CLASSES, complete=False).items()
        }
        if bands[level] and sum(b.target for b in bands[level].values()) != 1:
            raise Invalid(f"{path} targets must sum to 1", field=f"policy.{path}")
    horizon = _keys(
        _at(doc, "equity_by_time_horizon"), "equity_by_time_horizon", TIME_HORIZONS, complete=True
    )
    care = _care({**{k: DEFAULT[k] for k in CARE_SETTINGS}, **doc})
    return Policy(
        max_product_risk={k: _int(v, f"max_product_risk.{k}", 1, 5) for k, v in risk.items()},
        single_position_cap=_share(_at(doc, "single_position_cap"), "single_position_cap"),
        sector_cap=_share(_at(doc, "sector_cap"), "sector_cap"),
        cap_exempt_sectors=_names(_at(doc, "cap_exempt_sectors"), "cap_exempt_sectors"),
        asset_class_bands=bands,
        restricted_symbols=frozenset(
            s.upper() for s in _names(_at(doc, "restricted_symbols"), "restricted_symbols")
        ),
        complex_min_experience=_choice(
            _at(doc, "complex_products.min_experience"), "complex_products.min_experience", EXPERIENCE_LEVELS
        ),
        complex_risk_levels=_names(
            _at(doc, "complex_products.risk_levels"), "complex_products.risk_levels", RISK_LEVELS
        ),
        illiquid_liquidity=_names(
            _at(doc, "illiquid_products.liquidity"), "illiquid_products.liquidity", SECURITY_LIQUIDITY
        ),
        illiquid_blocked_needs=_names(
            _at(doc, "illiquid_products.blocked_for_liquidity_needs"),
            "illiquid_products.blocked_for_liquidity_needs",
            LIQUIDITY_NEEDS,
        ),
        illiquid_max_share=_share(_at(doc, "illiquid_products.max_share"), "illiquid_products.max_share"),
        equity_by_time_horizon={k: _share(v, f"equity_by_time_horizon.{k}") for k, v in horizon.items()},
        equity_age_from=_int(_at(doc, "equity_by_age.from_age"), "equity_by_age.from_age", 0, 150),
        equity_age_max_share=_share(_at(doc, "equity_by_age.max_share"), "equity_by_age.max_share"),
        frequency_window_days=_int(
            _at(doc, "trade_frequency.window_days"), "trade_frequency.window_days", 1, 3660
        ),
        frequency_max_trades=_int(
            _at(doc, "trade_frequency.max_trades"), "trade_frequency.max_trades", 1, 100_000
        ),
        **care,
    )


def _section(doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A care setting with exactly the keys its default has (a setting given is given whole)."""
    return _keys(_at(doc, name), name, tuple(DEFAULT[name]), complete=True)


def _care(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The care obligation's settings of `doc` (defaults already filled in), as Policy fields."""
    objective = _section(doc, "investment_objective")
    objective_risk = _keys(
        objective["max_product_risk"],
        "investment_objective.max_product_risk",
        INVESTMENT_OBJECTIVES,
        complete=True,
    )
    age = _section(doc, "complex_by_age_and_horizon")
    accredited = _section(doc, "accredited_investor")
    concentration = _section(doc, "concentration")
    turnover = _section(doc, "turnover")
    products = _at(doc, "options_products")
    if not isinstance(products, Mapping) or not all(
        isinstance(k, str) and _SYMBOL.fullmatch(k) for k in products
    ):
        raise Invalid(
            "options_products must map upper-case symbols to approval levels", field="policy.options_products"
        )
    review_turnover = _figure(turnover["review_turnover"], "turnover.review_turnover")
    review_cost = _figure(turnover["review_cost_equity"], "turnover.review_cost_equity")
    fail_turnover = _figure(turnover["fail_turnover"], "turnover.fail_turnover")
    fail_cost = _figure(turnover["fail_cost_equity"], "turnover.fail_cost_equity")
    if fail_turnover < review_turnover or fail_cost < review_cost:
        raise Invalid("turnover fail levels must not be below review levels", field="policy.turnover")
    return {
        "objective_max_product_risk": {
            k: _int(v, f"investment_objective.max_product_risk.{k}", 1, 5) for k, v in objective_risk.items()
        },
        "objective_no_complex": _names(
            objective["no_complex_products"],
            "investment_objective.no_complex_products",
            INVESTMENT_OBJECTIVES,
        ),
        "complex_age_from": _int(age["from_age"], "complex_by_age_and_horizon.from_age", 0, 150),
        "complex_time_horizons": _names(
            age["time_horizons"], "complex_by_age_and_horizon.time_horizons", TIME_HORIZONS
        ),
        "leveraged_holding_period_days": _int(
            _at(_section(doc, "leveraged_funds"), "holding_period_days"),
            "leveraged_funds.holding_period_days",
            1,
            3660,
        ),
        "options_products": {k: _int(v, f"options_products.{k}", 1, 4) for k, v in products.items()},
        "margin_max_loan_share": _share(_section(doc, "margin")["max_loan_share"], "margin.max_loan_share"),
        "accredited_asset_classes": _names(
            accredited["asset_classes"], "accredited_investor.asset_classes", ASSET_CLASSES
        ),
        "accredited_liquidity": _names(
            accredited["liquidity"], "accredited_investor.liquidity", SECURITY_LIQUIDITY
        ),
        "accredited_min_net_worth": _figure(accredited["min_net_worth"], "accredited_investor.min_net_worth"),
        "accredited_min_annual_income": _figure(
            accredited["min_annual_income"], "accredited_investor.min_annual_income"
        ),
        "tax_exempt_income_sectors": _names(
            _section(doc, "tax_exempt_income")["sectors"], "tax_exempt_income.sectors"
        ),
        "trade_size_max_share": _share(
            _section(doc, "trade_size")["max_share_of_liquid_net_worth"],
            "trade_size.max_share_of_liquid_net_worth",
        ),
        "include_held_away_assets": _bool(
            concentration["include_held_away_assets"], "concentration.include_held_away_assets"
        ),
        "net_worth_max_position_share": _share(
            concentration["max_position_share_of_net_worth"], "concentration.max_position_share_of_net_worth"
        ),
        "turnover_window_days": _int(turnover["window_days"], "turnover.window_days", 30, 3660),
        "turnover_review": review_turnover,
        "turnover_fail": fail_turnover,
        "cost_equity_review": review_cost,
        "cost_equity_fail": fail_cost,
    }


def _normal(value: Any) -> Any:
    """Decimal strings in their plain normal form ("0.200" -> "0.2"), lists of names sorted, keys sorted."""
    if isinstance(value, Mapping):
        return {str(k): _normal(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_normal(v) for v in value]
        return sorted(items) if all(isinstance(v, str) for v in items) else items
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return format(Decimal(value).normalize(), "f")
    return value


def canonical(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The policy as stored and hashed: validated first, then normalised."""
    parse(doc)
    return {str(k): _normal(v) for k, v in sorted(doc.items())}


def content_hash(doc: Mapping[str, Any]) -> str:
    text = json.dumps(canonical(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def default_for(model_bands: Mapping[str, Mapping[str, tuple[Decimal, Decimal]]]) -> dict[str, Any]:
    """The default policy with the asset-class bands of the firm's model portfolios."""
    doc: dict[str, Any] = json.loads(json.dumps(DEFAULT))
    doc["asset_class_bands"] = {
        level: {cls: {"target": str(t), "band": str(b)} for cls, (t, b) in sorted(classes.items())}
        for level, classes in sorted(model_bands.items())
    }
    return doc
