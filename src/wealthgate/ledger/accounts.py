"""The accounts a caller may post to: `VisibleAccount`, made only by the scoped lookup that locks it.

Posting (and re-deriving lots) takes a `VisibleAccount`, never a bare account id, so a posting that skipped
the visibility check (the account's client must be visible to the caller: its firm, and its advisor for an
advisor-bound key) does not type-check, and a forged one fails at run time, as with `VisibleClient`.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass

import asyncpg

from wealthgate.auth.principal import Principal
from wealthgate.capability import Seal
from wealthgate.clients.visibility import scope, scoped
from wealthgate.errors import NotFound

ACCOUNT_NOT_FOUND = "Account not found"

# The row lock serialises postings to one account until the transaction ends (no two sales can both spend
# the same shares, no two withdrawals the same cash).
_LOCK = scoped(
    """
SELECT a.client_id, a.allows_shorting, a.allows_margin
FROM visible v JOIN accounts a ON a.firm_id = v.firm_id AND a.client_id = v.id
WHERE a.id = :account_id
FOR UPDATE OF a
"""
)

_PROOF = Seal("VisibleAccount", "ledger.accounts.lock (the scoped lookup)")  # this module's alone


@dataclass(frozen=True, slots=True)
class VisibleAccount:
    """An account the caller may post to, proven (and locked) by the scoped lookup, with its posting terms."""

    firm_id: int
    client_id: int
    account_id: int
    allows_shorting: bool  # may a position go below zero
    allows_margin: bool  # may cash go below zero
    _proof: InitVar[object] = None

    def __post_init__(self, _proof: object) -> None:
        _PROOF.check(_proof)

    @property
    def ids(self) -> dict[str, int]:
        """`firm_id` and `account_id` as bind values for statements that read or write this account's rows."""
        return {"firm_id": self.firm_id, "account_id": self.account_id}


async def lock(conn: asyncpg.Connection, principal: Principal, account_id: int) -> VisibleAccount:
    """The account `account_id` if the caller may see its client, its row locked until the caller's
    transaction ends; 404 (`Account not found`) otherwise."""
    row = await _LOCK.fetchrow(conn, **scope(principal), account_id=account_id)
    if row is None:
        raise NotFound(ACCOUNT_NOT_FOUND)
    return VisibleAccount(
        principal.firm_id, row["client_id"], account_id, row["allows_shorting"], row["allows_margin"], _PROOF
    )
