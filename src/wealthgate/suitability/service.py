"""Loading the facts a check needs (scoped to the caller), and recording checks with their audit events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.auth.principal import Principal
from wealthgate.clients.service import CLIENT_NOT_FOUND
from wealthgate.clients.visibility import scope_args, scoped
from wealthgate.errors import Invalid, NotFound
from wealthgate.suitability import policy as rules
from wealthgate.suitability.engine import Facts, Profile, Security, Trade, Verdict, evaluate
from wealthgate.suitability.policies import PolicyVersion, current
from wealthgate.suitability.snapshot import digest, trades_to_json

_CLIENT = scoped(
    """
SELECT c.id, c.risk_tolerance, date_part('year', age(current_date, c.date_of_birth))::int AS age,
       c.time_horizon, c.liquidity_needs, c.investment_experience, c.excluded_symbols, c.excluded_sectors,
       (SELECT coalesce(sum(a.cash_balance), 0) FROM accounts a
        WHERE a.firm_id = c.firm_id AND a.client_id = c.id) AS cash
FROM visible c WHERE c.id = $3
"""
)
_POSITIONS = """
SELECT symbol, sum(quantity) AS quantity FROM positions
WHERE firm_id = $1 AND client_id = $2 GROUP BY symbol HAVING sum(quantity) <> 0
"""
_SECURITIES = """
SELECT symbol, name, asset_class, sector, risk_rating, is_complex, liquidity, last_price, last_price_date
FROM securities WHERE symbol = ANY($1::text[])
"""
_RECENT_TRADES = """
SELECT count(*) FROM transactions
WHERE firm_id = $1 AND client_id = $2 AND type IN ('buy', 'sell') AND reverses_id IS NULL
  AND trade_date > $3::date - $4::int AND trade_date <= $3::date
"""
_INSERT_CHECK = """
INSERT INTO suitability_checks (firm_id, client_id, api_key_id, policy_version_id, policy_hash, trades,
                                verdict, rules, data_as_of)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
"""


async def load_facts(
    conn: asyncpg.Connection, principal: Principal, client_id: int, trades: list[Trade], policy: rules.Policy
) -> Facts:
    """The client's profile, client-level holdings and cash, the securities involved (with their latest
    prices) and the recent trade count; 404 when the client is not visible to the caller. A traded symbol
    that is unknown or has no price is a 422 naming the trade."""
    c = await conn.fetchrow(_CLIENT, *scope_args(principal, client_id))
    if c is None:
        raise NotFound(CLIENT_NOT_FOUND)
    positions = {
        r["symbol"]: r["quantity"] for r in await conn.fetch(_POSITIONS, principal.firm_id, client_id)
    }
    symbols = sorted(set(positions) | {t.symbol for t in trades})
    found = {r["symbol"]: r for r in await conn.fetch(_SECURITIES, symbols)}
    for i, t in enumerate(trades):
        r = found.get(t.symbol)
        if r is None:
            raise Invalid(f"unknown security {t.symbol}", field=f"trades[{i}].symbol")
        if r["last_price"] is None:
            raise Invalid(f"{t.symbol} has no price to value the trade at", field=f"trades[{i}].symbol")
    securities = {
        s: Security(
            symbol=s,
            name=r["name"],
            asset_class=r["asset_class"],
            sector=r["sector"],
            risk_rating=r["risk_rating"],
            is_complex=r["is_complex"],
            liquidity=r["liquidity"],
            price=r["last_price"] if r["last_price"] is not None else Decimal(0),
            price_date=r["last_price_date"] or date.min,
        )
        for s, r in found.items()
    }
    as_of = max(
        (s.price_date for s in securities.values() if s.price_date != date.min),
        default=datetime.now(UTC).date(),
    )
    recent = await conn.fetchval(
        _RECENT_TRADES, principal.firm_id, client_id, as_of, policy.frequency_window_days
    )
    return Facts(
        as_of=as_of,
        profile=Profile(
            risk_level=c["risk_tolerance"],
            age=c["age"],
            time_horizon=c["time_horizon"],
            liquidity_needs=c["liquidity_needs"],
            investment_experience=c["investment_experience"],
            excluded_symbols=frozenset(c["excluded_symbols"] or ()),
            excluded_sectors=frozenset(c["excluded_sectors"] or ()),
        ),
        positions=positions,
        cash=c["cash"],
        securities=securities,
        recent_trades=int(recent),
    )


async def judge(
    conn: asyncpg.Connection, principal: Principal, client_id: int, trades: list[Trade]
) -> tuple[PolicyVersion, Facts, Verdict]:
    """The current policy, the facts, and the verdict: what a check and a recommendation both run."""
    version = await current(conn, principal.firm_id)
    policy = rules.parse(version.content)
    facts = await load_facts(conn, principal, client_id, trades, policy)
    return version, facts, evaluate(facts, policy, trades)


def answer(check_id: int, client_id: int, version: PolicyVersion, verdict: Verdict) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "client_id": client_id,
        **verdict.to_json(),
        "policy_version": version.content_hash,
        "policy_version_number": version.version,
    }


async def check(
    conn: asyncpg.Connection,
    principal: Principal,
    client_id: int,
    trades: list[Trade],
    *,
    request_id: str | None,
    recommendation: bool = False,
) -> tuple[int, PolicyVersion, Facts, Verdict]:
    """Run the check and record it (row + audit event) in the caller's transaction."""
    version, facts, verdict = await judge(conn, principal, client_id, trades)
    body = verdict.to_json()
    check_id: int = await conn.fetchval(
        _INSERT_CHECK,
        principal.firm_id,
        client_id,
        principal.key_id,
        version.id,
        version.content_hash,
        trades_to_json(trades),
        verdict.verdict,
        body["rules"],
        facts.as_of,
    )
    if not recommendation:  # a recommendation records one event for both
        await record(
            conn,
            firm_id=principal.firm_id,
            actor=principal.actor(),
            action="suitability.checked",
            target_type="suitability_check",
            target_id=check_id,
            client_id=client_id,
            details={
                "verdict": verdict.verdict,
                "policy_version": version.content_hash,
                "as_of": facts.as_of.isoformat(),
                "trades_digest": digest(trades_to_json(trades)),
                "failed": [r.rule for r in verdict.rules if r.outcome != "pass"],
            },
            request_id=request_id,
        )
    return check_id, version, facts, verdict
