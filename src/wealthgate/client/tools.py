"""One typed method per registry tool, written once for both clients.

`ToolMethods[R]` is generic in what a call returns: `dict[str, Any]` for the sync client, an awaitable of it
for the async one. Parameter names, order, types and defaults mirror each tool's input model (derived from its
REST route), and each method's docstring is the tool's own description, read from its declaration (the SDK
needs no server code for that); tests/unit/test_sdk_tools.py fails on any drift.
"""

# no `from __future__ import annotations`: Trade's NotRequired keys must be seen at runtime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, Literal, NotRequired, TypedDict, TypeVar

from wealthgate.money import plain
from wealthgate.tools.catalog import SPECS
from wealthgate.vocabulary import AssetClass, TradeSide, TransactionType

R = TypeVar("R")

SchemaFormat = Literal["wealthgate", "openai", "anthropic", "mcp"]


class Trade(TypedDict):
    """A proposed trade: give `quantity` (shares) or `amount` (money), as decimal strings."""

    side: TradeSide
    symbol: str
    quantity: NotRequired[str | None]
    amount: NotRequired[str | None]


def _figure(value: Any) -> Any:
    """A `Decimal` given where the tools take decimal strings is sent in the one text form (never "1E+3")."""
    return plain(value) if isinstance(value, Decimal) else value


def args_of(**given: Any) -> dict[str, Any]:
    """The tool's arguments as JSON: unset (None) ones left out, trades as plain objects, decimals as text."""
    return {
        name: [{k: _figure(v) for k, v in t.items()} for t in value] if name == "trades" else _figure(value)
        for name, value in given.items()
        if value is not None
    }


class ToolMethods(Generic[R]):
    """The registry's tools as methods. Each returns the tool's answer: its REST twin's JSON."""

    def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> R:
        """Call any tool by name with its arguments (what a function-calling loop dispatches to)."""
        raise NotImplementedError

    def list_clients(self, *, limit: int | None = None, cursor: str | None = None) -> R:
        return self.call("list_clients", args_of(limit=limit, cursor=cursor))

    def get_client_context(self, client_id: int, *, summary: bool | None = None) -> R:
        return self.call("get_client_context", args_of(client_id=client_id, summary=summary))

    def get_portfolio(self, client_id: int, *, as_of: str | None = None, lots: bool | None = None) -> R:
        return self.call("get_portfolio", args_of(client_id=client_id, as_of=as_of, lots=lots))

    def get_allocation(self, client_id: int, *, as_of: str | None = None) -> R:
        return self.call("get_allocation", args_of(client_id=client_id, as_of=as_of))

    def get_risk(self, client_id: int, *, as_of: str | None = None, window: int | None = None) -> R:
        return self.call("get_risk", args_of(client_id=client_id, as_of=as_of, window=window))

    def get_drift(self, client_id: int, *, as_of: str | None = None) -> R:
        return self.call("get_drift", args_of(client_id=client_id, as_of=as_of))

    def get_performance(
        self, client_id: int, *, from_date: str | None = None, to_date: str | None = None
    ) -> R:
        return self.call(
            "get_performance", args_of(client_id=client_id, from_date=from_date, to_date=to_date)
        )

    def propose_rebalance(
        self,
        client_id: int,
        *,
        cash_reserve: str | None = None,
        min_trade: str | None = None,
        fractional: bool | None = None,
        liquidate: bool | None = None,
    ) -> R:
        return self.call(
            "propose_rebalance",
            args_of(
                client_id=client_id,
                cash_reserve=cash_reserve,
                min_trade=min_trade,
                fractional=fractional,
                liquidate=liquidate,
            ),
        )

    def search_transactions(
        self,
        client_id: int,
        *,
        account_id: int | None = None,
        type: TransactionType | None = None,
        symbol: str | None = None,
        from_date: str | None = None,
        to_date: str | None = None,
        q: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> R:
        return self.call(
            "search_transactions",
            args_of(
                client_id=client_id,
                account_id=account_id,
                type=type,
                symbol=symbol,
                from_date=from_date,
                to_date=to_date,
                q=q,
                limit=limit,
                cursor=cursor,
            ),
        )

    def search_securities(
        self,
        *,
        q: str | None = None,
        asset_class: AssetClass | None = None,
        max_risk: int | None = None,
        limit: int | None = None,
    ) -> R:
        return self.call(
            "search_securities", args_of(q=q, asset_class=asset_class, max_risk=max_risk, limit=limit)
        )

    def check_suitability(self, client_id: int, *, trades: Sequence[Trade]) -> R:
        return self.call("check_suitability", args_of(client_id=client_id, trades=trades))

    def propose_recommendation(
        self,
        client_id: int,
        *,
        trades: Sequence[Trade],
        rationale: str,
        agent_name: str,
        agent_model: str | None = None,
        idempotency_key: str | None = None,
    ) -> R:
        """(Without idempotency_key the SDK makes one per call and reuses it on every retry.)"""
        return self.call(
            "propose_recommendation",
            args_of(
                client_id=client_id,
                trades=trades,
                rationale=rationale,
                agent_name=agent_name,
                agent_model=agent_model,
                idempotency_key=idempotency_key,
            ),
        )

    def get_recommendation(self, recommendation_id: int) -> R:
        return self.call("get_recommendation", args_of(recommendation_id=recommendation_id))

    def record_note(self, client_id: int, *, event_type: str, payload: str) -> R:
        return self.call("record_note", args_of(client_id=client_id, event_type=event_type, payload=payload))


TOOL_METHODS = tuple(spec.name for spec in SPECS)
for _tool in SPECS:
    _method = getattr(ToolMethods, _tool.name)  # a tool without its method fails here, at import
    _method.__doc__ = _tool.description + (f"\n\n{_method.__doc__}" if _method.__doc__ else "")
