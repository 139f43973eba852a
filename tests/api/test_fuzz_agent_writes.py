"""Arbitrary bodies to the agent write paths (suitability check, recommendation, tool calls): never a 500;
a refused request stores nothing (no check, no recommendation, no audit event of its own)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Keys
from tests.support import fetchval

scalars = (
    st.none() | st.booleans() | st.integers(-3, 10**20) | st.floats(allow_nan=False) | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
trade = st.fixed_dictionaries(
    {},
    optional={
        "side": st.sampled_from(["buy", "sell", "hold"]) | json_values,
        "symbol": st.sampled_from(["AAPL", "WGAGG", "NOPE", "", "a\x00"]) | json_values,
        "quantity": st.sampled_from(["1", "0", "-1", "1e3", "0.123456789", "NaN"]) | json_values,
        "amount": st.sampled_from(["100", "0.001", "Infinity"]) | json_values,
        "extra": json_values,
    },
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "client_id": st.sampled_from([1, 2, 40, 0, -1, 2**63]) | json_values,
        "trades": st.lists(trade, max_size=3) | json_values,
        "rationale": st.text(max_size=5) | json_values,
        "agent": st.fixed_dictionaries({}, optional={"name": st.text(max_size=5), "model": json_values})
        | json_values,
    },
)
FUZZ = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
COUNT = (
    "SELECT (SELECT count(*) FROM recommendations) + (SELECT count(*) FROM suitability_checks)"
    " + (SELECT count(*) FROM audit_events WHERE action <> 'client.read' AND action <> 'tool.called')"
)


def _post(api: TestClient, key: str, path: str, body: Any, idem: str) -> Any:
    return api.post(
        path,
        content=json.dumps(body),
        headers={**Keys.auth(key), "content-type": "application/json", "Idempotency-Key": idem},
    )


@FUZZ
@given(body=bodies | json_values, target=st.sampled_from(["rec", "check", "tool"]), n=st.integers(0, 10**9))
def test_agent_writes_never_500_and_refusals_store_nothing(
    api: TestClient, keys: Keys, db_url: str, body: Any, target: str, n: int
) -> None:
    before = fetchval(db_url, COUNT)
    if target == "rec":
        r = _post(api, keys.agent, "/recommendations", body, f"fuzz-{n}")
    elif target == "check":
        r = _post(api, keys.agent, "/clients/1/suitability-check", body, f"fuzz-{n}")
    else:
        r = _post(api, keys.agent, "/tools/check_suitability", body, f"fuzz-{n}")
    assert r.status_code < 500, r.text
    after = fetchval(db_url, COUNT)
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json"
        assert after == before
    else:
        assert after > before
