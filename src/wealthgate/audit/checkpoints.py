"""Signed checkpoints: a firm's chain heads at one moment, signed with a key the database never sees.

A rewrite of a whole chain with freshly computed hashes is self-consistent, so only a record kept outside
the attacker's reach can expose it: the checkpoint's signed hash for position n no longer matches the event
at position n. Export checkpoints (`wealthgate audit checkpoint` prints each one) to keep them off-site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from wealthgate.audit.chain import canonical, timestamp
from wealthgate.audit.signing import fingerprint, public_bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    firm_id: int
    id: int
    created_at: datetime
    heads: dict[str, dict[str, Any]]  # chain key -> {"seq": n, "hash": hex}
    signature: bytes
    public_key_fingerprint: str

    def signed_document(self) -> bytes:
        return signed_document(self.firm_id, self.created_at, self.heads, self.public_key_fingerprint)

    def verifies_with(self, key: Ed25519PublicKey) -> bool:
        try:
            key.verify(self.signature, self.signed_document())
        except InvalidSignature:
            return False
        return fingerprint(key) == self.public_key_fingerprint

    def as_dict(self) -> dict[str, Any]:
        return {
            "firm_id": self.firm_id,
            "id": self.id,
            "created_at": timestamp(self.created_at),
            "heads": self.heads,
            "signature": self.signature.hex(),
            "public_key_fingerprint": self.public_key_fingerprint,
        }


def signed_document(firm_id: int, created_at: datetime, heads: dict[str, Any], key_fingerprint: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return canonical(
        {
            "firm_id": firm_id,
            "created_at": timestamp(created_at),
            "heads": heads,
            "public_key": key_fingerprint,
        }
    )


async def create(conn: asyncpg.Connection, key: Ed25519PrivateKey, firm_id: int) -> Checkpoint:
    """Sign the firm's current chain heads and store the checkpoint (append-only)."""
    async with conn.transaction(isolation="repeatable_read"):
        created_at: datetime = await conn.fetchval("SELECT now()")
        rows = await conn.fetch(
            "SELECT chain_key, seq, head_hash FROM audit_chain_heads WHERE firm_id = $1 ORDER BY chain_key",
            firm_id,
        )
        heads = {str(r["chain_key"]): {"seq": r["seq"], "hash": r["head_hash"].hex()} for r in rows}
        key_fingerprint = fingerprint(key.public_key())
        signature = key.sign(signed_document(firm_id, created_at, heads, key_fingerprint))
        checkpoint_id: int = await conn.fetchval(
            "INSERT INTO audit_checkpoints (firm_id, created_at, heads, signature, public_key_fingerprint)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            firm_id,
            created_at,
            heads,
            signature,
            key_fingerprint,
        )
    return Checkpoint(firm_id, checkpoint_id, created_at, heads, signature, key_fingerprint)


async def load(conn: asyncpg.Connection, firm_id: int | None) -> list[Checkpoint]:
    rows = await conn.fetch(
        "SELECT firm_id, id, created_at, heads, signature, public_key_fingerprint FROM audit_checkpoints"
        " WHERE $1::bigint IS NULL OR firm_id = $1 ORDER BY firm_id, id",
        firm_id,
    )
    return [Checkpoint(**dict(r)) for r in rows]


async def create_for_all_firms(conn: asyncpg.Connection, key: Ed25519PrivateKey) -> list[Checkpoint]:
    firms = [r["id"] for r in await conn.fetch("SELECT id FROM firms ORDER BY id")]
    return [await create(conn, key, firm) for firm in firms]


def public_key_hex(key: Ed25519PrivateKey) -> str:
    return public_bytes(key.public_key()).hex()
