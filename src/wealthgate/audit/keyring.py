"""The audit keyring: the secrets that make the trail unforgeable, kept where the database never sees them.

Two kinds of key, each with an id stored beside everything it vouches for:

- **signing keys** (Ed25519): sign checkpoints and export seals. The id is the public key's fingerprint.
  The current key holds its private half; a retired key keeps only its public half, so old checkpoints still
  verify after a rotation and nothing can be signed with it any more.
- **MAC keys** (HMAC-SHA256, 256-bit secrets): authenticate every audit event as it is written. A database
  superuser can recompute hashes, but not MACs. Retired MAC keys stay (verification needs them); only the
  current one authenticates new events.

The keyring is one JSON document, read from `WEALTHGATE_AUDIT_KEYRING` (the document itself, e.g. from a
secret store) or the file `WEALTHGATE_AUDIT_KEYRING_FILE` (default `$WEALTHGATE_HOME/audit-keyring.json`,
mode 0600).
Nothing creates one without being asked: `wealthgate audit keys init` (or the first run of `wealthgate demo`).
A missing keyring is a `KeyringMissing` naming the setting.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from wealthgate.audit.chain import mac
from wealthgate.errors import Conflict, Unavailable
from wealthgate.settings import Settings, get_settings

FORMAT = "wealthgate-audit-keyring/1"


class KeyringMissing(Unavailable):
    """No keyring is configured where the settings point."""


class KeyringMismatch(Unavailable):
    """The keyring's current keys are not the ones the database registered as current."""


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """A signing key's id: the first 128 bits of SHA-256 over its raw public key, in hex."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:32]


def mac_key_id(secret: bytes) -> str:
    """A MAC key's id: 64 bits of a domain-separated SHA-256 of the secret (it reveals nothing of it)."""
    return "mac-" + hashlib.sha256(b"wealthgate audit mac key id\x00" + secret).hexdigest()[:16]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class SigningKey:
    id: str
    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None  # only the current key keeps it
    created_at: str
    retired_at: str | None = None

    @property
    def public_hex(self) -> str:
        return public_bytes(self.public_key).hex()


@dataclass(frozen=True, slots=True)
class MacKey:
    id: str
    secret: bytes = field(repr=False)
    created_at: str
    retired_at: str | None = None


@dataclass(frozen=True, slots=True)
class Keyring:
    signing: tuple[SigningKey, ...]
    macs: tuple[MacKey, ...]
    source: str = "memory"  # where it was read from, for messages (never the secrets)

    @property
    def signer(self) -> SigningKey:
        current = [k for k in self.signing if k.retired_at is None]
        if len(current) != 1 or current[0].private_key is None:
            raise KeyringMissing(f"the audit keyring ({self.source}) has no current signing key")
        return current[0]

    @property
    def mac_key(self) -> MacKey:
        current = [k for k in self.macs if k.retired_at is None]
        if len(current) != 1:
            raise KeyringMissing(f"the audit keyring ({self.source}) has no current MAC key")
        return current[0]

    def private_key(self) -> Ed25519PrivateKey:
        key = self.signer.private_key
        if key is None:  # pragma: no cover - `signer` checks it
            raise KeyringMissing(f"the audit keyring ({self.source}) has no current signing key")
        return key

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every signing key's public half by id, current and retired: what verification trusts."""
        return {k.id: k.public_key for k in self.signing}

    def mac_secrets(self) -> dict[str, bytes]:
        return {k.id: k.secret for k in self.macs}

    def authenticate(self, event_hash: bytes) -> tuple[str, bytes]:
        """The current MAC key's id and the event's MAC."""
        key = self.mac_key
        return key.id, mac(key.secret, event_hash)

    def document(self) -> dict[str, Any]:
        """The whole keyring, secrets included: what `save` writes."""
        public = self.public_document()
        for entry, key in zip(public["signing"], self.signing, strict=True):
            entry["private_key"] = _pem(key.private_key) if key.private_key else None
        public["mac"] = [
            {"id": k.id, "secret": k.secret.hex(), "created_at": k.created_at, "retired_at": k.retired_at}
            for k in self.macs
        ]
        return public

    def public_document(self) -> dict[str, Any]:
        """What an auditor needs to verify exports: the public keys by id (no secret at all)."""
        return {
            "format": FORMAT,
            "signing": [
                {
                    "id": k.id,
                    "public_key": k.public_hex,
                    "created_at": k.created_at,
                    "retired_at": k.retired_at,
                }
                for k in self.signing
            ],
        }

    def rotated(self) -> Keyring:
        """A new current signing key and MAC key; the old signing key keeps only its public half."""
        now = _now()
        retired = [replace(k, private_key=None, retired_at=k.retired_at or now) for k in self.signing]
        signing = (*retired, _new_signing_key(now))
        macs = (*[replace(k, retired_at=k.retired_at or now) for k in self.macs], _new_mac_key(now))
        return Keyring(signing, macs, self.source)


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _from_pem(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("an audit signing key must be an Ed25519 private key")
    return key


def _new_signing_key(now: str, private: Ed25519PrivateKey | None = None) -> SigningKey:
    key = private or Ed25519PrivateKey.generate()
    return SigningKey(fingerprint(key.public_key()), key.public_key(), key, now)


def _new_mac_key(now: str) -> MacKey:
    secret = secrets.token_bytes(32)
    return MacKey(mac_key_id(secret), secret, now)


def generate(adopt_pem: str | None = None) -> Keyring:
    """A new keyring; `adopt_pem` makes an existing Ed25519 key (an older version's) the signing key."""
    now = _now()
    private = _from_pem(adopt_pem) if adopt_pem else None
    return Keyring((_new_signing_key(now, private),), (_new_mac_key(now),))


def parse(text: str | bytes, source: str) -> Keyring:
    """Read a keyring document; every key's id is recomputed from the key, so a renamed key is refused."""
    try:
        doc = orjson.loads(text)
        if doc.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        signing = []
        for entry in doc["signing"]:
            public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(entry["public_key"]))
            private = _from_pem(entry["private_key"]) if entry.get("private_key") else None
            if private is not None and public_bytes(private.public_key()) != public_bytes(public):
                raise ValueError(f"signing key {entry['id']}: the private key does not match the public key")
            if fingerprint(public) != entry["id"]:
                raise ValueError(f"signing key {entry['id']}: the id is not the key's fingerprint")
            signing.append(SigningKey(entry["id"], public, private, entry["created_at"], entry["retired_at"]))
        macs = []
        for entry in doc.get("mac", []):
            secret = bytes.fromhex(entry["secret"])
            if mac_key_id(secret) != entry["id"] or len(secret) < 32:
                raise ValueError(f"MAC key {entry['id']}: the id does not match the secret, or it is short")
            macs.append(MacKey(entry["id"], secret, entry["created_at"], entry["retired_at"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyringMissing(f"the audit keyring ({source}) cannot be read: {exc}") from exc
    return Keyring(tuple(signing), tuple(macs), source)


def location(settings: Settings) -> str:
    """Where the keyring comes from, for messages."""
    if settings.audit_keyring is not None:
        return "WEALTHGATE_AUDIT_KEYRING"
    return f"WEALTHGATE_AUDIT_KEYRING_FILE={settings.keyring_path}"


def load(settings: Settings) -> Keyring:
    """The configured keyring; `KeyringMissing` (naming the setting) when there is none. Never creates one."""
    if settings.audit_keyring is not None:
        return parse(settings.audit_keyring.get_secret_value(), "WEALTHGATE_AUDIT_KEYRING")
    path = settings.keyring_path
    if not path.exists():
        raise KeyringMissing(
            f"no audit keyring at {path}: set WEALTHGATE_AUDIT_KEYRING_FILE (or WEALTHGATE_AUDIT_KEYRING) to "
            "the firm's keyring, or create one with `wealthgate audit keys init`"
        )
    return parse(path.read_bytes(), f"WEALTHGATE_AUDIT_KEYRING_FILE={path}")


def exists(settings: Settings) -> bool:
    return settings.audit_keyring is not None or settings.keyring_path.exists()


def save(keyring: Keyring, path: Path, *, replace_existing: bool = False) -> None:
    """Write the keyring (mode 0600), atomically; refuses to overwrite unless `replace_existing`."""
    if path.exists() and not replace_existing:
        raise Conflict(f"an audit keyring already exists at {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(orjson.dumps(keyring.document(), option=orjson.OPT_INDENT_2))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


# The keyring this process writes audit events with: installed at start by whatever writes (the service, a
# test session), or read from the settings on first use (a CLI command), like the process's settings.
_installed: Keyring | None = None


def install(keyring: Keyring | None) -> None:
    global _installed  # noqa: PLW0603  (process-wide, set at start: see the comment above)
    _installed = keyring


def installed() -> Keyring:
    """The process's keyring; `KeyringMissing` naming the setting when none is configured."""
    global _installed  # noqa: PLW0603
    if _installed is None:
        _installed = load(get_settings())
    return _installed


def public_keys_from(document: Mapping[str, Any]) -> dict[str, str]:
    """Public keys by id from a keyring or public keyring document (hex), for the offline verifier."""
    return {entry["id"]: entry["public_key"] for entry in document.get("signing", [])}
