"""The only way to a recommendation by id: the scoped lookup, which proves the caller may see its client.

`VisibleRecommendation` is the capability the read, review, execute and replay use cases take instead of a
bare id, as `clients.visibility.VisibleClient` is for clients: only `find` (or `lock`, which also takes the
row lock a transition needs) can make one, so a new caller that skips the firm and advisor check does not get
past the type checker, and one that forges it fails at run time. It carries the row as the lookup read it, so
the check costs no extra round trip. Another firm's or advisor's recommendation is a 404, like a missing one.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field

import asyncpg

from wealthgate.auth.principal import Principal
from wealthgate.capability import Seal
from wealthgate.clients.visibility import scope
from wealthgate.errors import NotFound
from wealthgate.recommendations import queries

NOT_FOUND = "Recommendation not found"

_PROOF = Seal(
    "VisibleRecommendation", "recommendations.visibility.find or lock (the scoped lookup)"
)  # this module's alone


@dataclass(frozen=True, slots=True)
class VisibleRecommendation:
    """A recommendation the caller may see, proven by the scoped lookup, with the row it read."""

    firm_id: int
    advisor_id: int | None  # the caller's binding (None: whole firm)
    recommendation_id: int
    client_id: int
    row: asyncpg.Record = field(repr=False, compare=False)
    _proof: InitVar[object] = None

    def __post_init__(self, _proof: object) -> None:
        _PROOF.check(_proof)

    @property
    def ids(self) -> dict[str, int]:
        """`firm_id` and `recommendation_id` as bind values for statements on this recommendation."""
        return {"firm_id": self.firm_id, "recommendation_id": self.recommendation_id}


@dataclass(frozen=True, slots=True)
class LockedRecommendation(VisibleRecommendation):
    """A visible recommendation whose row is locked (`FOR UPDATE`) in the caller's transaction, as every
    transition needs: its status cannot change under the use case until the transaction ends."""


async def find(
    conn: asyncpg.Connection, principal: Principal, recommendation_id: int
) -> VisibleRecommendation:
    """The recommendation if the caller may see its client; 404 (`Recommendation not found`) otherwise."""
    row = await queries.VISIBLE.fetchrow(conn, **scope(principal), recommendation_id=recommendation_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    return VisibleRecommendation(
        principal.firm_id, principal.advisor_id, row["id"], row["client_id"], row, _PROOF
    )


async def lock(
    conn: asyncpg.Connection, principal: Principal, recommendation_id: int
) -> LockedRecommendation:
    """Like `find`, and the row stays locked until the caller's transaction ends (for a transition)."""
    row = await queries.VISIBLE_LOCKED.fetchrow(conn, **scope(principal), recommendation_id=recommendation_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    return LockedRecommendation(
        principal.firm_id, principal.advisor_id, row["id"], row["client_id"], row, _PROOF
    )
