"""Hash chains, property-tested: an untouched chain verifies; any one tampering is caught and named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wealthgate.audit import chain
from wealthgate.audit.chain import Event, Head, verify_chain

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
