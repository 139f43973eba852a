"""The rendered-context cache's own rules: served only under the exact stamp, one entry per key, an LRU
bounded by count and by bytes (checked against a plain list model), and off at 0 entries or 0 bytes."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from wealthgate.clients.context_cache import ContextKey, RenderedContexts, Stamp

DAY = date(2026, 12, 3)
MIB = 2**20
KEY = ContextKey(1, 10, False)


def stamp(version: int = 1, models: int | None = 2, shared: int = 3, today: date = DAY) -> Stamp:
    return Stamp(version, models, shared, today)


def test_a_document_is_served_only_under_the_stamp_it_was_rendered_at() -> None:
    cache = RenderedContexts(8, MIB)
    cache.put(KEY, stamp(), b"one")
    assert cache.get(KEY, stamp()) == b"one"
    for other in (stamp(version=9), stamp(models=None), stamp(shared=9), stamp(today=date(2026, 12, 4))):
        assert cache.get(KEY, other) is None
    assert cache.get(ContextKey(1, 10, True), stamp()) is None  # the summary is another document
    assert cache.get(ContextKey(2, 10, False), stamp()) is None  # another firm's client of the same id
    assert (cache.hits, cache.misses) == (1, 6)


def test_a_newer_rendering_replaces_the_older() -> None:
    cache = RenderedContexts(8, MIB)
    cache.put(KEY, stamp(1), b"old")
    cache.put(KEY, stamp(2), b"new")
    assert len(cache) == 1
    assert cache.get(KEY, stamp(1)) is None
    assert cache.get(KEY, stamp(2)) == b"new"


def test_the_least_recently_used_goes_first() -> None:
    cache = RenderedContexts(2, MIB)
    a, b, c = (ContextKey(1, n, False) for n in (1, 2, 3))
    cache.put(a, stamp(), b"a")
    cache.put(b, stamp(), b"b")
    assert cache.get(a, stamp()) == b"a"  # a is now the most recent
    cache.put(c, stamp(), b"c")
    assert len(cache) == 2
    assert cache.get(b, stamp()) is None
    assert cache.get(a, stamp()) == b"a"
    assert cache.get(c, stamp()) == b"c"


def test_zero_entries_is_off() -> None:
    cache = RenderedContexts(0, MIB)
    assert not cache.enabled
    cache.put(KEY, stamp(), b"x")
    assert len(cache) == 0
    assert cache.get(KEY, stamp()) is None


def test_zero_bytes_is_off() -> None:
    cache = RenderedContexts(8, 0)
    assert not cache.enabled
    cache.put(KEY, stamp(), b"x")
    assert len(cache) == 0


def test_the_bytes_bound_evicts_and_a_document_over_it_is_not_kept() -> None:
    cache = RenderedContexts(100, 10)
    a, b, c = (ContextKey(1, n, False) for n in (1, 2, 3))
    cache.put(a, stamp(), b"aaaa")
    cache.put(b, stamp(), b"bbbb")
    cache.put(c, stamp(), b"cccc")  # 12 bytes: a goes
    assert (len(cache), cache.bytes) == (2, 8)
    assert cache.get(a, stamp()) is None
    cache.put(b, stamp(2), b"x" * 11)  # larger than the whole bound: not kept, and b's older one is gone too
    assert (len(cache), cache.bytes) == (1, 4)
    assert cache.get(b, stamp()) is None
    assert cache.get(c, stamp()) == b"cccc"


OPERATIONS = st.lists(
    st.tuples(st.booleans(), st.integers(1, 6), st.integers(1, 3), st.integers(0, 40)), max_size=80
)


@given(entries=st.integers(1, 5), max_bytes=st.integers(1, 100), operations=OPERATIONS)
def test_the_cache_keeps_what_a_plain_lru_list_keeps(
    entries: int, max_bytes: int, operations: list[tuple[bool, int, int, int]]
) -> None:
    """The reference: a list of (key, stamp, document), most recent last; a put removes the key's entry,
    appends, then drops from the front while over either bound; a hit moves its entry to the end."""
    cache = RenderedContexts(entries, max_bytes)
    model: list[tuple[ContextKey, Stamp, bytes]] = []
    for is_put, client, version, size in operations:
        key, at = ContextKey(1, client, False), stamp(version)
        if is_put:
            document = bytes([client]) * size
            cache.put(key, at, document)
            model = [m for m in model if m[0] != key]
            if size <= max_bytes:
                model.append((key, at, document))
            while len(model) > entries or sum(len(m[2]) for m in model) > max_bytes:
                model.pop(0)
        else:
            found = next((m for m in model if m[0] == key and m[1] == at), None)
            assert cache.get(key, at) == (found[2] if found else None)
            if found:
                model.remove(found)
                model.append(found)
        assert len(cache) == len(model)
        assert cache.bytes == sum(len(m[2]) for m in model) <= max_bytes
    for key, at, document in model:
        assert cache.get(key, at) == document


def test_a_stamp_without_a_version_or_shared_epoch_vouches_for_nothing() -> None:
    row = {"version": 1, "models": None, "shared": 3, "today": DAY}
    assert Stamp.read(row) == Stamp(1, None, 3, DAY)
    assert Stamp.read({**row, "version": None}) is None
    assert Stamp.read({**row, "shared": None}) is None
