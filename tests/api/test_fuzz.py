"""Arbitrary bodies and paths never produce a 500, and a refused write stores nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Keys
from tests.support import fetchval

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "client_id": json_values | st.integers(-5, 60),
        "event_type": json_values | st.sampled_from(["portfolio_recommendation", "x"]),
        "payload": json_values | st.text(alphabet=st.sampled_from("a\x00\u00e9\U0001f600"), max_size=5),
        "extra": json_values,
    },
)

FUZZ = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@FUZZ
@given(body=bodies | json_values)
def test_any_json_body_is_answered_without_a_500(api: TestClient, keys: Keys, db_url: str, body: Any) -> None:
    before = fetchval(db_url, "SELECT count(*) FROM audit_events")
    r = api.post(
        "/audit/recommendation",
        content=json.dumps(body),
        headers={**Keys.auth(keys.agent), "content-type": "application/json"},
    )
    assert r.status_code < 500, r.text
    after = fetchval(db_url, "SELECT count(*) FROM audit_events")
    if r.status_code == 200:
        assert after == before + 1
    else:
        assert r.headers["content-type"] == "application/problem+json"
        assert after == before


@FUZZ
@given(raw=st.binary(max_size=200))
def test_any_bytes_are_answered_without_a_500(api: TestClient, keys: Keys, raw: bytes) -> None:
    r = api.post(
        "/audit/recommendation",
        content=raw,
        headers={**Keys.auth(keys.agent), "content-type": "application/json"},
    )
    assert r.status_code < 500, r.text


@FUZZ
@given(
    segment=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s and "?" not in s and "#" not in s),
    query=st.dictionaries(st.sampled_from(["limit", "cursor", "x"]), st.text(max_size=30), max_size=3),
)
def test_any_path_or_query_is_answered_without_a_500(
    api: TestClient, keys: Keys, segment: str, query: dict[str, str]
) -> None:
    assert (
        api.get(f"/clients/{quote(segment, safe='')}/context", headers=Keys.auth(keys.reader)).status_code
        < 500
    )
    assert api.get("/clients", params=query, headers=Keys.auth(keys.reader)).status_code < 500
