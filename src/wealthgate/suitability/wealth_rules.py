"""Rules that weigh the trades against the client's means (engine 2026-12-02.1): cash and margin, the size of
the purchase against liquid net worth, a holding against net worth, and trading against equity over a year.

Figures the profile does not record send the trade to a person, never to a guess. Numbers in sentences are
plain decimals (`money.plain`), never exponents.
"""

from __future__ import annotations

from decimal import Decimal

from wealthgate.money import plain, rounded
from wealthgate.suitability.book import ZERO, Case, money_text, pct, result, share_text
from wealthgate.suitability.facts import RuleResult
from wealthgate.suitability.portfolio_rules import single_issuers

DAYS_IN_YEAR = Decimal(365)


def _can_borrow(c: Case) -> bool:
    return c.facts.profile.margin_approved and c.facts.margin_account


def cash_sufficient(c: Case) -> RuleResult:
    before, after = c.before.cash, c.after.cash
    needed = before - after
    if needed < 0:
        text = f"The trades bring in {money_text(-needed)} of cash net"
    else:
        text = f"The trades need {money_text(needed)} of cash net"
    if after >= 0 or after >= before:  # no shortfall, or the trades shrink one there was
        return RuleResult(
            "cash_sufficient",
            "pass",
            money_text(before),
            money_text(needed),
            f"{text} and {money_text(before)} is available.",
        )
    if _can_borrow(c):
        return RuleResult(
            "cash_sufficient",
            "pass",
            money_text(before),
            money_text(needed),
            f"{text}; {money_text(before)} is available and the {money_text(-after)} short would be"
            " borrowed on margin (see the margin rule).",
        )
    return RuleResult(
        "cash_sufficient",
        "fail",
        money_text(before),
        money_text(needed),
        f"{text} but only {money_text(before)} is available.",
    )


def margin(c: Case) -> RuleResult:
    """A proposal that spends more than the cash borrows the rest: only for a client approved for margin with
    an account that allows it, and no more than the policy's share of the securities held after the trades
    (Regulation T's initial requirement: the loan at most 50% of the securities bought)."""
    limit = c.policy.margin_max_loan_share
    loan, was = max(-c.after.cash, ZERO), max(-c.before.cash, ZERO)
    securities = c.after.securities_value()
    share = loan / securities if securities > 0 else (ZERO if loan == 0 else Decimal(1))
    value = {"loan": money_text(loan), "share_of_securities": share_text(share)}
    if loan == 0:
        return RuleResult(
            "margin", "pass", share_text(limit), value, "No margin is used: cash covers the trades."
        )
    if loan <= was:  # a sale that pays down a loan the client already has moves toward compliance
        return RuleResult(
            "margin",
            "pass",
            share_text(limit),
            value,
            f"The trades borrow nothing more: the margin loan is {money_text(loan)}, it was"
            f" {money_text(was)}.",
        )
    p = c.facts.profile
    if not p.margin_approved:
        why = "the client is not approved for margin"
    elif not c.facts.margin_account:
        why = "no account of the client allows margin"
    elif share > limit:
        why = f"that is {pct(share)} of the securities held after the trades, above the {pct(limit)} limit"
    else:
        return RuleResult(
            "margin",
            "pass",
            share_text(limit),
            value,
            f"{money_text(loan)} would be borrowed on margin, {pct(share)} of the securities held after the"
            f" trades (limit {pct(limit)}); the client is approved for margin.",
        )
    return RuleResult(
        "margin",
        "fail",
        share_text(limit),
        value,
        f"The trades would borrow {money_text(loan)} on margin, but {why}.",
    )


def trade_size(c: Case) -> RuleResult:
    """What the proposal buys against the client's liquid net worth: a large commitment of the money the
    client could reach goes to a person, whatever the book looks like after."""
    limit = c.policy.trade_size_max_share
    lnw = c.facts.profile.liquid_net_worth
    bought = c.purchases
    if bought == 0:
        return RuleResult("trade_size", "pass", share_text(limit), None, "Nothing is bought.")
    if lnw is None or lnw <= 0:
        return RuleResult(
            "trade_size",
            "needs_review",
            share_text(limit),
            None,
            f"The trades buy {money_text(bought)} and the profile records no liquid net worth to weigh it"
            " against.",
        )
    share = bought / lnw
    return result(
        "trade_size",
        share > limit,
        share_text(limit),
        share_text(share),
        f"The trades buy {money_text(bought)}, {pct(share)} of the client's liquid net worth of"
        f" {money_text(lnw)} (review above {pct(limit)}).",
        f"The trades buy {money_text(bought)}, {pct(share)} of the client's liquid net worth of"
        f" {money_text(lnw)}, above the {pct(limit)} a person reviews.",
        worse="needs_review",
    )


def net_worth_concentration(c: Case) -> RuleResult:
    """The largest single holding the trades increase (by exposure) against the client's whole net worth."""
    limit = c.policy.net_worth_max_position_share
    before, after = single_issuers(c, c.before), single_issuers(c, c.after)
    raised = [k for k, v in after.items() if v > before.get(k, ZERO)]
    if not raised:
        return RuleResult(
            "net_worth_concentration", "pass", share_text(limit), None, "No trade increases a single holding."
        )
    worst = max(raised, key=lambda k: (after[k], k))
    nw = c.facts.profile.net_worth
    if nw is None or nw <= 0:
        return RuleResult(
            "net_worth_concentration",
            "needs_review",
            share_text(limit),
            None,
            f"The trades increase {worst} and the profile records no net worth to weigh it against.",
        )
    share = after[worst] / nw
    return result(
        "net_worth_concentration",
        share > limit,
        share_text(limit),
        share_text(share),
        f"{worst} would be {pct(share)} of the client's net worth of {money_text(nw)} (review above"
        f" {pct(limit)}).",
        f"{worst} would be {pct(share)} of the client's net worth of {money_text(nw)}, above the"
        f" {pct(limit)} a person reviews.",
        worse="needs_review",
    )


def turnover_and_cost(c: Case) -> RuleResult:
    """Quantitative suitability: purchases (these included) and costs over the trailing window, against the
    average equity, annualised. Above the review levels a person looks; above the fail levels a proposal that
    buys is refused (FINRA's markers of excessive trading: turnover 6, cost-to-equity 20%)."""
    policy, a = c.policy, c.facts.activity
    threshold = {
        "window_days": policy.turnover_window_days,
        "turnover": {"review": plain(policy.turnover_review), "fail": plain(policy.turnover_fail)},
        "cost_equity": {"review": plain(policy.cost_equity_review), "fail": plain(policy.cost_equity_fail)},
    }
    if a is None or a.average_equity <= 0:
        return RuleResult(
            "turnover_and_cost",
            "needs_review",
            threshold,
            None,
            "The client's trading over the window was not measured (no equity to measure it against): a"
            " person looks at the account's activity.",
        )
    year = DAYS_IN_YEAR / a.window_days
    turnover = (a.purchases + c.purchases) / a.average_equity * year
    cost = a.costs / a.average_equity * year
    value = {"turnover": share_text(turnover), "cost_equity": share_text(cost)}
    ratio = plain(rounded(turnover, Decimal("0.01")))
    figures = (
        f"over {a.window_days} days purchases of {money_text(a.purchases + c.purchases)} (these included) are"
        f" {ratio} times the average equity of {money_text(a.average_equity)} and costs of"
        f" {money_text(a.costs)} are {pct(cost)} of it, a year's worth"
    )
    over_fail = turnover > policy.turnover_fail or cost > policy.cost_equity_fail
    over_review = turnover > policy.turnover_review or cost > policy.cost_equity_review
    if over_fail and c.buys:
        outcome = "fail"
        text = (
            f"Excessive trading: {figures}, above the fail levels (turnover {plain(policy.turnover_fail)},"
            f" cost {pct(policy.cost_equity_fail)})."
        )
    elif over_review:
        outcome = "needs_review"
        text = (
            f"Possible excessive trading: {figures}, above the review levels (turnover"
            f" {plain(policy.turnover_review)}, cost {pct(policy.cost_equity_review)})."
        )
    else:
        outcome = "pass"
        text = (
            f"Trading is moderate: {figures}, within the review levels (turnover"
            f" {plain(policy.turnover_review)}, cost {pct(policy.cost_equity_review)})."
        )
    return RuleResult("turnover_and_cost", outcome, threshold, value, text)
