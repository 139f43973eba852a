"""Rebalance proposals the firm's own policy accepts: the trades that bring every asset class back inside its
band, checked by the firm's suitability engine before they are returned. Pure; it never executes.

Method, in order (each step in its own module):
1. Eligibility (`eligibility.py`): which securities the client may buy, and why not: the firm's restricted
   list, the client's excluded symbols and sectors, product risk against the client's level, complex products,
   and illiquid products against liquidity needs; the same tests the engine applies.
2. Trims (`placement.trim`): positions and sectors above the policy's caps are sold down to them, as far as
   the class can stay in its band.
3. Class targets (`targets.py`): the value each asset class should reach, bounded by what can be sold and what
   the caps leave room to buy; the cash reserve is met first, then cash is brought into its band.
4. Sizing (`placement.py`): sales first; then the reserve is topped up from money-market holdings; then
   purchases, spread over the best candidates of each class up to each limit and placed in accounts that can
   pay. Every filter (whole shares, the minimum trade, the reserve, each account's cash) is applied to a trade
   before the next is sized, so a purchase is never sized on cash from a sale that is later dropped.
5. Repair (`repair.py`): one-share moves while whole shares leave a class just outside its band.
6. The firm's check: the engine judges the trades (merged per side and symbol, as a recommendation would
   carry them) under the policy given. A `fail` is never returned: a purchase the check refuses on its own is
   left out and the plan is drawn again without it (its class goes to the next candidate); when no single
   purchase is to blame, purchases are shed until the check no longer fails, and if even the sales fail,
   nothing is proposed.
   Each asset class still outside its band gets one plain reason.

A liquidation (`Constraints.liquidate`, a client asking to go to cash) sells every priced holding whatever its
size, and is checked like any other proposal. Account cash counts as the `cash_equivalent` class. Prices are
the latest closes; fees and market impact are not estimated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from wealthgate.money import plain
from wealthgate.portfolios.analytics import CASH_CLASS, Drift, Valuation, allocation, drift
from wealthgate.portfolios.draft import ZERO, Candidate, Draft, Trade, merged
from wealthgate.portfolios.eligibility import INCOME_CLASSES
from wealthgate.portfolios.mandate import Constraints, Mandate, pct
from wealthgate.portfolios.placement import CENT, buy_class, sell_class, top_up_reserve, trim
from wealthgate.portfolios.repair import repair
from wealthgate.portfolios.targets import class_targets
from wealthgate.suitability.engine import Facts, Verdict, evaluate
from wealthgate.suitability.engine import Trade as Checked
from wealthgate.suitability.policy import Policy

__all__ = ["Candidate", "Constraints", "Proposal", "Trade", "propose", "rebalance_model"]

ROUNDS = 6
# Rules about the whole proposal rather than one purchase: a lone purchase is not to blame for them.
PORTFOLIO_RULES = frozenset(
    {
        "cash_sufficient",
        "holdings_sufficient",
        "margin",
        "asset_class_bands",
        "trade_frequency",
        "trade_size",
        "turnover_and_cost",
        "liquidation",
    }
)


@dataclass(frozen=True, slots=True)
class Proposal:
    trades: tuple[Trade, ...]
    projected: Mapping[str, Decimal]
    projected_drift: tuple[Drift, ...]
    in_band: bool
    notes: tuple[str, ...]
    verdict: Verdict  # the firm's check of these trades (never `fail`)
    unresolved: Mapping[str, str]  # asset class still outside its band -> why
    cash_after: Mapping[int, Decimal]  # per account


def rebalance_model(
    policy: Policy, risk_level: str, model: Mapping[str, tuple[Decimal, Decimal]]
) -> dict[str, tuple[Decimal, Decimal]]:
    """The bands the proposal aims for: the policy's for the risk level, which the firm's check judges the
    proposal by, or (when the policy sets none) the firm's model portfolio."""
    bands = policy.asset_class_bands.get(risk_level)
    if bands:
        return {cls: (b.target, b.band) for cls, b in bands.items()}
    return dict(model)


def judge(m: Mandate, d: Draft) -> Verdict:
    trades = [Checked(side, symbol, quantity=q) for (side, symbol), q in sorted(merged(d.trades()).items())]
    return evaluate(m.facts, m.policy, trades)


def _failed(verdict: Verdict, rules: frozenset[str] | None = None) -> str:
    return " ".join(
        r.explanation for r in verdict.rules if r.outcome == "fail" and (rules is None or r.rule in rules)
    )


def _culprits(m: Mandate, d: Draft, verdict: Verdict) -> dict[str, str]:
    """Purchases the check refuses on their own, for a rule that failed the whole proposal."""
    failing = frozenset(r.rule for r in verdict.rules if r.outcome == "fail") - PORTFOLIO_RULES
    out = {}
    for symbol in sorted(d.bought()):
        qty = sum((q for (side, _, s), q in d.legs.items() if side == "buy" and s == symbol), ZERO)
        alone = evaluate(m.facts, m.policy, [Checked("buy", symbol, quantity=qty)])
        if why := _failed(alone, failing):
            out[symbol] = f"the firm's suitability check refuses it: {why}"
    return out


def _without(d: Draft, symbol: str) -> Draft:
    out = d.copy()
    for (side, account, s), q in list(d.legs.items()):
        if side == "buy" and s == symbol:
            out.trade(side, account, s, -q, "")
    return out


def _shed(m: Mandate, d: Draft, verdict: Verdict) -> tuple[Draft, Verdict]:
    """Leave purchases out until the check no longer fails: one whose removal passes if there is one, else
    the largest; with no purchase left and still a failure, propose nothing."""
    while verdict.verdict == "fail":
        bought = sorted(
            d.bought(), key=lambda s: (-sum(t.estimated_value for t in d.trades() if t.symbol == s), s)
        )
        if not bought:
            m.limit(CASH_CLASS, f"the firm's suitability check fails even the sales: {_failed(verdict)}")
            d = Draft(m.v, m.candidates)
            return d, judge(m, d)
        tried = [(s, _without(d, s)) for s in bought]
        judged = [(s, t, judge(m, t)) for s, t in tried]
        passing = [j for j in judged if j[2].verdict != "fail"]
        symbol, d, after = passing[-1] if passing else judged[0]
        m.banned[symbol] = f"the firm's suitability check fails the proposal with it: {_failed(verdict)}"
        verdict = after
    return d, verdict


def _needed(m: Mandate, d: Draft) -> bool:
    """Anything to do: a class outside its band, a position or sector above its cap, cash below reserve."""
    total, p = m.total, m.policy
    for cls, worth in {**dict.fromkeys(m.model, ZERO), **d.by("asset_class")}.items():
        target, band = m.band(cls)
        if abs(worth / total - target) > band:
            return True
    exempt = p.cap_exempt_sectors
    if any(
        v > p.single_position_cap * m.cap_base
        for s, v in d.by("symbol").items()
        if d.listing[s].sector not in exempt
    ):
        return True
    if any(v > p.sector_cap * m.cap_base for s, v in d.by("sector").items() if s not in exempt):
        return True
    return d.cash_total() < m.c.cash_reserve


def _attempt(m: Mandate, before: Mapping[str, Decimal]) -> Draft:
    m.limits = {}
    d = Draft(m.v, m.candidates)
    trim(m, d)
    goal = class_targets(m, d, before)
    now = d.by("asset_class")
    for cls in sorted(goal):
        if now.get(cls, ZERO) - goal[cls] >= CENT:
            sell_class(m, d, cls, now.get(cls, ZERO) - goal[cls])
    if top_up_reserve(m, d):
        for cls in sorted(goal, key=lambda c: (c not in INCOME_CLASSES, c)):
            if goal[cls] - now.get(cls, ZERO) >= CENT:
                buy_class(m, d, cls, goal[cls] - now.get(cls, ZERO))
    return repair(m, d, before)


def _liquidate(m: Mandate) -> tuple[Draft, Verdict]:
    d = Draft(m.v, m.candidates)
    for a, s, q in d.holdings():
        if s in m.policy.restricted_symbols:
            m.limit(CASH_CLASS, f"{s} is on the firm's restricted list: it may not be traded, so it is kept")
        else:
            d.trade("sell", a, s, q, "sell everything: the client asked to go to cash")
    verdict = judge(m, d)
    if verdict.verdict == "fail":
        m.limit(CASH_CLASS, f"the firm's suitability check fails selling everything: {_failed(verdict)}")
        d = Draft(m.v, m.candidates)
        verdict = judge(m, d)
    return d, verdict


def _why(m: Mandate, d: Draft, row: Drift) -> str:
    cls = row.asset_class
    head = f"{cls} ends at {pct(row.actual)} against {pct(row.target)} +/- {pct(row.band)}"
    parts = list(m.limits.get(cls, []))
    parts += [f"{s} left out: {why}" for s, why in m.banned.items() if d.listing[s].asset_class == cls]
    if row.difference < 0 and cls != CASH_CLASS:
        allowed = [s for s in m.ranked.get(cls, []) if s not in m.banned]
        if not m.universe.get(cls):
            parts.insert(0, f"the security master has no priced {cls} security")
        elif not allowed:
            reasons = [f"{s} {m.refused[s]}" for s in m.universe[cls] if s in m.refused]
            more = f"; and {len(reasons) - 4} more" if len(reasons) > 4 else ""
            refused = "; ".join(reasons[:4]) + more
            parts.insert(0, f"no {cls} security the client may hold" + (f": {refused}" if refused else ""))
        else:
            parts += [f"{s} is held to {why}" for s, why in _held_back(m, d, allowed)]
    if row.difference > 0 and cls != CASH_CLASS and not d.holdings(cls):
        parts.insert(0, f"nothing in {cls} has a price to sell at")
    if m.c.liquidate:
        parts = ["the client asked to go to cash"]
    if not parts:
        parts = [_fallback(m, d, row)]
    return f"{head}: {'; '.join(parts)}"


def _held_back(m: Mandate, d: Draft, symbols: list[str]) -> list[tuple[str, str]]:
    """Candidates a limit leaves no room for (not a share more), with the limit."""
    out = []
    for s in symbols:
        rooms = m.rooms(d, s, {})
        if rooms and min(rooms)[0] < d.price(s):
            out.append((s, min(rooms)[1]))
    return out


def _fallback(m: Mandate, d: Draft, row: Drift) -> str:
    target, band = m.band(CASH_CLASS)
    cash = d.by("asset_class").get(CASH_CLASS, ZERO) / m.total
    if row.asset_class == CASH_CLASS:
        if row.difference > 0:
            return "the other classes cannot take more of it (see their reasons)"
        return "raising it would take another class outside its band (or there is nothing to sell)"
    if row.difference > 0 and cash > target + band:
        return "selling it would move cash further outside its band, and nothing else may take the proceeds"
    if row.difference < 0 and cash <= max(target - band, m.c.cash_reserve / m.total):
        return "no cash is left to buy more above the reserve and the cash band's lower edge"
    return "whole shares, the minimum trade and the other classes' bands leave it outside"


def _result(m: Mandate, d: Draft, verdict: Verdict, notes: list[str]) -> Proposal:
    after: Valuation = d.valuation(m.v)
    weights = allocation(after)["asset_class"]
    rows = drift(allocation(after, exact=True)["asset_class"], m.model)
    unresolved = {r.asset_class: _why(m, d, r) for r in rows if not r.in_band}
    notes += m.limits.get(CASH_CLASS, [])
    target, band = m.band(CASH_CLASS)
    if m.total > 0 and m.c.cash_reserve > (target + band) * m.total:
        share = pct(m.c.cash_reserve / m.total)
        notes.append(
            f"the reserve of {plain(m.c.cash_reserve)} is {share} of the book, above the top of the cash band"
            f" ({pct(target + band)}): the firm's check fails trades that move cash further outside its band"
        )
    return Proposal(
        tuple(d.trades()),
        weights,
        tuple(rows),
        all(r.in_band for r in rows),
        tuple(dict.fromkeys(notes)),
        verdict,
        unresolved,
        dict(d.cash),
    )


def propose(
    v: Valuation,
    model: Mapping[str, tuple[Decimal, Decimal]],
    candidates: Sequence[Candidate],
    c: Constraints,
    *,
    facts: Facts,
    policy: Policy,
) -> Proposal:
    """The trades, the book projected after them, and the firm's verdict on them. `facts` must describe the
    same book as `v` and name every candidate among its securities (the route loads both in one snapshot)."""
    m = Mandate(v, model, candidates, c, facts, policy)
    start = Draft(v, candidates)
    if v.total_value <= 0:
        return _result(m, start, judge(m, start), ["nothing to rebalance: the book has no value"])
    if c.liquidate:
        d, verdict = _liquidate(m)
        return _result(
            m, d, verdict, ["liquidation: every priced holding is sold, whatever the minimum trade"]
        )
    if not _needed(m, start):
        note = (
            "every asset class is in its band, no position or sector is above its cap and the reserve is kept"
        )
        return _result(m, start, judge(m, start), [note])
    before = start.by("asset_class")
    d = _attempt(m, before)
    verdict = judge(m, d)
    for _ in range(ROUNDS):
        if verdict.verdict != "fail":
            break
        culprits = _culprits(m, d, verdict)
        if not culprits:
            break
        m.banned.update(culprits)
        d = _attempt(m, before)
        verdict = judge(m, d)
    d, verdict = _shed(m, d, verdict)
    notes = [f"trimmed {t.symbol}: {t.reason}" for t in d.trades() if t.reason.startswith("trim ")]
    return _result(m, d, verdict, notes)
