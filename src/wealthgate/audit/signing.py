"""The Ed25519 key that signs audit checkpoints. It never enters the database.

Loaded from `WEALTHGATE_AUDIT_SIGNING_KEY` (PEM text) or the file `WEALTHGATE_AUDIT_SIGNING_KEY_FILE`
(default `$WEALTHGATE_HOME/audit-signing-key.pem`, created with mode 0600 on first use).
"""

from __future__ import annotations

import hashlib
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from wealthgate.settings import Settings


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_bytes(key)).hexdigest()[:32]


def _from_pem(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the audit signing key must be an Ed25519 private key")
    return key


def load_or_create(settings: Settings) -> Ed25519PrivateKey:
    if settings.audit_signing_key is not None:
        return _from_pem(settings.audit_signing_key.get_secret_value().encode())
    path = settings.signing_key_path
    if path.exists():
        return _from_pem(path.read_bytes())
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def public_key_from_hex(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))


def configured_public_key(settings: Settings) -> Ed25519PublicKey | None:
    """The key that checkpoint signatures must verify with, if one is configured (never creates a key)."""
    if settings.audit_public_key:
        return public_key_from_hex(settings.audit_public_key)
    if settings.audit_signing_key is not None or settings.signing_key_path.exists():
        return load_or_create(settings).public_key()
    return None


def configured_private_key(settings: Settings) -> Ed25519PrivateKey | None:
    """The signing key if one is configured or already on disk (never creates one)."""
    if settings.audit_signing_key is not None or settings.signing_key_path.exists():
        return load_or_create(settings)
    return None
