"""The deployment's registered audit keys: which keyring the database expects its writers to hold.

The first process that writes with a keyring registers its keys (public halves; MAC keys by id only). From
then on a process whose keyring's current keys are not the registered current ones is refused with one line,
instead of silently signing and authenticating with keys nobody will verify with (another `WEALTHGATE_HOME`, a
fresh machine). `wealthgate audit keys rotate` is the one way to change the current keys. The table guards
against mistakes, not against a database superuser: what a superuser could do with it is covered by the
keyring itself, which verification trusts (docs/audit.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from wealthgate.audit.keyring import Keyring, KeyringMismatch, public_bytes
from wealthgate.db.sql import Sql

_REGISTER = Sql("""
INSERT INTO audit_keys (id, kind, public_key, created_at, retired_at)
SELECT * FROM unnest(:ids::text[], :kinds::text[], :public_keys::bytea[], :created::timestamptz[],
                     :retired::timestamptz[])
ON CONFLICT DO NOTHING
""")
_CURRENT = "SELECT kind, id FROM audit_keys WHERE retired_at IS NULL"


@dataclass(frozen=True, slots=True)
class RegisteredKey:
    id: str
    kind: str
    created_at: datetime
    registered_at: datetime
    retired_at: datetime | None


async def _register(conn: asyncpg.Connection, ring: Keyring) -> None:
    rows: list[tuple[str, str, bytes | None, datetime | None, datetime | None]] = [
        (k.id, "signing", public_bytes(k.public_key), _moment(k.created_at), _moment(k.retired_at))
        for k in ring.signing
    ]
    rows += [(k.id, "mac", None, _moment(k.created_at), _moment(k.retired_at)) for k in ring.macs]
    ids, kinds, public_keys, created, retired = (list(column) for column in zip(*rows, strict=True))
    await _REGISTER.execute(
        conn, ids=ids, kinds=kinds, public_keys=public_keys, created=created, retired=retired
    )


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


async def current(conn: asyncpg.Connection) -> dict[str, str]:
    """The registered current key id of each kind (`signing`, `mac`); empty before the first registration."""
    return {r["kind"]: r["id"] for r in await conn.fetch(_CURRENT)}


async def ensure(conn: asyncpg.Connection, ring: Keyring) -> None:
    """Register `ring` on first use; otherwise refuse it unless its current keys are the registered ones."""
    registered = await current(conn)
    if not registered:
        await _register(conn, ring)  # two first starts at once: one wins, the other is checked below
        registered = await current(conn)
    expected = {"signing": ring.signer.id, "mac": ring.mac_key.id}
    for kind, key_id in expected.items():
        if registered.get(kind) != key_id:
            raise KeyringMismatch(
                f"the audit keyring ({ring.source}) holds {kind} key {key_id}, but this database's current "
                f"{kind} key is {registered.get(kind)}: use the keyring that holds it, or change keys with "
                "`wealthgate audit keys rotate`"
            )
    await _register(conn, ring)  # retired keys a rotation elsewhere added, for `audit keys list`


async def rotate(conn: asyncpg.Connection, old: Keyring, new: Keyring) -> None:
    """Inside the caller's transaction: retire `old`'s current keys and register `new`'s as current."""
    await ensure(conn, old)
    await conn.execute("UPDATE audit_keys SET retired_at = now() WHERE retired_at IS NULL")
    await _register(conn, new)


async def listing(conn: asyncpg.Connection) -> list[RegisteredKey]:
    rows = await conn.fetch(
        "SELECT id, kind, created_at, registered_at, retired_at FROM audit_keys"
        " ORDER BY registered_at, kind, id"
    )
    return [RegisteredKey(**dict(r)) for r in rows]
