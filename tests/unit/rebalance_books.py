"""Small books for the rebalancer's tests: securities, profiles and policies built by hand, the proposal run
with facts the firm's engine reads, and `violations`: everything a proposal gets wrong, by the independent
simulator of `tests/rebalance_check.py` and by the engine itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from tests.rebalance_check import Book, Listing, apply, cap_breaches, merged
from wealthgate.portfolios.analytics import Holding, Valuation
from wealthgate.portfolios.rebalance import Candidate, Constraints, Proposal, propose
from wealthgate.suitability import policy as policies
from wealthgate.suitability.engine import Activity, Facts, Profile, Security, evaluate
from wealthgate.suitability.engine import Trade as Checked
from wealthgate.vocabulary import RISK_LEVELS

D = Decimal
AS_OF = date(2018, 4, 11)
MODEL = {
    "equity": (D("0.60"), D("0.05")),
    "fixed_income": (D("0.35"), D("0.05")),
    "cash_equivalent": (D("0.05"), D("0.03")),
}


def sec(
    symbol: str,
    cls: str,
    sector: str,
    rating: int,
    price: str,
    *,
    complex_: bool = False,
    liquidity: str = "high",
) -> Security:
    return Security(symbol, symbol.title(), cls, sector, rating, complex_, liquidity, D(price), AS_OF)


FUNDS = {
    s.symbol: s
    for s in (
        sec("EQF", "equity", "Diversified", 3, "50"),
        sec("BND", "fixed_income", "Diversified", 2, "100"),
        sec("MMF", "cash_equivalent", "Cash", 1, "1"),
    )
}


def profile(level: str = "moderate", **changes: object) -> Profile:
    base = Profile(
        risk_level=level,
        age=50,
        time_horizon="long",
        liquidity_needs="low",
        investment_experience="moderate",
        excluded_symbols=frozenset(),
        excluded_sectors=frozenset(),
        investment_objective="growth",
        annual_income=D(150_000),
        net_worth=D(50_000_000),
        liquid_net_worth=D(40_000_000),
        tax_status="taxable",
    )
    return replace(base, **changes)  # type: ignore[arg-type]  # keyword changes of a frozen dataclass


def policy(bands: dict[str, dict[str, tuple[Decimal, Decimal]]] | None = None, **changes: object) -> Any:
    doc = policies.default_for(bands or dict.fromkeys(RISK_LEVELS, MODEL))
    doc.update(changes)
    return policies.parse(doc)


def hold(
    symbol: str, qty: str, securities: dict[str, Security], account: int = 1, kind: str = "taxable"
) -> Holding:
    s = securities[symbol]
    return Holding(account, kind, symbol, s.name, s.asset_class, s.sector, "NA", D(qty), D(0), s.price, AS_OF)


def facts_of(v: Valuation, securities: dict[str, Security], who: Profile, recent: int = 0) -> Facts:
    positions: dict[str, Decimal] = {}
    for item in v.holdings:
        h = item.holding
        positions[h.symbol] = positions.get(h.symbol, D(0)) + h.quantity
    return Facts(
        AS_OF,
        who,
        positions,
        v.cash_total,
        securities,
        recent,
        activity=Activity(365, D(0), D(0), max(v.total_value, D(1))),
    )


def candidates(securities: dict[str, Security]) -> list[Candidate]:
    return [Candidate(s.symbol, s.name, s.asset_class, s.sector, "NA", s.price) for s in securities.values()]


DEFAULT = Constraints()


def run(
    v: Valuation,
    securities: dict[str, Security],
    c: Constraints = DEFAULT,
    who: Profile | None = None,
    rules: Any = None,
    model: dict[str, tuple[Decimal, Decimal]] | None = None,
) -> tuple[Proposal, Facts, Any]:
    who = who or profile()
    rules = rules or policy()
    facts = facts_of(v, securities, who)
    bands = model or {cls: (b.target, b.band) for cls, b in rules.asset_class_bands[who.risk_level].items()}
    return propose(v, bands, candidates(securities), c, facts=facts, policy=rules), facts, rules


def book_of(v: Valuation, securities: dict[str, Security]) -> Book:
    listings = {s: Listing(x.price, x.asset_class, x.sector, x.leverage != 1) for s, x in securities.items()}
    positions: dict[tuple[int, str], Decimal] = {}
    for item in v.holdings:
        key = (item.holding.account_id, item.holding.symbol)
        positions[key] = positions.get(key, D(0)) + item.holding.quantity
    return Book(listings, {a: D(c) for a, c in v.cash.items()}, positions)


def may_buy(s: Security, who: Profile, rules: Any) -> bool:
    """The firm's product rules, written out again: what the client may be sold."""
    objective_cap = rules.objective_max_product_risk.get(who.investment_objective, 5)
    return not (
        s.symbol in rules.restricted_symbols
        or s.symbol in who.excluded_symbols
        or s.sector in who.excluded_sectors
        or s.risk_rating > rules.max_product_risk[who.risk_level]
        or s.risk_rating > objective_cap
        or s.is_complex
        or s.leverage != 1
        or (s.liquidity in rules.illiquid_liquidity and who.liquidity_needs in rules.illiquid_blocked_needs)
    )


def violations(
    v: Valuation, securities: dict[str, Security], p: Proposal, facts: Facts, rules: Any, c: Constraints
) -> list[str]:
    """Everything the proposal gets wrong, by the simulator and the engine (empty when it is sound)."""
    before = book_of(v, securities)
    after = apply(before, p.trades)
    found = [f"account {a} ends with cash {x}" for a, x in after.cash.items() if x < 0]
    total_cash = sum(after.cash.values(), D(0))
    if p.trades and total_cash < c.cash_reserve:
        found.append(f"cash {total_cash} is below the reserve {c.cash_reserve}")
    if after.cash != p.cash_after:
        found.append(f"the proposal says cash ends at {p.cash_after}, the trades leave {after.cash}")
    found += cap_breaches(
        before,
        after,
        single_cap=rules.single_position_cap,
        sector_cap=rules.sector_cap,
        exempt_sectors=rules.cap_exempt_sectors,
        held_away=facts.profile.held_away_assets if rules.include_held_away_assets else D(0),
    )
    sides: dict[str, set[str]] = {}
    for t in p.trades:
        sides.setdefault(t.symbol, set()).add(t.side)
        if t.side == "buy" and not may_buy(securities[t.symbol], facts.profile, rules):
            found.append(f"buys {t.symbol}, which the client may not hold")
        if not c.liquidate and t.estimated_value < c.min_trade:
            found.append(f"{t.side} {t.symbol} of {t.estimated_value} is under the minimum trade")
        if not c.fractional and t.quantity != t.quantity.to_integral_value():
            found.append(f"{t.side} {t.quantity} {t.symbol}: not whole shares")
    found += [f"both buys and sells {s}" for s, both in sides.items() if len(both) > 1]
    checked = [Checked(side, s, quantity=q) for (side, s), q in merged(p.trades).items()]
    verdict = evaluate(facts, rules, checked)
    if verdict.verdict == "fail":
        found.append(
            "the firm's check fails it: "
            + "; ".join(r.explanation for r in verdict.rules if r.outcome == "fail")
        )
    if verdict.verdict != p.verdict.verdict:
        found.append(f"the proposal reports {p.verdict.verdict}, the engine says {verdict.verdict}")
    return found
