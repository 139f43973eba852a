"""The tools: what an agent may do with wealthgate, each mapped onto its REST twin.

Inputs are designed for models: every figure is a decimal string, dates are ISO strings, optional arguments
may be null. Outputs name the fields an agent relies on and allow the rest (the REST twin's full answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wealthgate.ledger.schemas import TransactionType
from wealthgate.tools.registry import Call, Registry, Tool
from wealthgate.vocabulary import SYMBOL_PATTERN

ClientId = Annotated[int, Field(ge=1, le=2**63 - 1, description="The client's id (from list_clients).")]
Day = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="A date, YYYY-MM-DD.")]
DecimalString = Annotated[str, Field(pattern=r"^\d{1,14}(\.\d{1,8})?$", description="A decimal as a string.")]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# ---- inputs --------------------------------------------------------------------------------------


class ListClientsIn(In):
    limit: Annotated[int, Field(ge=1, le=200)] | None = Field(None, description="Page size (default 50).")
    cursor: str | None = Field(None, description="next_cursor of the previous page.")


class ContextIn(In):
    client_id: ClientId
    summary: bool | None = Field(
        None, description="Add allocation, concentration flags, drift status and the 10 latest transactions."
    )


class AsOfIn(In):
    client_id: ClientId
    as_of: Day | None = Field(None, description="Value as of this date (default: the latest close).")


class PortfolioIn(AsOfIn):
    lots: bool | None = Field(None, description="List each holding's open FIFO tax lots.")


class RiskIn(AsOfIn):
    window: Annotated[int, Field(ge=20, le=2520)] | None = Field(
        None, description="Trading days of price history for volatility and drawdown (default 252)."
    )


class PerformanceIn(In):
    client_id: ClientId
    from_date: Day | None = Field(None, description="Start (default: the first transaction).")
    to_date: Day | None = Field(None, description="End (default: the latest close).")


class RebalanceIn(In):
    client_id: ClientId
    cash_reserve: DecimalString | None = Field(None, description="Cash to keep after the trades.")
    min_trade: DecimalString | None = Field(None, description="Leave out trades smaller than this.")
    fractional: bool | None = Field(None, description="Allow fractional shares (default whole shares).")
    liquidate: bool | None = Field(
        None, description="The client asks to go to cash: sell every holding, whatever its size."
    )


class SearchTransactionsIn(In):
    client_id: ClientId
    q: str | None = Field(
        None, max_length=200, description="Free text, e.g. 'apple dividend', 'advisory fee'."
    )
    account_id: Annotated[int, Field(ge=1)] | None = None
    type: TransactionType | None = None
    symbol: str | None = Field(None, pattern=SYMBOL_PATTERN)
    from_date: Day | None = None
    to_date: Day | None = None
    limit: Annotated[int, Field(ge=1, le=200)] | None = Field(None, description="Page size (default 50).")
    cursor: str | None = None


class SearchSecuritiesIn(In):
    q: str | None = Field(None, max_length=100, description="Symbol prefix, or part of the name or sector.")
    asset_class: (
        Literal[
            "equity",
            "fixed_income",
            "cash_equivalent",
            "real_estate",
            "commodity",
            "alternative",
            "multi_asset",
        ]
        | None
    ) = None
    max_risk: Annotated[int, Field(ge=1, le=5)] | None = Field(
        None, description="Highest risk rating wanted."
    )
    limit: Annotated[int, Field(ge=1, le=200)] | None = None


class TradeArg(In):
    side: Literal["buy", "sell"]
    symbol: str = Field(pattern=SYMBOL_PATTERN)
    quantity: DecimalString | None = Field(None, description="Shares; give this or amount.")
    amount: DecimalString | None = Field(None, description="Money to buy or sell; give this or quantity.")


class CheckIn(In):
    client_id: ClientId
    trades: Annotated[list[TradeArg], Field(min_length=1, max_length=50)]


class RecommendationIn(CheckIn):
    rationale: str = Field(min_length=1, max_length=10_000, description="Why, in words a reviewer reads.")
    agent_name: str = Field(min_length=1, max_length=200, description="Your agent's name.")
    agent_model: str | None = Field(None, max_length=200, description="The model behind it, if any.")
    idempotency_key: str | None = Field(
        None,
        pattern=r"^[\x21-\x7e]{1,255}$",
        description="Reuse the same key when retrying this proposal so it is stored once.",
    )


class RecommendationRef(In):
    recommendation_id: Annotated[int, Field(ge=1, le=2**63 - 1)]


class NoteIn(In):
    client_id: ClientId
    event_type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")
    payload: str = Field(max_length=32_768, description="The note (free text, JSON welcome).")


# ---- outputs -------------------------------------------------------------------------------------


class Page(Out):
    items: list[dict[str, Any]]
    next_cursor: str | None = None


class ContextOut(Out):
    client: dict[str, Any]
    portfolio: list[dict[str, Any]]
    accounts: list[dict[str, Any]]
    totals: dict[str, Any]
    instructions: list[str]


class ClientFigures(Out):
    client_id: int


class Verdict(Out):
    verdict: Literal["pass", "fail", "needs_review"]
    rules: list[dict[str, Any]]
    policy_version: str
    as_of: str


class RecommendationOut(Out):
    id: int
    client_id: int
    status: str
    verdict: dict[str, Any]


class NoteOut(Out):
    status: str
    audit_event_id: int


# ---- mapping onto the REST twins -----------------------------------------------------------------


def _query(
    args: BaseModel, *, skip: tuple[str, ...] = ("client_id",), rename: dict[str, str] | None = None
) -> dict[str, Any]:
    names = rename or {}
    return {
        names.get(k, k): (str(v).lower() if isinstance(v, bool) else v)
        for k, v in args.model_dump().items()
        if v is not None and k not in skip
    }


def _client(route: str) -> Any:
    return lambda a: Call("GET", f"/clients/{a.client_id}/{route}", _query(a), client_id=a.client_id)


DATES = {"from_date": "from", "to_date": "to"}


def _reader(
    name: str,
    title: str,
    description: str,
    input: type[BaseModel],
    output: type[BaseModel],
    to_call: Callable[[Any], Call],
) -> Tool:
    """A tool that only reads (scope clients:read; read-only and idempotent hints)."""
    return Tool(name, title, description, input, output, "clients:read", True, False, True, to_call)


TOOLS = Registry(
    [
        _reader(
            "list_clients",
            "List clients",
            "List the clients this key may see (id, name, risk profile, advisor, objective), 50 per page. "
            "Pass next_cursor back as cursor for the next page. Start here to find a client's id.",
            ListClientsIn,
            Page,
            to_call=lambda a: Call("GET", "/clients", _query(a, skip=())),
        ),
        _reader(
            "get_client_context",
            "Client context",
            "Everything needed before advising one client: the full investment profile (risk profile, "
            "objective, time horizon, liquidity needs, experience, restrictions), holdings valued at their "
            "latest prices with weights, accounts with cash, totals, and instructions. Figures are exact "
            "decimal strings: quote them as given. With summary=true also allocation by asset class, "
            "concentration flags, drift status and the 10 latest transactions.",
            ContextIn,
            ContextOut,
            to_call=_client("context"),
        ),
        _reader(
            "get_portfolio",
            "Portfolio valuation",
            "A client's holdings valued as of a date (default: latest close): quantity, price and price "
            "date, market value, weight, cost basis, unrealized and realized gain (average cost and FIFO), "
            "per account and in total, with cash. Stale or missing prices are flagged. lots=true lists open "
            "tax lots.",
            PortfolioIn,
            ClientFigures,
            to_call=_client("portfolio"),
        ),
        _reader(
            "get_allocation",
            "Allocation",
            "What is my allocation? Weights of the client's total value by asset class, sector, region and "
            "account type; each set sums to exactly 1.",
            AsOfIn,
            ClientFigures,
            to_call=_client("allocation"),
        ),
        _reader(
            "get_risk",
            "Concentration and risk",
            "Am I too concentrated? Largest position, top-five and largest-sector weights, cash share, "
            "Herfindahl-Hirschman index, and the current portfolio's annualised volatility and maximum "
            "drawdown over a window of trading days (methods named in the answer).",
            RiskIn,
            ClientFigures,
            to_call=_client("risk"),
        ),
        _reader(
            "get_drift",
            "Drift from the model",
            "How far is the client from the model portfolio of their risk profile? Per asset class: target, "
            "actual, difference, tolerance band and whether it is inside the band.",
            AsOfIn,
            ClientFigures,
            to_call=_client("drift"),
        ),
        _reader(
            "get_performance",
            "Performance",
            "How is my portfolio doing? Time-weighted and money-weighted returns over the period and over "
            "1M, 3M, YTD, 1Y and since inception, per account and in total, with the valuation dates used. "
            "Returns under a year are not annualised.",
            PerformanceIn,
            ClientFigures,
            to_call=lambda a: Call(
                "GET", f"/clients/{a.client_id}/performance", _query(a, rename=DATES), client_id=a.client_id
            ),
        ),
        _reader(
            "propose_rebalance",
            "Propose a rebalance",
            "The trades that would bring every asset class back inside its model band, only in securities "
            "the client may hold, each in an account that can pay for it, honouring a cash reserve, a "
            "minimum trade size, whole or fractional shares and the firm's caps (or, with liquidate, selling "
            "everything), with the projected allocation after them, a reason for each class left outside "
            "its band, and the firm's suitability verdict on the trades (never fail). It proposes only: "
            "nothing is traded or stored. Submit the trades with propose_recommendation.",
            RebalanceIn,
            ClientFigures,
            to_call=lambda a: Call(
                "POST", f"/clients/{a.client_id}/rebalance-proposal", json=_query(a), client_id=a.client_id
            ),
        ),
        _reader(
            "search_transactions",
            "Search transactions",
            "What did I buy in March? A client's transactions filtered by account, type, symbol and dates, "
            "and q= free text over description, symbol and security name (ranked). Each item carries what "
            "is needed to cite it: id, date, type, symbol, quantity, amount, description.",
            SearchTransactionsIn,
            Page,
            to_call=lambda a: Call(
                "GET", f"/clients/{a.client_id}/transactions", _query(a, rename=DATES), client_id=a.client_id
            ),
        ),
        _reader(
            "search_securities",
            "Search securities",
            "Search the security master by symbol, name or sector, asset class and highest product risk "
            "rating (1-5): name, asset class, sector, region, risk rating, complex flag and latest price. "
            "Use it to name what you propose.",
            SearchSecuritiesIn,
            Page,
            to_call=lambda a: Call("GET", "/securities", _query(a, skip=())),
        ),
        Tool(
            "check_suitability",
            "Check suitability",
            "Check proposed trades against the client's profile and the firm's policy before proposing "
            "them. Returns verdict pass, fail or needs_review and every rule with its threshold, the "
            "computed value (e.g. the post-trade weight) and one sentence you can relay. The check is "
            "recorded; nothing is traded.",
            CheckIn,
            Verdict,
            to_call=lambda a: Call(
                "POST",
                f"/clients/{a.client_id}/suitability-check",
                json={"trades": [t.model_dump(exclude_none=True) for t in a.trades]},
                client_id=a.client_id,
            ),
            scope="clients:read",
            read_only=False,
            destructive=False,
            idempotent=False,
        ),
        Tool(
            "propose_recommendation",
            "Propose a recommendation",
            "Submit trades for a client with your rationale. The suitability check runs and is stored with "
            "the recommendation; status is proposed (passed, awaiting human review), blocked (failed) or "
            "needs_review. A person approves or rejects; you never can. Reuse idempotency_key when "
            "retrying.",
            RecommendationIn,
            RecommendationOut,
            to_call=lambda a: Call(
                "POST",
                "/recommendations",
                json={
                    "client_id": a.client_id,
                    "trades": [t.model_dump(exclude_none=True) for t in a.trades],
                    "rationale": a.rationale,
                    "agent": {"name": a.agent_name, "model": a.agent_model},
                },
                idempotency_key=a.idempotency_key,
                client_id=a.client_id,
            ),
            scope="recommendations:write",
            read_only=False,
            destructive=False,
            idempotent=False,
            key_required=True,
        ),
        _reader(
            "get_recommendation",
            "Get a recommendation",
            "A recommendation's status (proposed, blocked, needs_review, approved, rejected, executed, "
            "expired), its trades, verdict and review.",
            RecommendationRef,
            RecommendationOut,
            to_call=lambda a: Call("GET", f"/recommendations/{a.recommendation_id}"),
        ),
        Tool(
            "record_note",
            "Record a note",
            "Write a free-form note about a client to the audit trail (the guide's store_recommendation), "
            "e.g. what you reviewed and why you did not propose anything. For trade advice use "
            "propose_recommendation, which is checked for suitability.",
            NoteIn,
            NoteOut,
            to_call=lambda a: Call(
                "POST", "/audit/recommendation", json=a.model_dump(), client_id=a.client_id
            ),
            scope="recommendations:write",
            read_only=False,
            destructive=False,
            idempotent=False,
        ),
    ]
)
