"""API key format: parse(format(...)) round-trips; anything else is refused without raising."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wealthgate.auth import keys


@given(st.integers(1, 2**63 - 1), st.integers(1, 2**63 - 1))
def test_format_then_parse_round_trips(firm: int, key_id: int) -> None:
    key = keys.format_key(firm, key_id, keys.new_secret())
    parsed = keys.parse(key)
    assert parsed is not None
    assert (parsed.firm_id, parsed.key_id, parsed.digest) == (firm, key_id, keys.digest(key))


@given(st.text(max_size=300))
def test_parse_never_raises(text: str) -> None:
    parsed = keys.parse(text)
    if parsed is not None:
        assert text.startswith("wg_")


def test_secrets_differ_and_are_long() -> None:
    secrets = {keys.new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(len(s) >= 43 for s in secrets)


def test_digest_comparison() -> None:
    d = keys.digest("wg_1_1_" + "a" * 43)
    assert keys.matches(d, d)
    assert not keys.matches(d, keys.digest("wg_1_1_" + "b" * 43))
