"""Facts and trades as JSON and back, exactly: what a recommendation stores so replay can rebuild its verdict.

Decimals travel as plain strings (no exponent), dates as ISO text, sets as sorted lists;
`from_json(to_json(x)) == x` (property-tested). Facts stored by an older engine lack the fields added since:
they load with those fields' defaults, which the older engine's rules never read. The digest is SHA-256 over
the canonical JSON (sorted keys, no spaces) and is always taken of the JSON as stored.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

from wealthgate.money import plain
from wealthgate.suitability.facts import Activity, Facts, Profile, Security, Trade


def _figure(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def facts_to_json(f: Facts) -> dict[str, Any]:
    p = f.profile
    a = f.activity
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
            "investment_objective": p.investment_objective,
            "annual_income": _figure(p.annual_income),
            "net_worth": _figure(p.net_worth),
            "liquid_net_worth": _figure(p.liquid_net_worth),
            "tax_status": p.tax_status,
            "held_away_assets": plain(p.held_away_assets),
            "options_level": p.options_level,
            "margin_approved": p.margin_approved,
        },
        "positions": {s: plain(q) for s, q in sorted(f.positions.items())},
        "cash": plain(f.cash),
        "securities": {
            s: {
                "name": sec.name,
                "asset_class": sec.asset_class,
                "sector": sec.sector,
                "risk_rating": sec.risk_rating,
                "is_complex": sec.is_complex,
                "liquidity": sec.liquidity,
                "leverage": plain(sec.leverage),
                "price": plain(sec.price),
                "price_date": sec.price_date.isoformat(),
            }
            for s, sec in sorted(f.securities.items())
        },
        "recent_trades": f.recent_trades,
        "margin_account": f.margin_account,
        "activity": None
        if a is None
        else {
            "window_days": a.window_days,
            "purchases": plain(a.purchases),
            "costs": plain(a.costs),
            "average_equity": plain(a.average_equity),
        },
    }


def facts_from_json(doc: dict[str, Any]) -> Facts:
    p = doc["profile"]
    a = doc.get("activity")
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
            investment_objective=p.get("investment_objective"),
            annual_income=_decimal(p.get("annual_income")),
            net_worth=_decimal(p.get("net_worth")),
            liquid_net_worth=_decimal(p.get("liquid_net_worth")),
            tax_status=p.get("tax_status"),
            held_away_assets=Decimal(p.get("held_away_assets", "0")),
            options_level=p.get("options_level", 0),
            margin_approved=p.get("margin_approved", False),
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
                leverage=Decimal(v.get("leverage", "1")),
            )
            for s, v in doc["securities"].items()
        },
        recent_trades=doc["recent_trades"],
        margin_account=doc.get("margin_account", False),
        activity=None
        if a is None
        else Activity(
            window_days=a["window_days"],
            purchases=Decimal(a["purchases"]),
            costs=Decimal(a["costs"]),
            average_equity=Decimal(a["average_equity"]),
        ),
    )


def trades_to_json(trades: list[Trade]) -> list[dict[str, str]]:
    out = []
    for t in trades:
        item = {"side": t.side, "symbol": t.symbol}
        if t.quantity is not None:
            item["quantity"] = plain(t.quantity)
        if t.amount is not None:
            item["amount"] = plain(t.amount)
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
