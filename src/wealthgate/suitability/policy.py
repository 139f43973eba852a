"""A firm's suitability policy: plain data, validated, canonical, content-hashed.

The policy is a JSON document (YAML for people; see docs/suitability.md). Every threshold the rules use lives
here, so changing a threshold is a new policy version, never a code change. Decimals are strings.
`content_hash` is SHA-256 over the canonical form (keys sorted, decimals normalised), so the same policy
always has the same hash whatever the spelling of its file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from wealthgate.errors import Invalid
from wealthgate.vocabulary import (
    ASSET_CLASSES,
    EXPERIENCE_LEVELS,
    LIQUIDITY_NEEDS,
    RISK_LEVELS,
    SECURITY_LIQUIDITY,
    TIME_HORIZONS,
)

FUND_SECTORS = ("Diversified", "Cash")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")

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
}


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
    )


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
