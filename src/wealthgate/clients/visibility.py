"""The only way to reach client rows: every client query starts from the caller's visible clients.

Two tools, one rule (another firm's or advisor's client is simply not visible, and answers 404 like a missing
one):

- `VISIBLE_CLIENTS` is a named query (`:firm_id`, `:advisor_id`) that a statement refines:
  `Sql("SELECT ... FROM visible v WHERE v.id = :client_id").using(visible=VISIBLE_CLIENTS)`, bound with
  `**scope(principal)`. Statements that answer in one round trip (the agent context) check visibility so.
- `VisibleClient` is the capability every per-client loader and use case takes instead of bare ids. Only
  `find` (the scoped lookup) can make one, so a new caller that skips the check does not get past the type
  checker, and one that forges it fails at run time.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any

import asyncpg

from wealthgate.auth.principal import Principal
from wealthgate.capability import Seal
from wealthgate.db.sql import Sql
from wealthgate.errors import NotFound

CLIENT_NOT_FOUND = "Client not found"

VISIBLE_CLIENTS = Sql(
    "SELECT * FROM clients"
    " WHERE firm_id = :firm_id AND (:advisor_id::bigint IS NULL OR advisor_id = :advisor_id)"
)


def scoped(body: str) -> Sql:
    """`body`, which may read `visible` (the caller's clients), as a statement bound with `**scope(...)`."""
    return Sql(body).using(visible=VISIBLE_CLIENTS)


def scope(principal: Principal) -> dict[str, Any]:
    """The bind values of `VISIBLE_CLIENTS` for this caller."""
    return {"firm_id": principal.firm_id, "advisor_id": principal.advisor_id}


_PROOF = Seal("VisibleClient", "clients.visibility.find (the scoped lookup)")  # this module's alone


@dataclass(frozen=True, slots=True)
class VisibleClient:
    """A client the caller may see, proven by the scoped lookup: firm, the caller's advisor binding, id."""

    firm_id: int
    advisor_id: int | None  # the caller's binding (None: whole firm), not necessarily the client's advisor
    client_id: int
    _proof: InitVar[object] = None

    def __post_init__(self, _proof: object) -> None:
        _PROOF.check(_proof)

    @property
    def ids(self) -> dict[str, int]:
        """`firm_id` and `client_id` as bind values for statements that read this client's rows."""
        return {"firm_id": self.firm_id, "client_id": self.client_id}


_FIND = scoped("SELECT id FROM visible WHERE id = :client_id")


async def find(conn: asyncpg.Connection, principal: Principal, client_id: int) -> VisibleClient:
    """The client `client_id` if the caller may see it; 404 (`Client not found`) otherwise."""
    if await _FIND.fetchval(conn, **scope(principal), client_id=client_id) is None:
        raise NotFound(CLIENT_NOT_FOUND)
    return VisibleClient(principal.firm_id, principal.advisor_id, client_id, _PROOF)


async def find_with(
    conn: asyncpg.Connection, principal: Principal, client_id: int, statement: Sql
) -> tuple[VisibleClient, asyncpg.Record]:
    """Like `find`, in the same round trip as a first read: `statement` is built with `scoped()`, reads the
    client from `visible` by `:client_id` and returns one row (none when the client is not visible)."""
    if ("visible", VISIBLE_CLIENTS) not in statement.ctes:
        raise TypeError("find_with needs a statement built with scoped(): it reads `visible`")
    row = await statement.fetchrow(conn, **scope(principal), client_id=client_id)
    if row is None:
        raise NotFound(CLIENT_NOT_FOUND)
    return VisibleClient(principal.firm_id, principal.advisor_id, client_id, _PROOF), row
