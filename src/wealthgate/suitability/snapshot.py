"""Facts and trades as JSON and back, exactly: what a recommendation stores so replay can rebuild its verdict.

Decimals travel as strings, dates as ISO text, sets as sorted lists; `from_json(to_json(x)) == x`
(property-tested). The digest is SHA-256 over the canonical JSON (sorted keys, no spaces).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

from wealthgate.suitability.engine import Facts, Profile, Security, Trade


def facts_to_json(f: Facts) -> dict[str, Any]:
    p = f.profile
    return {
        "as_of": f.as_of.isoformat(),
        "profile": {
            "risk_level": p.risk_level,
            "age": p.age,
            "time_horizon": p.time_horizon,
            "liquidity_needs": p.liquidity_needs,
            "investment_experience": p.investment_experience,
            "excluded_symbols": sorted(p.excluded_symbols),
            "excluded_sectors": sorted(p.excluded_sectors),
        },
        "positions": {s: str(q) for s, q in sorted(f.positions.items())},
        "cash": str(f.cash),
        "securities": {
            s: {
                "name": sec.name,
                "asset_class": sec.asset_class,
                "sector": sec.sector,
                "risk_rating": sec.risk_rating,
                "is_complex": sec.is_complex,
                "liquidity": sec.liquidity,
                "price": str(sec.price),
                "price_date": sec.price_date.isoformat(),
            }
            for s, sec in sorted(f.securities.items())
        },
        "recent_trades": f.recent_trades,
    }


def facts_from_json(doc: dict[str, Any]) -> Facts:
    p = doc["profile"]
    return Facts(
        as_of=date.fromisoformat(doc["as_of"]),
        profile=Profile(
            risk_level=p["risk_level"],
            age=p["age"],
            time_horizon=p["time_horizon"],
            liquidity_needs=p["liquidity_needs"],
            investment_experience=p["investment_experience"],
            excluded_symbols=frozenset(p["excluded_symbols"]),
            excluded_sectors=frozenset(p["excluded_sectors"]),
        ),
        positions={s: Decimal(q) for s, q in doc["positions"].items()},
        cash=Decimal(doc["cash"]),
        securities={
            s: Security(
                symbol=s,
                name=v["name"],
                asset_class=v["asset_class"],
                sector=v["sector"],
                risk_rating=v["risk_rating"],
                is_complex=v["is_complex"],
                liquidity=v["liquidity"],
                price=Decimal(v["price"]),
                price_date=date.fromisoformat(v["price_date"]),
            )
            for s, v in doc["securities"].items()
        },
        recent_trades=doc["recent_trades"],
    )


def trades_to_json(trades: list[Trade]) -> list[dict[str, str]]:
    out = []
    for t in trades:
        item = {"side": t.side, "symbol": t.symbol}
        if t.quantity is not None:
            item["quantity"] = str(t.quantity)
        if t.amount is not None:
            item["amount"] = str(t.amount)
        out.append(item)
    return out


def trades_from_json(items: list[dict[str, str]]) -> list[Trade]:
    return [
        Trade(
            side=i["side"],
            symbol=i["symbol"],
            quantity=Decimal(i["quantity"]) if "quantity" in i else None,
            amount=Decimal(i["amount"]) if "amount" in i else None,
        )
        for i in items
    ]


def digest(doc: Any) -> str:
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
