"""The only way to reach client rows: every client query starts from the caller's visible clients.

A query built with `scoped()` takes the Principal's firm as $1 and advisor as $2, so a route cannot forget
tenant isolation: another firm's (or advisor's) client is simply not in `visible`, and answers 404 like a
missing one.
"""

from __future__ import annotations

from typing import Any

from wealthgate.auth.principal import Principal

VISIBLE_CLIENTS_CTE = """visible AS (
    SELECT * FROM clients
    WHERE firm_id = $1 AND ($2::bigint IS NULL OR advisor_id = $2)
)"""


def scoped(body: str) -> str:
    """`body` may refer to `visible` and use parameters from $3 on."""
    return f"WITH {VISIBLE_CLIENTS_CTE}{body}"


def scope_args(principal: Principal, *args: Any) -> tuple[Any, ...]:
    return (principal.firm_id, principal.advisor_id, *args)
