"""The tools: what an agent may do with wealthgate, each declared once over its REST twin (named as the router
names the route: its endpoint function's name).

A declaration holds the words a model reads and only the deliberate differences from its route; the input and
output models are derived from the route (`tools/derive.py`), and the registry is assembled over the app's
routers by `api/tool_calls.py`. Inputs are designed for models: every figure is a decimal string, dates are
ISO strings, optional arguments may be null.
"""

from __future__ import annotations

from wealthgate.tools.registry import Effect, Registry, ToolSpec

READ = "clients:read"
WRITE = "recommendations:write"

# Words for arguments many tools share, where a model needs more than the route's own description says.
GLOSSARY = {
    "client_id": "The client's id (from list_clients).",
    "limit": "Page size.",
    "cursor": "next_cursor of the previous page.",
    "trades.quantity": "Shares; give this or amount.",
    "trades.amount": "Money to buy or sell; give this or quantity.",
}

SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        route="list_clients",
        name="list_clients",
        title="List clients",
        description="List the clients this key may see (id, name, risk profile, advisor, objective), 50 per "
        "page. Pass next_cursor back as cursor for the next page. Start here to find a client's id.",
        scope=READ,
    ),
    ToolSpec(
        route="get_context",
        name="get_client_context",
        title="Client context",
        description="Everything needed before advising one client: the full investment profile (risk "
        "profile, objective, time horizon, liquidity needs, experience, restrictions), holdings valued at "
        "their latest prices with weights, accounts with cash, totals, and instructions. Figures are exact "
        "decimal strings: quote them as given. With summary=true also allocation by asset class, "
        "concentration flags, drift status and the 10 latest transactions.",
        scope=READ,
    ),
    ToolSpec(
        route="get_portfolio",
        name="get_portfolio",
        title="Portfolio valuation",
        description="A client's holdings valued as of a date (default: latest close): quantity, price and "
        "price date, market value, weight, cost basis, unrealized and realized gain (average cost and FIFO), "
        "per account and in total, with cash. Stale or missing prices are flagged. lots=true lists open tax "
        "lots.",
        scope=READ,
    ),
    ToolSpec(
        route="get_allocation",
        name="get_allocation",
        title="Allocation",
        description="What is my allocation? Weights of the client's total value by asset class, sector, "
        "region and account type; each set sums to exactly 1.",
        scope=READ,
    ),
    ToolSpec(
        route="get_risk",
        name="get_risk",
        title="Concentration and risk",
        description="Am I too concentrated? Largest position, top-five and largest-sector weights, cash "
        "share, Herfindahl-Hirschman index, and the current portfolio's annualised volatility and maximum "
        "drawdown over a window of trading days (methods named in the answer).",
        scope=READ,
        describe={"window": "Trading days of price history for volatility and drawdown."},
    ),
    ToolSpec(
        route="get_drift",
        name="get_drift",
        title="Drift from the model",
        description="How far is the client from the model portfolio of their risk profile? Per asset class: "
        "target, actual, difference, tolerance band and whether it is inside the band.",
        scope=READ,
    ),
    ToolSpec(
        route="get_performance",
        name="get_performance",
        title="Performance",
        description="How is my portfolio doing? Time-weighted and money-weighted returns over the period and "
        "over 1M, 3M, YTD, 1Y and since inception, per account and in total, with the valuation dates used. "
        "Returns under a year are not annualised.",
        scope=READ,
    ),
    ToolSpec(
        route="propose_rebalance",
        name="propose_rebalance",
        title="Propose a rebalance",
        description="The trades that would bring every asset class back inside its model band, only in "
        "securities the client may hold, each in an account that can pay for it, honouring a cash reserve, "
        "a minimum trade size, whole or fractional shares and the firm's caps (or, with liquidate, selling "
        "everything), with the projected allocation after them, a reason for each class left outside its "
        "band, and the firm's suitability verdict on the trades (never fail). It proposes only: nothing is "
        "traded or stored. Submit the trades with propose_recommendation.",
        scope=READ,
    ),
    ToolSpec(
        route="list_transactions",
        name="search_transactions",
        title="Search transactions",
        description="What did I buy in March? A client's transactions filtered by account, type, symbol and "
        "dates, and q= free text over description, symbol and security name (ranked). Each item carries "
        "what is needed to cite it: id, date, type, symbol, quantity, amount, description.",
        scope=READ,
        omit=("min_amount", "max_amount"),
        describe={"q": "Free text, e.g. 'apple dividend', 'advisory fee'."},
    ),
    ToolSpec(
        route="search_securities",
        name="search_securities",
        title="Search securities",
        description="Search the security master by symbol, name or sector, asset class and highest product "
        "risk rating (1-5): name, asset class, sector, region, risk rating, complex flag and latest price. "
        "Use it to name what you propose.",
        scope=READ,
        omit=("complex", "cursor"),
    ),
    ToolSpec(
        route="check",
        name="check_suitability",
        title="Check suitability",
        description="Check proposed trades against the client's profile and the firm's policy before "
        "proposing them. Returns verdict pass, fail or needs_review and every rule with its threshold, the "
        "computed value (e.g. the post-trade weight) and one sentence you can relay. The check is recorded; "
        "nothing is traded.",
        scope=READ,
        effect=Effect.WRITES,
    ),
    ToolSpec(
        route="propose",
        name="propose_recommendation",
        title="Propose a recommendation",
        description="Submit trades for a client with your rationale. The suitability check runs and is "
        "stored with the recommendation; status is proposed (passed, awaiting human review), blocked "
        "(failed) or needs_review. A person approves or rejects; you never can. Reuse idempotency_key when "
        "retrying.",
        scope=WRITE,
        effect=Effect.WRITES,
        flatten=("agent",),
        idempotency_key=True,
        describe={
            "rationale": "Why, in words a reviewer reads.",
            "agent_name": "Your agent's name.",
            "agent_model": "The model behind it, if any.",
            "idempotency_key": "Reuse the same key when retrying this proposal so it is stored once.",
        },
    ),
    ToolSpec(
        route="get_recommendation",
        name="get_recommendation",
        title="Get a recommendation",
        description="A recommendation's status (proposed, blocked, needs_review, approved, rejected, "
        "executed, expired), its trades, verdict and review.",
        scope=READ,
        rename={"rec_id": "recommendation_id"},
    ),
    ToolSpec(
        route="record_note",
        name="record_note",
        title="Record a note",
        description="Write a free-form note about a client to the audit trail (the guide's "
        "store_recommendation), e.g. what you reviewed and why you did not propose anything. For trade "
        "advice use propose_recommendation, which is checked for suitability.",
        scope=WRITE,
        effect=Effect.WRITES,
        describe={"payload": "The note (free text, JSON welcome)."},
    ),
)

TOOLS: Registry[ToolSpec] = Registry(SPECS)
"""The declared tools by name; the derived ones (with their models) are `api.tool_calls.REGISTRY`."""
