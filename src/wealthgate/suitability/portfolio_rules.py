"""Rules about the book the trades leave (engine 2026-12-02.1): holdings, liquidity, concentration, the
model's bands, equity for age and horizon, trade frequency, and a full liquidation.

A rule never fails a trade that moves the book toward compliance: the caps look only at positions the trades
increase, the band rule only at classes moved further out. Numbers in sentences are plain decimals
(`money.plain`), never exponents.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from wealthgate.money import plain, trimmed
from wealthgate.suitability.book import ZERO, Book, Case, money_text, names, pct, result, share_text, times
from wealthgate.suitability.facts import RuleResult


def holdings_sufficient(c: Case) -> RuleResult:
    short = sorted(s for s, d in c.change.items() if c.facts.positions.get(s, ZERO) + d < 0)
    if not short:
        return RuleResult(
            "holdings_sufficient", "pass", None, None, "Every sale is covered by shares the client holds."
        )
    s = short[0]
    held, sold = c.facts.positions.get(s, ZERO), -c.change[s]
    return RuleResult(
        "holdings_sufficient",
        "fail",
        trimmed(held),
        trimmed(sold),
        f"The client holds {trimmed(held)} {s} and the trades sell {trimmed(sold)}.",
    )


def liquidity(c: Case) -> RuleResult:
    policy, secs = c.policy, c.facts.securities
    illiquid = {s for s, sec in secs.items() if sec.liquidity in policy.illiquid_liquidity}
    bought = sorted({t.symbol for t in c.buys} & illiquid)
    share_before = c.before.share(sum((v for s, v in c.before.values.items() if s in illiquid), ZERO))
    share_after = c.after.share(sum((v for s, v in c.after.values.items() if s in illiquid), ZERO))
    threshold = {
        "max_share": share_text(policy.illiquid_max_share),
        "blocked_for": sorted(policy.illiquid_blocked_needs),
    }
    needs = c.facts.profile.liquidity_needs
    if bought and needs in policy.illiquid_blocked_needs:
        return RuleResult(
            "liquidity",
            "fail",
            threshold,
            share_text(share_after),
            f"The client has {needs} liquidity needs and {', '.join(bought)} is illiquid.",
        )
    return result(
        "liquidity",
        share_after > policy.illiquid_max_share and share_after > share_before,
        threshold,
        share_text(share_after),
        f"Illiquid products are {pct(share_after)} of the portfolio after the trades.",
        f"Illiquid products would rise to {pct(share_after)}, above the {pct(policy.illiquid_max_share)}"
        " limit.",
        worse="needs_review",
    )


def single_issuers(c: Case, book: Book) -> dict[str, Decimal]:
    """Exposure per single holding: funds of exempt sectors spread their own risk, unless leveraged."""
    secs, exempt = c.facts.securities, c.policy.cap_exempt_sectors
    return {s: c.exposure(book, s) for s in book.values if secs[s].leveraged or secs[s].sector not in exempt}


def _sectors(c: Case, book: Book) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for s in book.values:
        sector = c.facts.securities[s].sector
        if sector not in c.policy.cap_exempt_sectors:
            out[sector] += c.exposure(book, s)
    return dict(out)


def _held_away(c: Case) -> Decimal:
    return c.facts.profile.held_away_assets if c.policy.include_held_away_assets else ZERO


def _cap(
    c: Case, rule: str, label: str, before: dict[str, Decimal], after: dict[str, Decimal], cap: Decimal
) -> RuleResult:
    """Fail when a holding (or sector) the trades increase ends above the cap; its weight is its exposure over
    the book's value plus, where the policy says so, the client's held-away assets."""
    raised = [k for k, v in after.items() if v > before.get(k, ZERO)]
    pool = raised or list(after)
    if not pool:
        return RuleResult(rule, "pass", share_text(cap), None, f"Nothing the {label} cap counts is held.")
    worst = max(pool, key=lambda k: (after[k], k))
    away = _held_away(c)
    weight = c.after.share(after[worst], away)
    of = "the portfolio" if away == 0 else f"the client's assets (with {money_text(away)} held away)"
    note = ""
    sec = c.facts.securities.get(worst) if rule == "single_position_cap" else None
    if sec is not None and sec.leveraged:
        market = c.after.share(c.after.values[worst], away)
        multiple = trimmed(abs(sec.leverage))
        note = f"; a {times(sec.leverage)} fund counts by its exposure, {multiple} times its {pct(market)}"
        note += " of value"
    if raised and weight > cap:
        return RuleResult(
            rule,
            "fail",
            share_text(cap),
            share_text(weight),
            f"{worst} would be {pct(weight)} of {of} after the trades, above the {pct(cap)} {label}"
            f" cap{note}.",
        )
    if raised:
        text = f"The largest {label} the trades increase, {worst}, would be {pct(weight)}"
        text += f" (cap {pct(cap)}{note})."
    else:
        text = f"No trade increases a {label}; the largest, {worst}, would be {pct(weight)} (cap {pct(cap)})."
    return RuleResult(rule, "pass", share_text(cap), share_text(weight), text)


def single_position_cap(c: Case) -> RuleResult:
    return _cap(
        c,
        "single_position_cap",
        "single-position",
        single_issuers(c, c.before),
        single_issuers(c, c.after),
        c.policy.single_position_cap,
    )


def sector_cap(c: Case) -> RuleResult:
    return _cap(c, "sector_cap", "sector", _sectors(c, c.before), _sectors(c, c.after), c.policy.sector_cap)


def asset_class_bands(c: Case) -> RuleResult:
    level = c.facts.profile.risk_level
    model = c.policy.asset_class_bands.get(level, {})
    if not model:
        return RuleResult("asset_class_bands", "pass", None, None, f"The policy sets no bands for {level}.")
    secs = c.facts.securities
    pre, post = c.before.by(secs, "asset_class"), c.after.by(secs, "asset_class")
    pre["cash_equivalent"] = pre.get("cash_equivalent", ZERO) + c.before.cash
    post["cash_equivalent"] = post.get("cash_equivalent", ZERO) + c.after.cash
    threshold = {k: {"target": plain(b.target), "band": plain(b.band)} for k, b in sorted(model.items())}
    value = {k: share_text(c.after.share(v)) for k, v in sorted(post.items()) if v != 0}
    worse, outside = [], []
    for cls in sorted(set(model) | set(post)):
        target = model[cls].target if cls in model else ZERO
        band = model[cls].band if cls in model else ZERO
        gap_after = abs(c.after.share(post.get(cls, ZERO)) - target)
        if gap_after > band:
            outside.append(cls)
            if gap_after > abs(c.before.share(pre.get(cls, ZERO)) - target):
                worse.append(cls)
    if worse and c.liquidation:
        return RuleResult(
            "asset_class_bands",
            "needs_review",
            threshold,
            value,
            f"Selling everything leaves {', '.join(worse)} outside the {level} model's bands, as a"
            " liquidation must; a person confirms it (see the liquidation rule).",
        )
    if worse:
        return RuleResult(
            "asset_class_bands",
            "fail",
            threshold,
            value,
            f"The trades move {', '.join(worse)} further outside the {level} model's bands.",
        )
    if outside:
        return RuleResult(
            "asset_class_bands",
            "needs_review",
            threshold,
            value,
            f"{', '.join(outside)} stays outside the model's bands after the trades, though no further from"
            " its target.",
        )
    return RuleResult(
        "asset_class_bands",
        "pass",
        threshold,
        value,
        "Every asset class is within its model band after the trades.",
    )


def equity_for_age_and_horizon(c: Case) -> RuleResult:
    p, policy, secs = c.facts.profile, c.policy, c.facts.securities
    limit = policy.equity_by_time_horizon[p.time_horizon]
    reason = f"a {p.time_horizon} time horizon"
    if p.age >= policy.equity_age_from and policy.equity_age_max_share < limit:
        limit, reason = policy.equity_age_max_share, f"age {p.age}"
    eq_before = c.before.share(c.before.by(secs, "asset_class").get("equity", ZERO))
    eq_after = c.after.share(c.after.by(secs, "asset_class").get("equity", ZERO))
    return result(
        "equity_for_age_and_horizon",
        eq_after > limit and eq_after > eq_before,
        share_text(limit),
        share_text(eq_after),
        f"Equities are {pct(eq_after)} after the trades; the limit for {reason} is {pct(limit)}.",
        f"Equities would rise to {pct(eq_after)}, above the {pct(limit)} suited to {reason}.",
        worse="needs_review",
    )


def trade_frequency(c: Case) -> RuleResult:
    count = c.facts.recent_trades + len(c.trades)
    days, most = c.policy.frequency_window_days, c.policy.frequency_max_trades
    return result(
        "trade_frequency",
        count > most,
        most,
        count,
        f"{count} trades in {days} days including these, within the limit of {most}.",
        f"{count} trades in {days} days including these exceeds {most}: possible churning.",
        worse="needs_review",
    )


def liquidation(c: Case) -> RuleResult:
    """Selling everything is legitimate at a client's request, and a person confirms it (taxes, penalties,
    what the client will live on): it goes to review, never to fail."""
    if not c.liquidation:
        return RuleResult("liquidation", "pass", None, None, "The trades do not sell every holding.")
    sold = sorted(s for s in c.before.values if s not in c.after.values)
    proceeds = c.after.cash - c.before.cash
    return RuleResult(
        "liquidation",
        "needs_review",
        None,
        {"positions_sold": len(sold), "proceeds": money_text(proceeds)},
        f"The trades sell every holding ({len(sold)} positions: {names(sold)}) for {money_text(proceeds)}: a"
        " full liquidation is the client's right, and a person confirms it before it is carried out.",
    )
