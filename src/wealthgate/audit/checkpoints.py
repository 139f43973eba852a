"""Signed checkpoints: a firm's chain heads at one moment, signed with a key the database never sees.

A rewrite of a whole chain with freshly computed hashes is self-consistent, so only a record kept outside
the attacker's reach can expose it: the checkpoint's signed hash for position n no longer matches the event
at position n, and a chain cut short of a signed position is missing events. Every checkpoint is also
appended to the witness (audit/witness.py), which the database cannot reach.

Formats of the signed document:

- 1: `{firm_id, created_at, heads, public_key}` (`public_key` is the key id): every chain of the firm;
- 2 (current): `{format, firm_id, id, created_at, key_id, previous, heads}`: only the chains that moved
  since the previous checkpoint, and `previous` the SHA-256 of the firm's previous checkpoint's signed
  document, so a checkpoint deleted from the middle breaks the links.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from wealthgate.audit import registry
from wealthgate.audit.chain import canonical, timestamp
from wealthgate.audit.keyring import Keyring, KeyringMismatch
from wealthgate.db.sql import Sql

FORMAT = 2
# the columns are the fields of `Checkpoint`, in its order
_LATEST = Sql("""
SELECT firm_id, id, created_at, heads, signature, key_id, format, previous_digest FROM audit_checkpoints
WHERE firm_id = :firm_id ORDER BY id DESC LIMIT 1
""")
_LOAD = Sql("""
SELECT firm_id, id, created_at, heads, signature, key_id, format, previous_digest FROM audit_checkpoints
WHERE :firm_id::bigint IS NULL OR firm_id = :firm_id ORDER BY firm_id, id
""")
_INSERT = Sql("""
INSERT INTO audit_checkpoints (firm_id, id, created_at, heads, signature, key_id, format, previous_digest)
VALUES (:firm_id, :id, :created_at, :heads, :signature, :key_id, :format, :previous_digest)
""")
_NEXT_ID = Sql("SELECT nextval(pg_get_serial_sequence('audit_checkpoints', 'id'))")
_MOVED = Sql("""
SELECT h.chain_key, h.seq, h.head_hash FROM audit_chain_heads h
LEFT JOIN audit_chain_marks m ON m.firm_id = h.firm_id AND m.chain_key = h.chain_key
WHERE h.firm_id = :firm_id AND h.seq > coalesce(m.seq, 0)
ORDER BY h.chain_key
""")
_MARK = Sql("""
INSERT INTO audit_chain_marks AS m (firm_id, chain_key, seq)
SELECT :firm_id, k, s FROM unnest(:chain_keys::bigint[], :seqs::bigint[]) AS u(k, s)
ON CONFLICT (firm_id, chain_key) DO UPDATE SET seq = excluded.seq
""")
_FIRMS = Sql("SELECT id FROM firms ORDER BY id")
_NEWEST_AT = Sql("SELECT max(created_at) FROM audit_checkpoints")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    firm_id: int
    id: int
    created_at: datetime
    heads: dict[str, dict[str, Any]]  # chain key -> {"seq": n, "hash": hex}
    signature: bytes
    key_id: str
    format: int = FORMAT
    previous_digest: bytes | None = None

    def signed_document(self) -> bytes:
        return signed_document(
            self.format, self.firm_id, self.id, self.created_at, self.heads, self.key_id, self.previous_digest
        )

    def digest(self) -> bytes:
        """What the firm's next checkpoint links to."""
        return hashlib.sha256(self.signed_document()).digest()

    def verifies_with(self, keys: Mapping[str, Ed25519PublicKey]) -> bool:
        key = keys.get(self.key_id)
        if key is None:
            return False
        try:
            key.verify(self.signature, self.signed_document())
        except InvalidSignature:
            return False
        return True

    def as_dict(self) -> dict[str, Any]:
        return {
            "firm_id": self.firm_id,
            "id": self.id,
            "format": self.format,
            "created_at": timestamp(self.created_at),
            "key_id": self.key_id,
            "previous": self.previous_digest.hex() if self.previous_digest is not None else None,
            "heads": self.heads,
            "signature": self.signature.hex(),
        }


def signed_document(
    fmt: int,
    firm_id: int,
    checkpoint_id: int,
    created_at: datetime,
    heads: Mapping[str, Any],
    key_id: str,
    previous: bytes | None,
) -> bytes:
    """The bytes a checkpoint's signature covers, in format `fmt`."""
    if fmt == 1:
        return canonical(
            {"firm_id": firm_id, "created_at": timestamp(created_at), "heads": heads, "public_key": key_id}
        )
    return canonical(
        {
            "format": fmt,
            "firm_id": firm_id,
            "id": checkpoint_id,
            "created_at": timestamp(created_at),
            "key_id": key_id,
            "previous": previous.hex() if previous is not None else None,
            "heads": heads,
        }
    )


async def _latest(conn: asyncpg.Connection, firm_id: int) -> Checkpoint | None:
    row = await _LATEST.fetchrow(conn, firm_id=firm_id)
    return Checkpoint(**dict(row)) if row else None


async def create(conn: asyncpg.Connection, ring: Keyring, firm_id: int) -> Checkpoint:
    """Sign the chains of the firm that moved since its last checkpoint, store the checkpoint (append-only)
    and move the marks, in one repeatable-read transaction of its own. A checkpoint is made even when nothing
    moved: its time tells a verifier the trail was vouched for up to then. Refused with a key that is not the
    registered current signing key (rotation registers the new key first)."""
    signer = ring.signer
    async with conn.transaction(isolation="repeatable_read"):
        registered = (await registry.current(conn)).get("signing")
        if registered != signer.id:
            raise KeyringMismatch(
                f"refusing to sign with key {signer.id}: this database's current signing key is {registered}"
            )
        created_at: datetime = await conn.fetchval("SELECT now()")
        rows = await _MOVED.fetch(conn, firm_id=firm_id)
        heads = {str(r["chain_key"]): {"seq": r["seq"], "hash": r["head_hash"].hex()} for r in rows}
        previous = await _latest(conn, firm_id)
        previous_digest = previous.digest() if previous is not None else None
        checkpoint_id: int = await _NEXT_ID.fetchval(conn)
        document = signed_document(
            FORMAT, firm_id, checkpoint_id, created_at, heads, signer.id, previous_digest
        )
        signature = ring.private_key().sign(document)
        await _INSERT.execute(
            conn,
            firm_id=firm_id,
            id=checkpoint_id,
            created_at=created_at,
            heads=heads,
            signature=signature,
            key_id=signer.id,
            format=FORMAT,
            previous_digest=previous_digest,
        )
        await _MARK.execute(
            conn, firm_id=firm_id, chain_keys=[int(k) for k in heads], seqs=[h["seq"] for h in heads.values()]
        )
    return Checkpoint(
        firm_id, checkpoint_id, created_at, heads, signature, signer.id, FORMAT, previous_digest
    )


async def load(conn: asyncpg.Connection, firm_id: int | None) -> list[Checkpoint]:
    rows = await _LOAD.fetch(conn, firm_id=firm_id)
    return [Checkpoint(**dict(r)) for r in rows]


async def firms(conn: asyncpg.Connection) -> list[int]:
    return [r["id"] for r in await _FIRMS.fetch(conn)]


async def newest_at(conn: asyncpg.Connection) -> datetime | None:
    """When the newest checkpoint of any firm was signed (an index read); None before the first."""
    moment: datetime | None = await _NEWEST_AT.fetchval(conn)
    return moment
