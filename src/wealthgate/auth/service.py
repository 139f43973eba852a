"""Key management use cases: create (shown once), list, revoke. Each writes its audit event.

A key may act for a person (`user_id`): it is then that person's key (a review made with it names them), it
carries no more than their role allows, and it stops working when they are disabled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.auth import keys
from wealthgate.auth.authenticate import REVOCATIONS
from wealthgate.db.sql import Sql
from wealthgate.errors import Invalid, NotFound
from wealthgate.people.users import ROLE_SCOPES
from wealthgate.vocabulary import SCOPES

_FIRM_EXISTS = Sql("SELECT 1 FROM firms WHERE id = :firm_id")
_ADVISOR_EXISTS = Sql("SELECT 1 FROM advisors WHERE firm_id = :firm_id AND id = :advisor_id")
_USER = Sql(
    "SELECT role, advisor_id, email, disabled_at FROM users WHERE firm_id = :firm_id AND id = :user_id"
)
_KEYS_OF_USER = Sql(
    "SELECT id FROM api_keys WHERE firm_id = :firm_id AND user_id = :user_id AND revoked_at IS NULL"
)
_NEXT_ID = Sql("SELECT nextval(pg_get_serial_sequence('api_keys', 'id'))")
_INSERT = Sql(
    "INSERT INTO api_keys (firm_id, id, advisor_id, name, owner, key_hash, scopes, user_id)"
    " VALUES (:firm_id, :key_id, :advisor_id, :name, :owner, :key_hash, :scopes, :user_id)"
)
_LIST = Sql(
    "SELECT k.firm_id, k.id, k.advisor_id, k.name, k.owner, k.scopes, k.created_at, k.revoked_at,"
    " k.user_id, u.email AS user_email"
    " FROM api_keys k LEFT JOIN users u ON u.firm_id = k.firm_id AND u.id = k.user_id"
    " WHERE :firm_id::bigint IS NULL OR k.firm_id = :firm_id ORDER BY k.firm_id, k.id"
)
_REVOKE = Sql(
    "UPDATE api_keys SET revoked_at = now() WHERE id = :key_id AND revoked_at IS NULL RETURNING firm_id"
)
_ANNOUNCE = Sql("SELECT pg_notify(:channel, :payload)")


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
    user_id: int | None = None  # the person the key acts for
    user_email: str | None = None


async def create_key(
    conn: asyncpg.Connection,
    *,
    firm_id: int,
    scopes: list[str],
    name: str,
    owner: str,
    advisor_id: int | None,
    actor: dict[str, Any],
    user_id: int | None = None,
) -> CreatedKey:
    """A new key, its secret returned once. With `user_id` the key acts for that person of the same firm
    (not disabled): review and admin scopes only if their role has them, and an advisor's key is bound to
    their book (`advisor_id` defaults to it)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise Invalid(
            f"scopes must be chosen from {', '.join(SCOPES)}; got {unknown or 'none'}", field="scope"
        )
    if not await _FIRM_EXISTS.fetchval(conn, firm_id=firm_id):
        raise NotFound(f"firm {firm_id} does not exist", field="firm")
    if advisor_id is not None and not await _ADVISOR_EXISTS.fetchval(
        conn, firm_id=firm_id, advisor_id=advisor_id
    ):
        raise NotFound(f"advisor {advisor_id} does not exist in firm {firm_id}", field="advisor")
    if user_id is not None:
        advisor_id = await _person_check(conn, firm_id, user_id, scopes, advisor_id)
    key_id: int = await _NEXT_ID.fetchval(conn)
    secret_key = keys.format_key(firm_id, key_id, keys.new_secret())
    await _INSERT.execute(
        conn,
        firm_id=firm_id,
        key_id=key_id,
        advisor_id=advisor_id,
        name=name,
        owner=owner,
        key_hash=keys.digest(secret_key),
        scopes=sorted(set(scopes)),
        user_id=user_id,
    )
    await record(
        conn,
        firm_id=firm_id,
        actor=actor,
        action="api_key.created",
        target_type="api_key",
        target_id=key_id,
        details={
            "name": name,
            "owner": owner,
            "advisor_id": advisor_id,
            "scopes": sorted(set(scopes)),
            **({} if user_id is None else {"user_id": user_id}),
        },
    )
    return CreatedKey(key_id=key_id, firm_id=firm_id, secret_key=secret_key)


async def _person_check(
    conn: asyncpg.Connection, firm_id: int, user_id: int, scopes: list[str], advisor_id: int | None
) -> int | None:
    """Validate a key acting for user `user_id`; returns the advisor the key is bound to."""
    user = await _USER.fetchrow(conn, firm_id=firm_id, user_id=user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist in firm {firm_id}", field="user")
    if user["disabled_at"] is not None:
        raise Invalid(f"user {user['email']} is disabled", field="user")
    beyond = sorted({"compliance:review", "admin"}.intersection(scopes) - ROLE_SCOPES[user["role"]])
    if beyond:
        raise Invalid(f"a {user['role']} user's key cannot carry {', '.join(beyond)}", field="scope")
    if user["advisor_id"] is None:
        return advisor_id
    if advisor_id not in (None, user["advisor_id"]):
        raise Invalid(f"user {user['email']} is advisor {user['advisor_id']}'s user", field="advisor")
    return int(user["advisor_id"])


async def forget_user_keys(conn: asyncpg.Connection, *, firm_id: int, user_id: int) -> None:
    """After disabling a person: every serving worker drops their keys from its cache at commit (the keys
    stay, refused while the person is disabled: `authenticate` checks)."""
    for row in await _KEYS_OF_USER.fetch(conn, firm_id=firm_id, user_id=user_id):
        await _ANNOUNCE.execute(conn, channel=REVOCATIONS, payload=f"{firm_id}:{row['id']}")


async def list_keys(conn: asyncpg.Connection, *, firm_id: int | None = None) -> list[KeyInfo]:
    rows = await _LIST.fetch(conn, firm_id=firm_id)
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
            user_id=r["user_id"],
            user_email=r["user_email"],
        )
        for r in rows
    ]


async def revoke_key(
    conn: asyncpg.Connection, *, key_id: int, actor_for_firm: Callable[[int], dict[str, Any]]
) -> int:
    """Revoke key `key_id`; returns its firm. Revoking twice is an error, so nothing is audited twice.
    `actor_for_firm` names the actor once the key's firm is known (the caller knows only the key id)."""
    firm_id: int | None = await _REVOKE.fetchval(conn, key_id=key_id)
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
    await _ANNOUNCE.execute(conn, channel=REVOCATIONS, payload=f"{firm_id}:{key_id}")
    return firm_id
