"""Hash chains, property-tested: an untouched chain verifies; any one tampering is caught and named."""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wealthgate.audit import chain, keyring
from wealthgate.audit.chain import Event, Head, verify_chain
from wealthgate.errors import Conflict

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def build(n: int, payloads: list[str] | None = None) -> tuple[list[Event], Head]:
    events: list[Event] = []
    prev = chain.GENESIS
    for i in range(1, n + 1):
        details = {"payload": (payloads or [])[i - 1] if payloads else f"note {i}", "n": i}
        body = {
            "id": 100 + i,
            "firm_id": 1,
            "chain_key": 7,
            "chain_seq": i,
            "occurred_at": T0 + timedelta(seconds=i),
            "actor_key_id": 3,
            "actor": {"type": "api_key", "key_id": 3},
            "action": "agent.note",
            "target_type": "client",
            "target_id": "7",
            "client_id": 7,
            "details": details,
            "request_id": f"r{i}",
        }
        digest = chain.digest(chain.content(**body, prev_hash=prev))  # type: ignore[arg-type]
        events.append(Event(**body, prev_hash=prev, event_hash=digest))  # type: ignore[arg-type]
        prev = digest
    return events, Head(1, 7, n, prev if n else None)


@given(st.lists(st.text(max_size=20).filter(lambda s: "\x00" not in s), min_size=0, max_size=12))
def test_an_untouched_chain_verifies(payloads: list[str]) -> None:
    events, head = build(len(payloads), payloads)
    assert verify_chain(events, head) == (len(events), None)


@given(st.integers(3, 12), st.data())
def test_an_edit_anywhere_is_named(n: int, data: st.DataObject) -> None:
    events, head = build(n)
    k = data.draw(st.integers(0, n - 1))
    events[k] = replace(events[k], details={**events[k].details, "payload": "changed"})
    _, broken = verify_chain(events, head)
    assert broken is not None
    assert (broken.reason, broken.event_id) == ("edited", events[k].id)


@given(st.integers(3, 12), st.data())
def test_a_deletion_anywhere_is_named(n: int, data: st.DataObject) -> None:
    events, head = build(n)
    k = data.draw(st.integers(0, n - 1))
    gone = events.pop(k)
    _, broken = verify_chain(events, head)
    assert broken is not None
    assert broken.reason == "missing"
    if k < n - 1:
        assert broken.event_id == events[k].id  # the event right after the gap
    else:
        assert broken.event_id is None  # the tail: the head still records it
        assert broken.chain_seq == gone.chain_seq


def test_a_swap_is_reordered() -> None:
    events, head = build(6)
    a, b = events[2], events[3]
    events[2], events[3] = replace(b, chain_seq=3), replace(a, chain_seq=4)
    _, broken = verify_chain(events, head)
    assert broken is not None
    assert (broken.reason, broken.event_id) == ("reordered", b.id)


def test_a_forged_event_is_inserted() -> None:
    events, head = build(5)
    forged = replace(
        events[2], id=999, details={"payload": "forged"}, prev_hash=bytes(32), event_hash=bytes(32)
    )
    _, broken = verify_chain([*events[:3], forged, *events[3:]], head)
    assert broken is not None
    assert (broken.reason, broken.event_id) == ("inserted", 999)


def test_an_appended_event_not_in_the_head_is_inserted() -> None:
    _, head = build(5)
    extra, _ = build(6)
    _, broken = verify_chain(extra, head)
    assert broken is not None
    assert broken.reason == "inserted"


def test_a_partial_window_starts_on_trust() -> None:
    events, head = build(8)
    assert verify_chain(events[3:], head, partial=True) == (5, None)
    assert verify_chain(events[3:], head)[1] is not None


@pytest.mark.parametrize("bad", [1.5, {"x": 0.1}, [float("nan")], {1: "int key"}, "nul\x00", object()])
def test_only_hashable_documents_are_accepted(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        chain.check_hashable({"v": bad})


SECRET = bytes(range(32))
KEYS = {"mac-test": SECRET}


def authenticated(events: list[Event]) -> list[Event]:
    """Events MACed as the application does: HMAC-SHA256 (computed here with the standard library directly,
    not with the application's helper) over a domain tag and the event hash."""
    return [
        replace(
            e,
            mac_key_id="mac-test",
            mac=hmac.new(SECRET, b"wealthgate audit event\x00" + e.event_hash, "sha256").digest(),
        )
        for e in events
    ]


def test_an_authenticated_chain_verifies_and_the_application_macs_agree() -> None:
    events, head = build(5)
    macked = authenticated(events)
    assert verify_chain(macked, head, mac_keys=KEYS) == (5, None)
    assert keyring.mac(SECRET, events[0].event_hash) == macked[0].mac


@given(st.integers(3, 12), st.data())
def test_a_made_up_mac_anywhere_is_forged(n: int, data: st.DataObject) -> None:
    events, head = build(n)
    macked = authenticated(events)
    k = data.draw(st.integers(0, n - 1))
    macked[k] = replace(macked[k], mac=bytes(32))
    _, broken = verify_chain(macked, head, mac_keys=KEYS)
    assert broken is not None
    assert (broken.reason, broken.event_id) == ("forged", macked[k].id)


def test_an_unknown_mac_key_is_forged() -> None:
    events, head = build(3)
    macked = [replace(e, mac_key_id="mac-other") for e in authenticated(events)]
    _, broken = verify_chain(macked, head, mac_keys=KEYS)
    assert broken is not None
    assert broken.reason == "forged"
    assert "not in the keyring" in broken.detail


def test_events_without_a_mac_pass_only_as_vouched_pre_mac_history() -> None:
    events, head = build(4)
    legacy = [replace(e, hash_version=1) for e in events]
    legacy = rechain(legacy)
    head = Head(1, 7, 4, legacy[-1].event_hash)
    vouched = {4: legacy[-1].event_hash}
    assert verify_chain(legacy, head, mac_keys=KEYS, anchors=vouched) == (4, None)
    _, unvouched = verify_chain(legacy, head, mac_keys=KEYS, anchors={2: legacy[1].event_hash})
    assert unvouched is not None
    assert (unvouched.reason, unvouched.chain_seq) == ("forged", 3)
    current_format = verify_chain(
        events, Head(1, 7, 4, events[-1].event_hash), mac_keys=KEYS, anchors={4: events[-1].event_hash}
    )
    assert current_format[1] is not None
    assert (current_format[1].reason, current_format[1].chain_seq) == ("forged", 1)
    mixed = rechain(authenticated(legacy[:2]) + legacy[2:])
    _, after = verify_chain(
        mixed, Head(1, 7, 4, mixed[-1].event_hash), mac_keys=KEYS, anchors={4: mixed[-1].event_hash}
    )
    assert after is not None
    assert (after.reason, after.chain_seq) == ("forged", 3)


def rechain(events: list[Event]) -> list[Event]:
    """Recompute links and hashes (keeping each event's format and MAC fields), as the writer would have."""
    prev = chain.GENESIS
    out = []
    for original in events:
        linked = replace(original, prev_hash=prev)
        e = replace(linked, event_hash=linked.recomputed_hash())
        if e.mac is not None:
            e = replace(
                e, mac=hmac.new(SECRET, b"wealthgate audit event\x00" + e.event_hash, "sha256").digest()
            )
        out.append(e)
        prev = e.event_hash
    return out


def test_a_keyring_round_trips_and_a_rotation_keeps_only_public_halves(tmp_path: Path) -> None:
    ring = keyring.generate()
    path = tmp_path / "ring.json"
    keyring.save(ring, path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = keyring.parse(path.read_bytes(), "test")
    assert again.signer.id == ring.signer.id
    assert again.mac_secrets() == ring.mac_secrets()
    rotated = ring.rotated()
    assert rotated.signer.id != ring.signer.id
    assert set(rotated.public_keys()) == {ring.signer.id, rotated.signer.id}
    old = next(k for k in rotated.signing if k.id == ring.signer.id)
    assert old.private_key is None
    assert old.retired_at is not None
    assert set(rotated.mac_secrets()) == {ring.mac_key.id, rotated.mac_key.id}
    with pytest.raises(Conflict):
        keyring.save(rotated, path)


def test_a_keyring_whose_ids_do_not_match_its_keys_is_refused() -> None:
    doc = keyring.generate().document()
    doc["signing"][0]["id"] = "0" * 32
    with pytest.raises(keyring.KeyringMissing, match="fingerprint"):
        keyring.parse(orjson.dumps(doc), "test")
