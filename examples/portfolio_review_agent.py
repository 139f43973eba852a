"""A portfolio review agent on the wealthgate SDK.

For each client of the key's book it reads the context, risk and drift, and decides with a fixed policy:
outside the model bands or carrying a concentration flag -> ask for a rebalance -> check the trades for
suitability -> unless the check fails, propose them for human review with a rationale quoting the figures.
Every other outcome is written down with record_note, saying why nothing was proposed. It prints one line per
client: decision, verdict, status and recommendation id.

    make run                                                  # prints WEALTHGATE_API_KEY=...
    WEALTHGATE_API_KEY=<key> python examples/portfolio_review_agent.py --limit 10
    WEALTHGATE_API_KEY=<key> python examples/portfolio_review_agent.py --client 1

The rationale is a deterministic template. With OPENAI_BASE_URL set (plus OPENAI_API_KEY and OPENAI_MODEL as
needed), any OpenAI-compatible chat completions endpoint writes it from the same figures instead; on any error
the template is used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from wealthgate.client import Trade, WealthgateClient, WealthgateError

AGENT_NAME = "portfolio-review-agent"
MIN_TRADE = "1000"  # leave out rebalancing trades smaller than this
PAGE = 50


@dataclass
class Review:
    client_id: int
    name: str
    decision: str
    verdict: str = "-"
    status: str = "-"
    recommendation_id: int | None = None


def pct(weight: str | None) -> str:
    return "n/a" if weight is None else f"{Decimal(weight) * 100:.2f}%"


def clients(wg: WealthgateClient, limit: int | None, only: Sequence[int]) -> Iterator[int]:
    """The client ids to review: the given ones, or the key's book page by page (at most `limit`)."""
    if only:
        yield from only
        return
    seen, cursor = 0, None
    while limit is None or seen < limit:
        page = wg.list_clients(limit=PAGE if limit is None else min(PAGE, limit - seen), cursor=cursor)
        for item in page["items"]:
            seen += 1
            yield int(item["id"])
        cursor = page.get("next_cursor")
        if not cursor or not page["items"]:
            return


def findings(drift: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    """Why this book needs attention, in figures; empty when it does not."""
    found = [
        f"{row['asset_class']} is {pct(row['actual'])} against a target of {pct(row['target'])} "
        f"(band +/-{pct(row['band'])})"
        for row in drift.get("asset_classes", [])
        if not row["in_band"]
    ]
    found += [f"concentration flag {flag}" for flag in summary.get("concentration_flags", [])]
    return found


def as_trades(proposal: dict[str, Any]) -> list[Trade]:
    """The rebalance's trades as suitability trades, one per side and symbol (accounts summed)."""
    merged: dict[tuple[str, str], Decimal] = {}
    for t in proposal.get("trades", []):
        key = (t["side"], t["symbol"])
        merged[key] = merged.get(key, Decimal(0)) + Decimal(t["quantity"])
    return [
        Trade(side="buy" if side == "buy" else "sell", symbol=symbol, quantity=str(quantity))
        for (side, symbol), quantity in merged.items()
    ]


def facts_of(
    context: dict[str, Any],
    risk: dict[str, Any],
    reasons: list[str],
    trades: list[Trade],
    proposal: dict[str, Any],
    verdict: dict[str, Any],
) -> dict[str, Any]:
    client = context["client"]
    return {
        "client": client["name"],
        "risk_profile": client["risk_profile"],
        "objective": client["investment_objective"],
        "time_horizon": client["time_horizon"],
        "total_value": context["totals"]["total_value"],
        "as_of": risk.get("as_of"),
        "findings": reasons,
        "largest_position": risk.get("largest_position"),
        "top5_weight": risk.get("top5_weight"),
        "annualised_volatility": risk.get("annualised_volatility"),
        "max_drawdown": risk.get("max_drawdown"),
        "trades": [f"{t['side']} {t.get('quantity')} {t['symbol']}" for t in trades],
        "projected_allocation": proposal.get("projected_allocation", {}),
        "suitability_verdict": verdict["verdict"],
        "policy_version": verdict.get("policy_version_number") or verdict.get("policy_version"),
        "rules_not_passed": [r["explanation"] for r in verdict["rules"] if r["outcome"] != "pass"],
    }


def template_rationale(facts: dict[str, Any]) -> str:
    largest = facts["largest_position"] or {}
    projected = ", ".join(f"{k} {pct(v)}" for k, v in sorted(facts["projected_allocation"].items()))
    lines = [
        f"Portfolio review of {facts['client']} ({facts['risk_profile']}, objective {facts['objective']}, "
        f"{facts['time_horizon']} horizon), total value {facts['total_value']} as of {facts['as_of']}.",
        "Findings: " + "; ".join(facts["findings"]) + ".",
        f"Risk: largest position {largest.get('symbol', 'n/a')} at {pct(largest.get('weight'))}, top five "
        f"{pct(facts['top5_weight'])}, annualised volatility {pct(facts['annualised_volatility'])}, maximum "
        f"drawdown {pct(facts['max_drawdown'])}.",
        "Proposed trades (model rebalance): " + "; ".join(facts["trades"]) + ".",
        f"Projected allocation: {projected}.",
        f"Suitability pre-check: {facts['suitability_verdict']} "
        f"(firm policy version {facts['policy_version']}).",
    ]
    lines += [f"Note: {r}" for r in facts["rules_not_passed"]]
    return "\n".join(lines)


def llm_rationale(facts: dict[str, Any], http: httpx.Client | None = None) -> tuple[str, str] | None:
    """(rationale, model) from an OpenAI-compatible endpoint when OPENAI_BASE_URL is set; None otherwise or
    on any failure."""
    base = os.environ.get("OPENAI_BASE_URL", "").rstrip("/")
    if not base:
        return None
    model = os.environ.get("OPENAI_MODEL") or "gpt-4o-mini"
    headers = {"Authorization": f"Bearer {os.environ.get('OPENAI_API_KEY', '')}"}
    body = {
        "model": model,
        "temperature": 0,
        "messages": [
            {
                "role": "system",
                "content": "You write the rationale of a portfolio rebalance for a compliance reviewer. "
                "Use only the figures given, quote them exactly, and stay under 150 words.",
            },
            {"role": "user", "content": json.dumps(facts)},
        ],
    }
    try:
        with http or httpx.Client(timeout=60) as client:
            response = client.post(f"{base}/chat/completions", json=body, headers=headers)
            response.raise_for_status()
            text = response.json()["choices"][0]["message"]["content"]
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
        print(f"(rationale: {type(exc).__name__} from {base}; using the template)", file=sys.stderr)
        return None
    return (text.strip(), model) if isinstance(text, str) and text.strip() else None


def note(wg: WealthgateClient, review: Review, why: str, figures: dict[str, Any]) -> Review:
    payload = json.dumps({"agent": AGENT_NAME, "decision": review.decision, "why": why, **figures})
    wg.record_note(review.client_id, event_type="portfolio_review", payload=payload)
    review.status = "noted"
    return review


def review_client(wg: WealthgateClient, client_id: int) -> Review:
    context = wg.get_client_context(client_id, summary=True)
    risk = wg.get_risk(client_id)
    drift = wg.get_drift(client_id)
    review = Review(client_id, context["client"]["name"], "no action")
    reasons = findings(drift, context.get("summary", {}))
    figures = {"drift_in_band": drift.get("in_band"), "largest_position": risk.get("largest_position")}
    if not reasons:
        return note(wg, review, "every asset class is inside its band and no concentration flag", figures)
    proposal = wg.propose_rebalance(client_id, min_trade=MIN_TRADE)
    trades = as_trades(proposal)
    if not trades:
        review.decision = "no trades"
        return note(wg, review, "; ".join(reasons) + "; the rebalance proposes no trades", figures)
    verdict = wg.check_suitability(client_id, trades=trades)
    review.verdict = verdict["verdict"]
    facts = facts_of(context, risk, reasons, trades, proposal, verdict)
    if verdict["verdict"] == "fail":
        review.decision = "not proposed"
        return note(wg, review, "the rebalance fails suitability", facts)
    written = llm_rationale(facts)
    rationale, model = written if written else (template_rationale(facts), None)
    stored = wg.propose_recommendation(
        client_id, trades=trades, rationale=rationale, agent_name=AGENT_NAME, agent_model=model
    )
    review.decision = "proposed"
    review.status = stored["status"]
    review.recommendation_id = int(stored["id"])
    return review


def report_line(r: Review | None = None) -> str:
    if r is None:
        return f"{'client':>6}  {'name':<24} {'decision':<13} {'verdict':<13} {'status':<13} recommendation"
    rec = "-" if r.recommendation_id is None else str(r.recommendation_id)
    return f"{r.client_id:>6}  {r.name[:24]:<24} {r.decision:<13} {r.verdict:<13} {r.status:<13} {rec}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, help="review at most N clients of the book")
    parser.add_argument("--client", type=int, action="append", default=[], help="review this client (repeat)")
    args = parser.parse_args(argv)
    proposed = noted = 0
    try:
        with WealthgateClient() as wg:
            print(report_line())
            for client_id in clients(wg, args.limit, args.client):
                review = review_client(wg, client_id)
                proposed += review.recommendation_id is not None
                noted += review.status == "noted"
                print(report_line(review), flush=True)
    except WealthgateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"reviewed {proposed + noted} clients: {proposed} recommendations proposed, {noted} notes recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
