"""Client read use cases for agents: the context document and the paginated client list."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from wealthgate.auth.principal import Principal
from wealthgate.clients import queries
from wealthgate.clients.visibility import CLIENT_NOT_FOUND, scope
from wealthgate.errors import NotFound
from wealthgate.pagination import decode_cursor, encode_cursor

__all__ = ["CLIENT_NOT_FOUND", "ClientPage", "ClientSummary", "context_json", "list_clients"]


async def context_json(
    conn: asyncpg.Connection, principal: Principal, client_id: int, *, summary: bool = False
) -> str:
    """The agent context of one visible client, as JSON text built by PostgreSQL. The statement is its own
    scoped lookup (it reads the client from `visible`), so it checks visibility in the same round trip."""
    statement = queries.CONTEXT_WITH_SUMMARY if summary else queries.CONTEXT
    doc: str | None = await statement.fetchval(conn, **scope(principal), client_id=client_id)
    if doc is None:
        raise NotFound(CLIENT_NOT_FOUND)
    return doc


@dataclass(frozen=True, slots=True)
class ClientSummary:
    id: int
    name: str
    risk_profile: str
    advisor_id: int
    investment_objective: str


@dataclass(frozen=True, slots=True)
class ClientPage:
    items: list[ClientSummary]
    next_cursor: str | None


async def list_clients(
    conn: asyncpg.Connection, principal: Principal, *, limit: int, cursor: str | None
) -> ClientPage:
    after = decode_cursor(cursor)
    rows = await queries.CLIENT_PAGE.fetch(conn, **scope(principal), after=after, limit=limit + 1)
    items = [
        ClientSummary(
            id=r["id"],
            name=r["name"],
            risk_profile=r["risk_tolerance"],
            advisor_id=r["advisor_id"],
            investment_objective=r["investment_objective"],
        )
        for r in rows[:limit]
    ]
    next_cursor = encode_cursor(items[-1].id) if len(rows) > limit else None
    return ClientPage(items=items, next_cursor=next_cursor)
