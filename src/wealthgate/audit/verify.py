"""Recompute every audit chain from the database and report the first break.

Three things are checked, in one consistent snapshot:

1. the checkpoints: each signature against the keyring's public keys (by key id), each format-2 checkpoint's
   link to the firm's previous one, and, given a witness, that every witnessed checkpoint is still in the
   database unchanged;
2. every chain: links, hashes and positions (audit/chain.py), every event's MAC against the keyring's
   secrets, and every position a trustworthy checkpoint (stored or witnessed) recorded;
3. the chain heads.

A broken event is reported before a broken checkpoint: it is the more precise finding (a re-hashed chain fails
its MAC at the edited event, and its checkpoints then disagree with it too).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from wealthgate.audit import checkpoints
from wealthgate.audit.chain import Break, Event, Head, timestamp, verify_chain
from wealthgate.audit.checkpoints import Checkpoint
from wealthgate.db.sql import Sql

_HEADS = Sql("""
SELECT firm_id, chain_key, seq, head_hash FROM audit_chain_heads
WHERE (:firm_id::bigint IS NULL OR firm_id = :firm_id)
  AND (:chain_keys::bigint[] IS NULL OR chain_key = ANY(:chain_keys))
""")
_EVENTS = Sql("""
SELECT id, firm_id, chain_key, chain_seq, occurred_at, actor_key_id, actor, action, target_type, target_id,
       client_id, details, request_id, prev_hash, event_hash, hash_version, client_request_id, mac_key_id, mac
FROM audit_events
WHERE (:firm_id::bigint IS NULL OR firm_id = :firm_id)
  AND (:since::timestamptz IS NULL OR occurred_at >= :since)
  AND (:chain_keys::bigint[] IS NULL OR chain_key = ANY(:chain_keys))
ORDER BY firm_id, chain_key, chain_seq, id
""")


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    chains: int
    events: int
    first_break: Break | None
    checkpoints: int = 0
    signatures_checked: bool = False
    macs_checked: bool = False
    witnessed: int | None = None  # checkpoints held against the witness, when one was given
    newest_checkpoint_at: datetime | None = None

    def age_seconds(self, now: datetime | None = None) -> float | None:
        if self.newest_checkpoint_at is None:
            return None
        return round(((now or datetime.now(UTC)) - self.newest_checkpoint_at).total_seconds(), 3)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "chains": self.chains,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "signatures_checked": self.signatures_checked,
            "macs_checked": self.macs_checked,
            "witnessed_checkpoints": self.witnessed,
            "newest_checkpoint_at": timestamp(self.newest_checkpoint_at)
            if self.newest_checkpoint_at
            else None,
            "newest_checkpoint_age_seconds": self.age_seconds(),
            "first_break": self.first_break.as_dict() if self.first_break else None,
        }


Anchors = dict[tuple[int, int], dict[int, bytes]]


def _checkpoint_break(cp_firm: int, cp_id: int, reason: str, detail: str) -> Break:
    return Break(cp_firm, 0, None, 0, reason, detail, checkpoint_id=cp_id)


def _anchor(anchors: Anchors, firm_id: int, heads: Mapping[str, Any]) -> None:
    for chain_key, head in heads.items():
        anchors.setdefault((firm_id, int(chain_key)), {})[int(head["seq"])] = bytes.fromhex(head["hash"])


def check_checkpoints(
    found: Sequence[Checkpoint],
    public_keys: Mapping[str, Ed25519PublicKey] | None,
    witnessed: Iterable[Mapping[str, Any]] | None = None,
) -> tuple[Anchors, Break | None]:
    """Positions and hashes that trustworthy checkpoints vouch for, and the first checkpoint that fails:
    a signature that does not verify (or a key not in the keyring), a broken link to the previous checkpoint,
    a witnessed checkpoint missing from the database or different there. Without `public_keys`, signatures
    are not checked (and every stored checkpoint is taken as it is)."""
    anchors: Anchors = {}
    problem: Break | None = None
    previous: dict[int, Checkpoint] = {}
    for cp in found:
        if public_keys is not None and not cp.verifies_with(public_keys):
            why = "is not in the keyring" if cp.key_id not in public_keys else "does not verify its signature"
            problem = problem or _checkpoint_break(
                cp.firm_id,
                cp.id,
                "checkpoint mismatch",
                f"checkpoint {cp.id}: its signing key {cp.key_id} {why}",
            )
            continue
        before = previous.get(cp.firm_id)
        if cp.format >= 2 and (before.digest() if before else None) != cp.previous_digest:
            expected = f"checkpoint {before.id}" if before else "absent"
            detail = (
                f"checkpoint {cp.id} links to a previous checkpoint that is not {expected}: "
                "checkpoints were deleted or rewritten"
            )
            problem = problem or _checkpoint_break(cp.firm_id, cp.id, "checkpoint missing", detail)
        previous[cp.firm_id] = cp
        _anchor(anchors, cp.firm_id, cp.heads)
    stored = {(cp.firm_id, cp.id): cp.as_dict() for cp in found} if witnessed is not None else {}
    for doc in witnessed or ():
        firm, cp_id = int(doc["firm_id"]), int(doc["id"])
        witness_cp = from_document(doc)
        if public_keys is not None and not witness_cp.verifies_with(public_keys):
            detail = f"the witness's checkpoint {cp_id} does not verify with the keyring"
            problem = problem or _checkpoint_break(firm, cp_id, "checkpoint mismatch", detail)
            continue
        _anchor(anchors, firm, witness_cp.heads)
        in_db = stored.get((firm, cp_id))
        if in_db is None:
            detail = f"checkpoint {cp_id} is in the witness but no longer in the database: it was deleted"
            problem = problem or _checkpoint_break(firm, cp_id, "checkpoint missing", detail)
        elif in_db != witness_cp.as_dict():
            detail = f"checkpoint {cp_id} in the database differs from the witness's copy: it was rewritten"
            problem = problem or _checkpoint_break(firm, cp_id, "checkpoint mismatch", detail)
    return anchors, problem


def from_document(doc: Mapping[str, Any]) -> Checkpoint:
    """A checkpoint from its exported or witnessed JSON form (`Checkpoint.as_dict`)."""
    previous = doc.get("previous")
    return Checkpoint(
        firm_id=int(doc["firm_id"]),
        id=int(doc["id"]),
        created_at=datetime.fromisoformat(doc["created_at"]),
        heads=doc["heads"],
        signature=bytes.fromhex(doc["signature"]),
        key_id=str(doc["key_id"]),
        format=int(doc.get("format", 1)),
        previous_digest=bytes.fromhex(previous) if previous else None,
    )


async def _chains(
    conn: asyncpg.Connection, firm_id: int | None, since: datetime | None, chain_keys: list[int] | None
) -> AsyncIterator[tuple[tuple[int, int], list[Event]]]:
    current: tuple[int, int] | None = None
    batch: list[Event] = []
    binds = _EVENTS.args(firm_id=firm_id, since=since, chain_keys=chain_keys)
    async for r in conn.cursor(_EVENTS.text, *binds, prefetch=5000):
        key = (r["firm_id"], r["chain_key"])
        if key != current and current is not None:
            yield current, batch
            batch = []
        current = key
        batch.append(Event(**dict(r)))
    if current is not None:
        yield current, batch


async def verify(
    conn: asyncpg.Connection,
    *,
    firm_id: int | None = None,
    since: datetime | None = None,
    public_keys: Mapping[str, Ed25519PublicKey] | None = None,
    mac_keys: Mapping[str, bytes] | None = None,
    witnessed: Iterable[Mapping[str, Any]] | None = None,
    chain_keys: Sequence[int] | None = None,
) -> Verification:
    """Check every chain (of one firm, or all; or only `chain_keys`, an advisor's clients) against its own
    links, its MACs and the signed checkpoints, in one consistent snapshot; stops at the first break."""
    keys = list(chain_keys) if chain_keys is not None else None
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        found = await checkpoints.load(conn, firm_id)
        witness_docs = (
            None
            if witnessed is None
            else [d for d in witnessed if firm_id is None or int(d["firm_id"]) == firm_id]
        )
        anchors, bad_checkpoint = check_checkpoints(found, public_keys, witness_docs)
        newest = max((cp.created_at for cp in found), default=None)

        def result(ok: bool, chains: int, events: int, broken: Break | None) -> Verification:
            return Verification(
                ok,
                chains,
                events,
                broken,
                len(found),
                public_keys is not None,
                mac_keys is not None,
                None if witness_docs is None else len(witness_docs),
                newest,
            )

        heads = {
            (h["firm_id"], h["chain_key"]): Head(h["firm_id"], h["chain_key"], h["seq"], h["head_hash"])
            for h in await _HEADS.fetch(conn, firm_id=firm_id, chain_keys=keys)
        }
        seen: set[tuple[int, int]] = set()
        total = 0
        async for key, events in _chains(conn, firm_id, since, keys):
            seen.add(key)
            checked, broken = verify_chain(
                events, heads.get(key), partial=since is not None, anchors=anchors.get(key), mac_keys=mac_keys
            )
            total += checked
            if broken is not None:
                return result(False, len(seen), total, broken)
        if since is None:
            # chains with a head but no events left, and chains only a checkpoint still remembers
            anchored = {k for k in anchors if keys is None or k[1] in keys} - seen
            for key in sorted((heads.keys() - seen) | anchored):
                _checked, broken = verify_chain([], heads.get(key), anchors=anchors.get(key))
                if broken is not None:
                    if broken.firm_id == 0:  # no head row either: name the chain from the anchor
                        broken = Break(key[0], key[1], None, broken.chain_seq, broken.reason, broken.detail)
                    return result(False, len(seen) + 1, total, broken)
        if bad_checkpoint is not None:
            return result(False, len(heads.keys() | seen), total, bad_checkpoint)
        return result(True, len(heads.keys() | seen), total, None)
