"""Client read use cases for agents: the context document and the paginated client list."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import asyncpg
import orjson

from wealthgate.auth.principal import Principal
from wealthgate.clients import queries
from wealthgate.clients.visibility import scope_args
from wealthgate.errors import Invalid, NotFound

_INSTRUCTIONS_JSON = orjson.dumps(list(queries.INSTRUCTIONS)).decode()
CLIENT_NOT_FOUND = "Client not found"


async def context_json(conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, client_id: int) -> str:
    """The agent context of one visible client, as JSON text built by PostgreSQL."""
    doc: str | None = await conn.fetchval(
        queries.CONTEXT, *scope_args(principal, client_id, _INSTRUCTIONS_JSON)
    )
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


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"after": last_id})).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError) as exc:
        raise Invalid("cursor is not one this API returned", field="cursor") from exc
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**63:
        raise Invalid("cursor is not one this API returned", field="cursor")
    return after


async def list_clients(
    conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, *, limit: int, cursor: str | None
) -> ClientPage:
    after = decode_cursor(cursor)
    rows = await conn.fetch(queries.CLIENT_PAGE, *scope_args(principal, after, limit + 1))
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
