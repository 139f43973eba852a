"""Plain SQL for the client read paths. The agent context is one round trip; PostgreSQL builds the JSON."""

from __future__ import annotations

from wealthgate.clients.sql import exact, money
from wealthgate.clients.visibility import scoped

INSTRUCTIONS = (
    "Use risk profile before making any recommendation",
    "Write every decision to audit_events",
    "Quote figures exactly as given: amounts, quantities and weights are decimal strings",
    "Weights are shares of total value (holdings plus cash) at each holding's price_date",
    "Respect restrictions.excluded_symbols and restrictions.excluded_sectors in any proposal",
)

CONTEXT = scoped(
    f"""
, c AS (SELECT * FROM visible WHERE id = $3)
, h AS (
    SELECT p.id, p.account_id, p.symbol, p.quantity, p.cost_basis,
           s.name, s.asset_class, s.sector, s.region, s.risk_rating,
           s.last_price AS close, s.last_price_date AS price_date,
           round(p.quantity * s.last_price, 2) AS mv
    FROM c
    JOIN positions p ON p.firm_id = c.firm_id AND p.client_id = c.id AND p.quantity <> 0
    JOIN securities s ON s.symbol = p.symbol
)
, a AS (
    SELECT a.id, a.name, a.account_type, a.currency, a.cash_balance
    FROM c JOIN accounts a ON a.firm_id = c.firm_id AND a.client_id = c.id
)
, t AS MATERIALIZED (
    SELECT coalesce((SELECT sum(mv) FROM h), 0) AS mv,
           coalesce((SELECT sum(cash_balance) FROM a), 0) AS cash,
           (SELECT max(price_date) FROM h) AS as_of,
           (SELECT count(*) FROM h) AS n
)
SELECT json_build_object(
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
            'weight', round(h.mv / nullif(t.mv + t.cash, 0), 6)::text
        ) ORDER BY h.mv DESC NULLS LAST, h.symbol, h.account_id)
        FROM h), '[]'::json),
    'accounts', coalesce((
        SELECT json_agg(json_build_object(
            'id', a.id, 'name', a.name, 'account_type', a.account_type,
            'currency', a.currency, 'cash', {money("a.cash_balance")}
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
    'instructions', $4::json
)::text
FROM c, t
"""
)

CLIENT_PAGE = scoped(
    """
SELECT id, name, risk_tolerance, advisor_id, investment_objective
FROM visible
WHERE id > $3
ORDER BY id
LIMIT $4
"""
)

CLIENT_EXISTS = scoped("\nSELECT id FROM visible WHERE id = $3")
