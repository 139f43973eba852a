"""The rendered-context cache's own rules: served only under the exact stamp, one entry per key, bounded LRU,
and off at 0 entries."""

from __future__ import annotations

from datetime import date

from wealthgate.clients.context_cache import ContextKey, RenderedContexts, Stamp

DAY = date(2026, 12, 3)
KEY = ContextKey(1, 10, False)


def stamp(version: int = 1, models: int | None = 2, shared: int = 3, today: date = DAY) -> Stamp:
    return Stamp(version, models, shared, today)


def test_a_document_is_served_only_under_the_stamp_it_was_rendered_at() -> None:
    cache = RenderedContexts(8)
    cache.put(KEY, stamp(), b"one")
    assert cache.get(KEY, stamp()) == b"one"
    for other in (stamp(version=9), stamp(models=None), stamp(shared=9), stamp(today=date(2026, 12, 4))):
        assert cache.get(KEY, other) is None
    assert cache.get(ContextKey(1, 10, True), stamp()) is None  # the summary is another document
    assert cache.get(ContextKey(2, 10, False), stamp()) is None  # another firm's client of the same id
    assert (cache.hits, cache.misses) == (1, 6)


def test_a_newer_rendering_replaces_the_older() -> None:
    cache = RenderedContexts(8)
    cache.put(KEY, stamp(1), b"old")
    cache.put(KEY, stamp(2), b"new")
    assert len(cache) == 1
    assert cache.get(KEY, stamp(1)) is None
    assert cache.get(KEY, stamp(2)) == b"new"


def test_the_least_recently_used_goes_first() -> None:
    cache = RenderedContexts(2)
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
    cache = RenderedContexts(0)
    assert not cache.enabled
    cache.put(KEY, stamp(), b"x")
    assert len(cache) == 0
    assert cache.get(KEY, stamp()) is None


def test_a_stamp_without_a_version_or_shared_epoch_vouches_for_nothing() -> None:
    row = {"version": 1, "models": None, "shared": 3, "today": DAY}
    assert Stamp.read(row) == Stamp(1, None, 3, DAY)
    assert Stamp.read({**row, "version": None}) is None
    assert Stamp.read({**row, "shared": None}) is None
