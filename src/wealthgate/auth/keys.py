"""API key format and hashing.

A key reads `wg_<firm>_<key id>_<secret>`: the firm and id make lookup a primary-key read (and keep the
`firm_id` in every key, as tenant sharding wants); the 256-bit secret makes guessing hopeless, so a single
SHA-256 is the right stored form (a slow password hash protects low-entropy secrets, which these are not).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "wg"


@dataclass(frozen=True, slots=True)
class ParsedKey:
    firm_id: int
    key_id: int
    digest: bytes


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def format_key(firm_id: int, key_id: int, secret: str) -> str:
    return f"{PREFIX}_{firm_id}_{key_id}_{secret}"


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def parse(key: str) -> ParsedKey | None:
    """The firm, id and digest of a presented key, or None when it cannot be one of ours."""
    parts = key.split("_", 3)
    if len(parts) != 4 or parts[0] != PREFIX or len(key) > 200:
        return None
    firm, key_id, secret = parts[1], parts[2], parts[3]
    if not (
        firm.isascii()
        and key_id.isascii()
        and firm.isdigit()
        and key_id.isdigit()
        and len(firm) <= 19
        and len(key_id) <= 19
        and len(secret) >= 20
    ):
        return None
    if int(firm) >= 2**63 or int(key_id) >= 2**63:
        return None
    return ParsedKey(int(firm), int(key_id), digest(key))


def matches(stored: bytes, presented: bytes) -> bool:
    return hmac.compare_digest(stored, presented)
