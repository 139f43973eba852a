"""Plain SQL for the client read paths. The agent context is one round trip; PostgreSQL builds the JSON."""

from __future__ import annotations

import json
from decimal import Decimal

from wealthgate.clients.sql import exact, money, rounded
from wealthgate.clients.visibility import scoped
from wealthgate.db.sql import Sql
from wealthgate.money import CENT, WEIGHT_PLACES

# The context summary's allocation is shown to 4 places (a compact overview); holdings' weights to 6.
SUMMARY_PLACES = Decimal("0.0001")
# Concentration flags raised in the context summary (shares of total value). They concern single issuers:
# holdings in sectors "Diversified" and "Cash" (funds) spread their own risk and are not counted, unless
# leveraged or inverse; a leveraged or inverse fund counts by its exposure (value x |leverage|), as in the
# suitability engine's caps.
POSITION_FLAG = "0.20"
SECTOR_FLAG = "0.40"
CASH_FLAG = "0.20"

INSTRUCTIONS = (
    "Use risk profile before making any recommendation",
    "Write every decision to audit_events",
    "Quote figures exactly as given: amounts, quantities and weights are decimal strings",
    "Weights are shares of total value (holdings plus cash) at each holding's price_date",
    "Respect restrictions.excluded_symbols and restrictions.excluded_sectors in any proposal",
)

# A constant of the statement: PostgreSQL keeps it in the prepared plan, nothing is encoded per request.
INSTRUCTIONS_JSON = "'" + json.dumps(list(INSTRUCTIONS)).replace("'", "''") + "'"

SUMMARY_CTES = """, by_class AS (
    SELECT cls, sum(v) AS v FROM (
        SELECT asset_class AS cls, mv AS v FROM h WHERE mv IS NOT NULL
        UNION ALL SELECT 'cash_equivalent', t.cash FROM t
    ) x GROUP BY cls
)
, model AS (
    SELECT w.asset_class AS cls, w.target_weight AS target, w.band
    FROM c JOIN model_portfolios m ON m.firm_id = c.firm_id AND m.risk_level = c.risk_tolerance
    JOIN model_portfolio_weights w ON w.firm_id = m.firm_id AND w.model_portfolio_id = m.id
)
, drift AS (
    SELECT coalesce(m.cls, b.cls) AS cls,
           coalesce(b.v, 0) / nullif(t.mv + t.cash, 0) - coalesce(m.target, 0) AS diff,
           coalesce(m.band, 0) AS band
    FROM model m FULL JOIN by_class b ON b.cls = m.cls CROSS JOIN t
)
, top AS (
    SELECT (SELECT max(v) FROM (SELECT sum(mv * abs(leverage)) AS v FROM h
                                WHERE sector NOT IN ('Diversified', 'Cash') OR leverage <> 1
                                GROUP BY symbol) s) AS position,
           (SELECT max(v) FROM (SELECT sum(mv * abs(leverage)) AS v FROM h
                                WHERE sector NOT IN ('Diversified', 'Cash') OR leverage <> 1
                                GROUP BY sector) s) AS sector
)
, recent AS (
    SELECT tx.id, tx.trade_date, tx.type, tx.symbol, tx.quantity, tx.amount, tx.description
    FROM c JOIN transactions tx ON tx.firm_id = c.firm_id AND tx.client_id = c.id
    ORDER BY tx.trade_date DESC, tx.id DESC LIMIT 10
)
"""
SUMMARY_JSON = f"""    'summary', json_build_object(
        'allocation_by_asset_class', coalesce((
            SELECT json_object_agg(
                cls, {rounded("v / nullif(t.mv + t.cash, 0)", SUMMARY_PLACES)}::text ORDER BY cls)
            FROM by_class WHERE v <> 0), '{{}}'::json),
        'concentration_flags', (
            SELECT coalesce(json_agg(flag), '[]'::json) FROM (
                SELECT 'single_position_over_20pct' AS flag FROM top
                WHERE top.position / nullif(t.mv + t.cash, 0) > {POSITION_FLAG}
                UNION ALL SELECT 'sector_over_40pct' FROM top
                WHERE top.sector / nullif(t.mv + t.cash, 0) > {SECTOR_FLAG}
                UNION ALL SELECT 'cash_over_20pct' WHERE t.cash / nullif(t.mv + t.cash, 0) > {CASH_FLAG}
            ) f),
        'drift_status', CASE
            WHEN NOT EXISTS (SELECT 1 FROM model) THEN 'no_model'
            WHEN EXISTS (SELECT 1 FROM drift WHERE abs(diff) > band) THEN 'out_of_band'
            ELSE 'in_band' END,
        'out_of_band', coalesce((
            SELECT json_agg(cls ORDER BY cls) FROM drift WHERE abs(diff) > band), '[]'::json),
        'recent_transactions', coalesce((
            SELECT json_agg(json_build_object(
                'id', r.id, 'trade_date', r.trade_date, 'type', r.type, 'symbol', r.symbol,
                'quantity', {exact("r.quantity")}, 'amount', {money("r.amount")}, 'description', r.description
            ) ORDER BY r.trade_date DESC, r.id DESC) FROM recent r), '[]'::json)
    ),
"""  # noqa: S608  (built from SQL expressions of money/rounded and module constants; values are binds)


# The stamp of what a context is built from (migration 0011 keeps it by triggers): the client's version, its
# firm's model epoch, the shared epoch of securities and prices, and the date `age` is computed at.
STAMP_COLUMNS = "v.version, e.models, (SELECT epoch FROM context_epoch) AS shared, current_date AS today"
STAMP_JOINS = """LEFT JOIN client_versions v ON v.firm_id = c.firm_id AND v.client_id = c.id
LEFT JOIN firm_context_epochs e ON e.firm_id = c.firm_id"""


def _context(summary: bool, *, stamped: bool = False) -> Sql:
    """The context statement; with `summary`, allocation, flags, drift status and recent transactions too;
    `stamped`, a row of the document and its stamp, both read by one statement (so from one snapshot,
    whatever the connection's isolation)."""
    summary_ctes = SUMMARY_CTES if summary else ""
    summary_json = SUMMARY_JSON if summary else ""
    stamp_columns = f", {STAMP_COLUMNS}" if stamped else ""
    stamp_joins = f"\n{STAMP_JOINS}" if stamped else ""
    return scoped(
        f"""
, c AS (SELECT * FROM visible WHERE id = :client_id)
, h AS (
    SELECT p.id, p.account_id, p.symbol, p.quantity, p.cost_basis,
           s.name, s.asset_class, s.sector, s.region, s.risk_rating, s.leverage,
           s.last_price AS close, s.last_price_date AS price_date,
           {rounded("p.quantity * s.last_price", CENT)} AS mv
    FROM c
    JOIN positions p ON p.firm_id = c.firm_id AND p.client_id = c.id AND p.quantity <> 0
    JOIN securities s ON s.symbol = p.symbol
)
, a AS (
    SELECT a.id, a.name, a.account_type, a.currency, a.cash_balance, a.allows_margin
    FROM c JOIN accounts a ON a.firm_id = c.firm_id AND a.client_id = c.id
)
, t AS MATERIALIZED (
    SELECT coalesce((SELECT sum(mv) FROM h), 0) AS mv,
           coalesce((SELECT sum(cash_balance) FROM a), 0) AS cash,
           (SELECT max(price_date) FROM h) AS as_of,
           (SELECT count(*) FROM h) AS n
)
{summary_ctes}SELECT json_build_object(
    'client', json_build_object(
        'id', c.id,
        'name', c.name,
        'risk_profile', c.risk_tolerance,
        'advisor_id', c.advisor_id,
        'date_of_birth', c.date_of_birth,
        'age', date_part('year', age(current_date, c.date_of_birth))::int,
        'investment_objective', c.investment_objective,
        'time_horizon', c.time_horizon,
        'liquidity_needs', c.liquidity_needs,
        'annual_income', {money("c.annual_income")},
        'net_worth', {money("c.net_worth")},
        'liquid_net_worth', {money("c.liquid_net_worth")},
        'tax_status', c.tax_status,
        'marginal_tax_rate', {exact("c.marginal_tax_rate")},
        'investment_experience', c.investment_experience,
        'held_away_assets', {money("c.held_away_assets")},
        'options_level', c.options_level,
        'margin_approved', c.margin_approved,
        'restrictions', json_build_object(
            'excluded_symbols', to_json(c.excluded_symbols),
            'excluded_sectors', to_json(c.excluded_sectors))
    ),
    'portfolio', coalesce((
        SELECT json_agg(json_build_object(
            'id', h.id,
            'client_id', c.id,
            'account_id', h.account_id,
            'symbol', h.symbol,
            'name', h.name,
            'asset_class', h.asset_class,
            'sector', h.sector,
            'region', h.region,
            'risk_rating', h.risk_rating,
            'quantity', {exact("h.quantity")},
            'cost_basis', {money("h.cost_basis")},
            'price', {exact("h.close")},
            'price_date', h.price_date,
            'market_value', h.mv::text,
            'weight', {rounded("h.mv / nullif(t.mv + t.cash, 0)", WEIGHT_PLACES)}::text
        ) ORDER BY h.mv DESC NULLS LAST, h.symbol, h.account_id)
        FROM h), '[]'::json),
    'accounts', coalesce((
        SELECT json_agg(json_build_object(
            'id', a.id, 'name', a.name, 'account_type', a.account_type,
            'currency', a.currency, 'cash', {money("a.cash_balance")}, 'allows_margin', a.allows_margin
        ) ORDER BY a.id)
        FROM a), '[]'::json),
    'totals', json_build_object(
        'currency', 'USD',
        'holdings_value', t.mv::text,
        'cash', {money("t.cash")},
        'total_value', {money("t.mv + t.cash")},
        'positions', t.n,
        'priced_as_of', t.as_of
    ),
{summary_json}    'instructions', {INSTRUCTIONS_JSON}::json
)::text AS doc{stamp_columns}
FROM c CROSS JOIN t{stamp_joins}
"""  # noqa: S608  (built from SQL expressions of money/rounded and module constants; values are binds)
    )


CONTEXT = _context(summary=False)
CONTEXT_WITH_SUMMARY = _context(summary=True)
CONTEXT_STAMPED = _context(summary=False, stamped=True)
CONTEXT_WITH_SUMMARY_STAMPED = _context(summary=True, stamped=True)

CLIENT_PAGE = scoped(
    """
SELECT id, name, risk_tolerance, advisor_id, investment_objective
FROM visible
WHERE id > :after
ORDER BY id
LIMIT :limit
"""
)

# The stamp alone, for a visible client: a primary-key lookup, and the cached read's visibility check (no row,
# no client).
CONTEXT_STAMP = scoped(
    f"""
SELECT {STAMP_COLUMNS}
FROM visible c
{STAMP_JOINS}
WHERE c.id = :client_id
"""  # noqa: S608  (module constants)
)
