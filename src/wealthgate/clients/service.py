"""Client read use cases for agents: the context document and the paginated client list."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from wealthgate.auth.principal import Principal
from wealthgate.clients import queries
from wealthgate.clients.context_cache import ContextKey, RenderedContexts, Stamp
from wealthgate.clients.visibility import CLIENT_NOT_FOUND, scope
from wealthgate.errors import NotFound
from wealthgate.pagination import decode_cursor, encode_cursor

__all__ = [
    "CLIENT_NOT_FOUND",
    "ClientPage",
    "ClientSummary",
    "context_document",
    "context_json",
    "list_clients",
]


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


async def context_document(
    conn: asyncpg.Connection,
    principal: Principal,
    client_id: int,
    *,
    summary: bool = False,
    cache: RenderedContexts | None = None,
) -> bytes:
    """The agent context of one visible client, as the JSON bytes to send, from `cache` when it holds the
    document rendered under the stamp this snapshot shows (clients/context_cache.py).

    With the cache on, a read of a client whose document is kept is one primary-key statement (the stamp; no
    row is the 404 of a client this caller may not see, checked before anything cached is served), then the
    kept bytes; a read of a client whose document is not kept goes straight to the full statement (itself
    scoped: no row is the 404), which saves the stamp's round trip on a miss known in advance; on a miss, the
    full statement, which reads the stamp again with the document so the two come from one snapshot whatever
    the connection's isolation, and the document is kept under that stamp. Off (`cache` None or 0 entries):
    the full statement alone, as `context_json`."""
    if cache is None or not cache.enabled:
        return (await context_json(conn, principal, client_id, summary=summary)).encode()
    key = ContextKey(principal.firm_id, client_id, summary)
    if cache.holds(key):  # else it is a miss whatever the stamp: straight to the full statement
        seen = await queries.CONTEXT_STAMP.fetchrow(conn, **scope(principal), client_id=client_id)
        if seen is None:
            raise NotFound(CLIENT_NOT_FOUND)
        stamp = Stamp.read(seen)
        if stamp is not None:
            kept = cache.get(key, stamp)
            if kept is not None:
                return kept
    statement = queries.CONTEXT_WITH_SUMMARY_STAMPED if summary else queries.CONTEXT_STAMPED
    row = await statement.fetchrow(conn, **scope(principal), client_id=client_id)
    if row is None:  # not visible to this caller (or gone since its stamp was read)
        raise NotFound(CLIENT_NOT_FOUND)
    document: bytes = row["doc"].encode()
    rendered_at = Stamp.read(row)
    if rendered_at is not None:
        cache.put(key, rendered_at, document)
    return document


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
