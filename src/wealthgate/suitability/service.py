"""Loading the facts a check needs (scoped to the caller), and recording checks with their audit events.

The facts are the client's whole profile (Reg BI's investment profile, held-away assets and the options and
margin approvals included), whether any account allows margin, client-level holdings and cash, the securities
involved (with leverage), the recent trade count and the trading over the turnover window (`_ACTIVITY`).

`check` is the use case's entry: its scoped lookup (`find_investor`) reads the investor's profile in the same
round trip; everything after it takes the `Investor` and binds `**investor.client.ids`. A caller that already
holds a `VisibleClient` (the rebalance proposal) gets the profile with `investor`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg

from wealthgate.audit.record import record
from wealthgate.auth.principal import Principal
from wealthgate.clients.visibility import CLIENT_NOT_FOUND, VisibleClient, find_with, scoped
from wealthgate.db.sql import Sql
from wealthgate.errors import Invalid, NotFound
from wealthgate.money import to_cents
from wealthgate.suitability import policy as rules
from wealthgate.suitability.engine import (
    ENGINE_VERSION,
    Activity,
    Facts,
    Profile,
    Security,
    Trade,
    Verdict,
    evaluate,
)
from wealthgate.suitability.policies import PolicyVersion, current
from wealthgate.suitability.snapshot import digest, trades_to_json

# The investor's profile, client-level cash and whether any account allows margin, read from `visible`: the
# scoped lookup itself (`find_investor`), or, for a client already proven visible, the one client by its ids.
_INVESTOR = """
SELECT c.id, c.risk_tolerance, date_part('year', age(current_date, c.date_of_birth))::int AS age,
       c.time_horizon, c.liquidity_needs, c.investment_experience, c.excluded_symbols, c.excluded_sectors,
       c.investment_objective, c.annual_income, c.net_worth, c.liquid_net_worth, c.tax_status,
       c.held_away_assets, c.options_level, c.margin_approved,
       (SELECT coalesce(sum(a.cash_balance), 0) FROM accounts a
        WHERE a.firm_id = c.firm_id AND a.client_id = c.id) AS cash,
       (SELECT coalesce(bool_or(a.allows_margin), false) FROM accounts a
        WHERE a.firm_id = c.firm_id AND a.client_id = c.id) AS margin_account
FROM visible c WHERE c.id = :client_id
"""
_FIND_INVESTOR = scoped(_INVESTOR)
_INVESTOR_OF = Sql(_INVESTOR).using(
    visible=Sql("SELECT * FROM clients WHERE firm_id = :firm_id AND id = :client_id")
)
_POSITIONS = Sql(
    """
SELECT symbol, sum(quantity) AS quantity FROM positions
WHERE firm_id = :firm_id AND client_id = :client_id GROUP BY symbol HAVING sum(quantity) <> 0
"""
)
_SECURITIES = Sql(
    """
SELECT symbol, name, asset_class, sector, risk_rating, is_complex, liquidity, leverage, last_price,
       last_price_date
FROM securities WHERE symbol = ANY(:symbols::text[])
"""
)
# Buys and sells in the window; a reversed trade and its reversal both count nowhere (as in ledger replay).
_RECENT_TRADES = Sql(
    """
SELECT count(*) FROM transactions t
WHERE t.firm_id = :firm_id AND t.client_id = :client_id AND t.type IN ('buy', 'sell')
  AND t.reverses_id IS NULL
  AND t.trade_date > :as_of::date - :window::int AND t.trade_date <= :as_of::date
  AND NOT EXISTS (SELECT 1 FROM transactions r
                  WHERE r.firm_id = t.firm_id AND r.client_id = t.client_id AND r.reverses_id = t.id)
"""
)
# The client's trading over the turnover window ending on the data date, reversed pairs left out (a reversal
# and what it reverses count nowhere, as in ledger replay): gross purchases, costs (fees on trades and fee
# transactions such as advisory fees) and the average of the client's value every 30 days back from the data
# date (cash as the sum of amounts, holdings as the signed sum of traded quantities at each day's latest
# close), over the days on which the client had any transaction yet.
_ACTIVITY = Sql(
    """
WITH live AS (
    SELECT t.trade_date, t.type, t.symbol, t.quantity, t.price, t.amount, t.fees
    FROM transactions t
    WHERE t.firm_id = :firm_id AND t.client_id = :client_id AND t.trade_date <= :as_of::date
      AND t.reverses_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM transactions x
                      WHERE x.firm_id = t.firm_id AND x.client_id = t.client_id AND x.reverses_id = t.id)
), points AS (
    SELECT :as_of::date - k AS day FROM generate_series(0, :window::int - 1, 30) AS k
    WHERE EXISTS (SELECT 1 FROM live l WHERE l.trade_date <= :as_of::date - k)
), equity AS (
    SELECT p.day,
           (SELECT coalesce(sum(l.amount), 0) FROM live l WHERE l.trade_date <= p.day)
           + (SELECT coalesce(sum(h.quantity * px.close), 0)
              FROM (SELECT l.symbol,
                           sum(CASE l.type WHEN 'buy' THEN l.quantity WHEN 'sell' THEN -l.quantity
                                           WHEN 'transfer' THEN l.quantity ELSE 0 END) AS quantity
                    FROM live l WHERE l.symbol IS NOT NULL AND l.trade_date <= p.day GROUP BY l.symbol) h
              CROSS JOIN LATERAL (SELECT close FROM prices WHERE symbol = h.symbol AND price_date <= p.day
                                  ORDER BY price_date DESC LIMIT 1) px) AS value
    FROM points p
)
SELECT (SELECT coalesce(sum(quantity * price), 0) FROM live
        WHERE type = 'buy' AND trade_date > :as_of::date - :window::int) AS purchases,
       (SELECT coalesce(sum(fees), 0) + coalesce(sum(-amount) FILTER (WHERE type = 'fee'), 0) FROM live
        WHERE trade_date > :as_of::date - :window::int) AS costs,
       (SELECT coalesce(round(avg(value), 2), 0) FROM equity) AS average_equity
"""
)
_INSERT_CHECK = Sql(
    """
INSERT INTO suitability_checks (firm_id, client_id, api_key_id, policy_version_id, policy_hash, trades,
                                verdict, rules, data_as_of)
VALUES (:firm_id, :client_id, :api_key_id, :policy_version_id, :policy_hash, :trades,
        :verdict, :rules, :data_as_of)
RETURNING id
"""
)


@dataclass(frozen=True, slots=True)
class Investor:
    """A client the caller may see (`client`), with what a check reads of it besides its holdings."""

    client: VisibleClient
    profile: Profile
    cash: Decimal  # client-level: every account's cash
    margin_account: bool  # any account allows margin


def _investor(client: VisibleClient, c: asyncpg.Record) -> Investor:
    return Investor(
        client,
        Profile(
            risk_level=c["risk_tolerance"],
            age=c["age"],
            time_horizon=c["time_horizon"],
            liquidity_needs=c["liquidity_needs"],
            investment_experience=c["investment_experience"],
            excluded_symbols=frozenset(c["excluded_symbols"] or ()),
            excluded_sectors=frozenset(c["excluded_sectors"] or ()),
            investment_objective=c["investment_objective"],
            annual_income=c["annual_income"],
            net_worth=c["net_worth"],
            liquid_net_worth=c["liquid_net_worth"],
            tax_status=c["tax_status"],
            held_away_assets=c["held_away_assets"],
            options_level=c["options_level"],
            margin_approved=c["margin_approved"],
        ),
        c["cash"],
        c["margin_account"],
    )


async def find_investor(conn: asyncpg.Connection, principal: Principal, client_id: int) -> Investor:
    """The scoped lookup and the investor's profile in one round trip; 404 unless the client is visible."""
    client, row = await find_with(conn, principal, client_id, _FIND_INVESTOR)
    return _investor(client, row)


async def investor(conn: asyncpg.Connection, client: VisibleClient) -> Investor:
    """The profile of a client already proven visible (e.g. by the portfolio's own lookup)."""
    row = await _INVESTOR_OF.fetchrow(conn, **client.ids)
    if row is None:  # only if the client was deleted since it was found, outside this snapshot
        raise NotFound(CLIENT_NOT_FOUND)
    return _investor(client, row)


async def load_facts(
    conn: asyncpg.Connection, investor: Investor, trades: list[Trade], policy: rules.Policy
) -> Facts:
    """The investor's profile, client-level holdings and cash, the securities involved (with their latest
    prices) and the recent trading. A traded symbol that is unknown or has no price is a 422 naming the
    trade."""
    ids = investor.client.ids
    positions = {r["symbol"]: r["quantity"] for r in await _POSITIONS.fetch(conn, **ids)}
    symbols = sorted(set(positions) | {t.symbol for t in trades})
    found = {r["symbol"]: r for r in await _SECURITIES.fetch(conn, symbols=symbols)}
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
            leverage=r["leverage"],
        )
        for s, r in found.items()
    }
    as_of = max(
        (s.price_date for s in securities.values() if s.price_date != date.min),
        default=datetime.now(UTC).date(),
    )
    recent = await _RECENT_TRADES.fetchval(conn, **ids, as_of=as_of, window=policy.frequency_window_days)
    activity = await _ACTIVITY.fetchrow(conn, **ids, as_of=as_of, window=policy.turnover_window_days)
    if activity is None:  # cannot happen: an aggregate query returns one row
        raise RuntimeError("activity is missing although an aggregate query returns one row")
    return Facts(
        as_of=as_of,
        profile=investor.profile,
        positions=positions,
        cash=investor.cash,
        securities=securities,
        recent_trades=int(recent),
        margin_account=investor.margin_account,
        activity=Activity(
            window_days=policy.turnover_window_days,
            purchases=to_cents(activity["purchases"]),
            costs=to_cents(activity["costs"]),
            average_equity=activity["average_equity"],
        ),
    )


async def check(
    conn: asyncpg.Connection,
    principal: Principal,
    client_id: int,
    trades: list[Trade],
    *,
    request_id: str | None,
    recommendation: bool = False,
) -> tuple[int, PolicyVersion, Facts, Verdict]:
    """Run the check and record it (row + audit event) in the caller's transaction: the current policy
    (409 without one), the scoped lookup of the client (404), its facts, the verdict. The use case's entry:
    the lookup happens here, once, in the same round trip as the investor's profile."""
    version = await current(conn, principal.firm_id)
    policy = rules.parse(version.content)
    investor = await find_investor(conn, principal, client_id)
    facts = await load_facts(conn, investor, trades, policy)
    verdict = evaluate(facts, policy, trades)
    body = verdict.to_json()
    check_id: int = await _INSERT_CHECK.fetchval(
        conn,
        **investor.client.ids,
        api_key_id=principal.key_id,
        policy_version_id=version.id,
        policy_hash=version.content_hash,
        trades=trades_to_json(trades),
        verdict=verdict.verdict,
        rules=body["rules"],
        data_as_of=facts.as_of,
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
                "engine_version": ENGINE_VERSION,
                "policy_version": version.content_hash,
                "as_of": facts.as_of.isoformat(),
                "trades_digest": digest(trades_to_json(trades)),
                "failed": [r.rule for r in verdict.rules if r.outcome != "pass"],
            },
            request_id=request_id,
        )
    return check_id, version, facts, verdict
