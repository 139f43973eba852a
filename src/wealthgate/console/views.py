"""What the console's pages show, computed from the domain's figures: ages, percentages, the context an
agent saw (from the recommendation's stored snapshot), the rules as rows, and replay's differences. Pure
functions: no database, no web framework."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from wealthgate.money import plain, to_cents, trimmed
from wealthgate.recommendations.schemas import ReplayOut


def age(moment: datetime, now: datetime | None = None) -> str:
    """How long ago, in the largest whole unit: `4 min`, `3 h`, `2 d`."""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def seconds_label(seconds: float | None) -> str:
    if seconds is None:
        return "no checkpoint yet"
    whole = int(seconds)
    if whole < 120:
        return f"{whole} s ago"
    if whole < 7200:
        return f"{whole // 60} min ago"
    if whole < 172800:
        return f"{whole // 3600} h ago"
    return f"{whole // 86400} d ago"


def percent(weight: str | Decimal | None) -> str:
    """A weight (a share, `0.4215`) as a percentage to two places (`42.15%`)."""
    if weight is None or weight == "":
        return "—"
    try:
        share = Decimal(weight)
    except InvalidOperation:
        return str(weight)
    return f"{(share * 100).quantize(Decimal('0.01'))}%"


def label(name: str | None) -> str:
    """A stored word as a heading reads it: `needs_review` -> `Needs review`."""
    if not name:
        return ""
    text = name.replace("_", " ").replace(".", " · ")
    return text[:1].upper() + text[1:]


def actor_label(actor: dict[str, Any] | None) -> str:
    """Who acted, as a person reads it."""
    if not actor:
        return "unknown"
    kind = actor.get("type")
    if kind == "user":
        return f"{actor.get('name') or actor.get('email')} <{actor.get('email')}>"
    if kind == "api_key":
        who = f"key {actor.get('key_id')} “{actor.get('key_name')}” (owner {actor.get('owner')})"
        return f"{who}, for {actor['email']}" if actor.get("email") else who
    if kind == "operator":
        return f"operator {actor.get('owner')}"
    return str(actor.get("owner") or kind or "unknown")


@dataclass(frozen=True, slots=True)
class Held:
    symbol: str
    name: str
    asset_class: str
    quantity: str
    price: str
    price_date: str
    value: str


@dataclass(frozen=True, slots=True)
class SeenContext:
    """What the agent's proposal was judged on: the snapshot stored with the recommendation."""

    as_of: str
    profile: list[tuple[str, str]]
    holdings: list[Held]
    cash: str
    holdings_value: str
    recent_trades: str


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def seen_context(facts: dict[str, Any]) -> SeenContext:
    """The stored facts (suitability/snapshot.py's JSON) as the evidence page lists them."""
    held: list[Held] = []
    total = Decimal(0)
    securities: dict[str, Any] = facts.get("securities", {})
    for symbol, quantity in sorted(facts.get("positions", {}).items()):
        sec = securities.get(symbol, {})
        price = sec.get("price")
        value = to_cents(Decimal(quantity) * Decimal(price)) if price is not None else None
        total += value or 0
        held.append(
            Held(
                symbol,
                sec.get("name", ""),
                sec.get("asset_class", ""),
                trimmed(Decimal(quantity)),
                "—" if price is None else trimmed(Decimal(price)),
                sec.get("price_date", ""),
                "—" if value is None else plain(value),
            )
        )
    profile = [(label(k), _shown(v)) for k, v in facts.get("profile", {}).items()]
    return SeenContext(
        as_of=str(facts.get("as_of", "")),
        profile=profile,
        holdings=held,
        cash=str(facts.get("cash", "0")),
        holdings_value=plain(total),
        recent_trades=_shown(facts.get("recent_trades")),
    )


@dataclass(frozen=True, slots=True)
class Difference:
    what: str
    stored: str
    recomputed: str


def _text(value: Any) -> str:
    return "—" if value is None else str(value)


def replay_differences(out: ReplayOut) -> list[Difference]:
    """What the recomputed decision says differently from the stored one; empty when identical."""
    found: list[Difference] = []
    if out.stored.verdict != out.recomputed.verdict:
        found.append(Difference("Verdict", out.stored.verdict, out.recomputed.verdict))
    if out.stored.as_of != out.recomputed.as_of:
        found.append(Difference("Data as of", out.stored.as_of, out.recomputed.as_of))
    stored = {r.get("rule"): r for r in out.stored.rules}
    again = {r.get("rule"): r for r in out.recomputed.rules}
    for name in list(stored) + [n for n in again if n not in stored]:
        before, after = stored.get(name), again.get(name)
        if before is None or after is None:
            found.append(
                Difference(
                    f"Rule {name}",
                    "absent" if before is None else "present",
                    "absent" if after is None else "present",
                )
            )
            continue
        for part in ("outcome", "threshold", "value", "explanation"):
            if before.get(part) != after.get(part):
                found.append(
                    Difference(f"Rule {name}: {part}", _text(before.get(part)), _text(after.get(part)))
                )
    if not out.policy_hash_matches:
        found.append(
            Difference("Policy content hash", out.policy_version, "the stored policy no longer hashes to it")
        )
    if not out.context_digest_matches:
        found.append(
            Difference("Context digest", out.context_digest, "the stored context no longer hashes to it")
        )
    return found
