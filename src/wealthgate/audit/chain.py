"""Hash chains over audit events: canonical content, SHA-256 links, MACs, and verification. Pure: no I/O.

Each event belongs to one chain: a client's events to that client's chain, firm-level events (keys, loads)
to the firm's chain 0. An event's hash covers its canonical content, which includes its position
(`chain_seq`) and the previous event's hash, so editing, deleting, inserting or reordering events breaks the
chain at a point that verification names. A hash anyone can recompute; the event's MAC (HMAC-SHA256 over the
hash, with a key the database never sees) only the application can, so a re-hashed or appended event fails it.
See docs/audit.md for why chains are per client, and for the hash formats:

- format 1: the fields of `CONTENT_V1` (events written before MACs existed);
- format 2 (current): format 1's fields plus `hash_version` and `client_request_id`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

GENESIS = bytes(32)
FIRM_CHAIN = 0  # chain key of events that concern no client
HASH_VERSION = 2  # the format new events are hashed with


def chain_key(client_id: int | None) -> int:
    return FIRM_CHAIN if client_id is None else client_id


def canonical(value: Any) -> bytes:
    """Canonical JSON (RFC 8785 style): sorted keys, no insignificant whitespace, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def check_hashable(value: Any, path: str = "details") -> None:
    """Audit documents hold strings, integers, booleans, null, lists and objects: no floats (decimals go in
    as strings), so what PostgreSQL's jsonb gives back hashes exactly as what went in."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(f"{path}: NUL characters cannot be stored")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_hashable(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: object keys must be strings")
            check_hashable(item, f"{path}.{key}")
        return
    raise TypeError(f"{path}: {type(value).__name__} is not allowed in an audit document")


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class Event:
    """An audit event as stored, with its chain fields."""

    id: int
    firm_id: int
    chain_key: int
    chain_seq: int
    occurred_at: datetime
    actor_key_id: int | None
    actor: Mapping[str, Any]
    action: str
    target_type: str | None
    target_id: str | None
    client_id: int | None
    details: Mapping[str, Any]
    request_id: str | None
    prev_hash: bytes
    event_hash: bytes
    hash_version: int = HASH_VERSION
    client_request_id: str | None = None
    mac_key_id: str | None = None
    mac: bytes | None = None

    def content(self) -> dict[str, Any]:
        return content(
            hash_version=self.hash_version,
            client_request_id=self.client_request_id,
            id=self.id,
            firm_id=self.firm_id,
            chain_key=self.chain_key,
            chain_seq=self.chain_seq,
            occurred_at=self.occurred_at,
            actor_key_id=self.actor_key_id,
            actor=self.actor,
            action=self.action,
            target_type=self.target_type,
            target_id=self.target_id,
            client_id=self.client_id,
            details=self.details,
            request_id=self.request_id,
            prev_hash=self.prev_hash,
        )

    def recomputed_hash(self) -> bytes:
        return digest(self.content())


def content(
    *,
    hash_version: int = HASH_VERSION,
    client_request_id: str | None = None,
    id: int,
    firm_id: int,
    chain_key: int,
    chain_seq: int,
    occurred_at: datetime,
    actor_key_id: int | None,
    actor: Mapping[str, Any],
    action: str,
    target_type: str | None,
    target_id: str | None,
    client_id: int | None,
    details: Mapping[str, Any],
    request_id: str | None,
    prev_hash: bytes,
) -> dict[str, Any]:
    """Everything an event's hash covers, in format `hash_version`."""
    body = {
        "id": id,
        "firm_id": firm_id,
        "chain_key": chain_key,
        "chain_seq": chain_seq,
        "occurred_at": timestamp(occurred_at),
        "actor_key_id": actor_key_id,
        "actor": dict(actor),
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "client_id": client_id,
        "details": dict(details),
        "request_id": request_id,
        "prev_hash": prev_hash.hex(),
    }
    if hash_version == 1:
        return body
    if hash_version == 2:
        return {**body, "hash_version": 2, "client_request_id": client_request_id}
    raise ValueError(f"unknown audit hash format {hash_version}")


def digest(event_content: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(canonical(event_content)).digest()


@dataclass(frozen=True, slots=True)
class Head:
    """The chain head as recorded when the last event was appended."""

    firm_id: int
    chain_key: int
    seq: int
    head_hash: bytes | None


@dataclass(frozen=True, slots=True)
class Break:
    """The first point where a chain (or a checkpoint) fails verification."""

    firm_id: int
    chain_key: int
    event_id: int | None
    chain_seq: int
    reason: str  # edited | missing | inserted | reordered | forged | checkpoint mismatch | checkpoint missing
    detail: str
    checkpoint_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "firm_id": self.firm_id,
            "chain_key": self.chain_key,
            "event_id": self.event_id,
            "chain_seq": self.chain_seq,
            "checkpoint_id": self.checkpoint_id,
            "reason": self.reason,
            "detail": self.detail,
        }


def mac(secret: bytes, event_hash: bytes) -> bytes:
    """An event's MAC: HMAC-SHA256 over a domain tag and its hash (which covers content, position and
    predecessor). The one definition: the writer (audit/keyring.py) and the verifier below both use it."""
    return hmac.new(secret, b"wealthgate audit event\x00" + event_hash, hashlib.sha256).digest()


def mac_problem(
    event: Event, mac_keys: Mapping[str, bytes], vouched_up_to: int, after_mac: bool
) -> str | None:
    """Why `event`'s MAC fails, or None. An event without a MAC passes only if it is a format-1 event (written
    before MACs existed), no authenticated event precedes it in its chain (`after_mac`), and a signed
    checkpoint vouches for its position (its hash is then fixed by the signed head it links to)."""
    if event.mac is None or event.mac_key_id is None:
        if event.hash_version == 1 and not after_mac and event.chain_seq <= vouched_up_to:
            return None
        return "it carries no MAC, and it is not a pre-MAC event a signed checkpoint vouches for"
    secret = mac_keys.get(event.mac_key_id)
    if secret is None:
        return f"its MAC key {event.mac_key_id} is not in the keyring"
    if not hmac.compare_digest(mac(secret, event.event_hash), event.mac):
        return "its MAC does not verify: it was written or rewritten without the application's audit key"
    return None


def _check(  # noqa: PLR0911  (one return per kind of break)
    event: Event, expected_seq: int, previous_hash: bytes, known: dict[bytes, int]
) -> Break | None:
    """The first thing wrong with `event` at position `expected_seq` after `previous_hash`, if any."""
    firm, key, seq = event.firm_id, event.chain_key, event.chain_seq
    if seq < expected_seq:
        return Break(firm, key, event.id, seq, "inserted", f"a second event at position {seq}")
    if seq > expected_seq:
        detail = f"positions {expected_seq}..{seq - 1} are missing before this event"
        return Break(firm, key, event.id, seq, "missing", detail)
    if event.prev_hash != previous_hash:
        if known.get(event.prev_hash, seq) != seq:  # it links to an event at another position
            return Break(
                firm, key, event.id, seq, "reordered", "it links to another event than the one before it"
            )
        return Break(firm, key, event.id, seq, "inserted", "it links to no event of this chain")
    try:
        recomputed = event.recomputed_hash()
    except ValueError as exc:  # an unknown hash format
        return Break(firm, key, event.id, seq, "edited", str(exc))
    if recomputed != event.event_hash:
        return Break(firm, key, event.id, seq, "edited", "its content no longer matches its hash")
    return None


def verify_chain(
    events: Iterable[Event],
    head: Head | None,
    *,
    partial: bool = False,
    anchors: Mapping[int, bytes] | None = None,
    mac_keys: Mapping[str, bytes] | None = None,
) -> tuple[int, Break | None]:
    """Walk one chain in `chain_seq` order; returns (events checked, first break or None).

    With `partial`, the walk starts mid-chain (a `--since` window): the first event's link to its
    predecessor is taken on trust, everything after it is checked. `anchors` (position -> hash) come from
    signed checkpoints (and the witness): a chain rewritten with fresh hashes is self-consistent but fails
    there, and a chain cut short of a signed position is missing events. `mac_keys` (id -> secret): every
    event's MAC is checked; None skips MACs (a node without the keyring's secrets).
    """
    anchors = anchors or {}
    vouched_up_to = max(anchors, default=0)
    ordered = list(events)
    known = {e.event_hash: e.chain_seq for e in ordered}
    expected_seq = ordered[0].chain_seq if (partial and ordered) else 1
    previous_hash = ordered[0].prev_hash if (partial and ordered) else GENESIS
    after_mac = False
    for checked, event in enumerate(ordered):
        broken = _check(event, expected_seq, previous_hash, known)
        if broken is None and mac_keys is not None:
            problem = mac_problem(event, mac_keys, vouched_up_to, after_mac)
            after_mac = after_mac or event.mac is not None
            if problem is not None:
                broken = Break(event.firm_id, event.chain_key, event.id, event.chain_seq, "forged", problem)
        if broken is None and anchors.get(event.chain_seq, event.event_hash) != event.event_hash:
            detail = "its hash differs from the one a signed checkpoint recorded for this position"
            broken = Break(
                event.firm_id, event.chain_key, event.id, event.chain_seq, "checkpoint mismatch", detail
            )
        if broken is not None:
            return checked, broken
        previous_hash = event.event_hash
        expected_seq += 1
    last_seq = expected_seq - 1
    beyond = [seq for seq in anchors if seq > last_seq]
    if beyond and not partial:
        detail = (
            f"a signed checkpoint recorded position {min(beyond)}; the events end at {last_seq}: "
            f"positions {last_seq + 1}..{max(beyond)} were removed"
        )
        first = ordered[0] if ordered else None
        firm, key = (
            (first.firm_id, first.chain_key) if first else (head.firm_id, head.chain_key) if head else (0, 0)
        )
        return len(ordered), Break(firm, key, None, last_seq + 1, "missing", detail)
    if head is not None and (head.seq != last_seq or (head.head_hash or GENESIS) != previous_hash):
        reason = "missing" if head.seq > last_seq else "inserted" if head.seq < last_seq else "edited"
        detail = f"the chain head records position {head.seq}; the events end at {last_seq}"
        return len(ordered), Break(head.firm_id, head.chain_key, None, head.seq, reason, detail)
    return len(ordered), None
