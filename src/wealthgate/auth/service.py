"""Key management use cases: create (shown once), list, revoke. Each writes its audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.auth import keys
from wealthgate.auth.authenticate import REVOCATIONS
from wealthgate.errors import Invalid, NotFound
from wealthgate.vocabulary import SCOPES


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key_id: int
    firm_id: int
    secret_key: str


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: int
    firm_id: int
    advisor_id: int | None
    name: str
    owner: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


async def create_key(
    conn: asyncpg.Connection,
    *,
    firm_id: int,
    scopes: list[str],
    name: str,
    owner: str,
    advisor_id: int | None,
    actor: dict[str, Any],
) -> CreatedKey:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise Invalid(
            f"scopes must be chosen from {', '.join(SCOPES)}; got {unknown or 'none'}", field="scope"
        )
    if not await conn.fetchval("SELECT 1 FROM firms WHERE id = $1", firm_id):
        raise NotFound(f"firm {firm_id} does not exist", field="firm")
    if advisor_id is not None and not await conn.fetchval(
        "SELECT 1 FROM advisors WHERE firm_id = $1 AND id = $2", firm_id, advisor_id
    ):
        raise NotFound(f"advisor {advisor_id} does not exist in firm {firm_id}", field="advisor")
    key_id: int = await conn.fetchval("SELECT nextval(pg_get_serial_sequence('api_keys', 'id'))")
    secret_key = keys.format_key(firm_id, key_id, keys.new_secret())
    await conn.execute(
        "INSERT INTO api_keys (firm_id, id, advisor_id, name, owner, key_hash, scopes)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        firm_id,
        key_id,
        advisor_id,
        name,
        owner,
        keys.digest(secret_key),
        sorted(set(scopes)),
    )
    await record(
        conn,
        firm_id=firm_id,
        actor=actor,
        action="api_key.created",
        target_type="api_key",
        target_id=key_id,
        details={"name": name, "owner": owner, "advisor_id": advisor_id, "scopes": sorted(set(scopes))},
    )
    return CreatedKey(key_id=key_id, firm_id=firm_id, secret_key=secret_key)


async def list_keys(conn: asyncpg.Connection, *, firm_id: int | None = None) -> list[KeyInfo]:
    rows = await conn.fetch(
        "SELECT firm_id, id, advisor_id, name, owner, scopes, created_at, revoked_at FROM api_keys"
        " WHERE $1::bigint IS NULL OR firm_id = $1 ORDER BY firm_id, id",
        firm_id,
    )
    return [
        KeyInfo(
            key_id=r["id"],
            firm_id=r["firm_id"],
            advisor_id=r["advisor_id"],
            name=r["name"],
            owner=r["owner"],
            scopes=list(r["scopes"]),
            created_at=r["created_at"],
            revoked_at=r["revoked_at"],
        )
        for r in rows
    ]


async def revoke_key(conn: asyncpg.Connection, *, key_id: int, actor_for_firm: Any) -> int:
    """Revoke key `key_id`; returns its firm. Revoking twice is an error, so nothing is audited twice."""
    firm_id: int | None = await conn.fetchval(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING firm_id",
        key_id,
    )
    if firm_id is None:
        raise NotFound(f"no active API key with id {key_id}", field="key_id")
    await record(
        conn,
        firm_id=firm_id,
        actor=actor_for_firm(firm_id),
        action="api_key.revoked",
        target_type="api_key",
        target_id=key_id,
    )
    # delivered at commit: every serving worker drops the key from its cache at once
    await conn.execute("SELECT pg_notify($1, $2)", REVOCATIONS, f"{firm_id}:{key_id}")
    return firm_id
