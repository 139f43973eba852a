"""The context read's two ways (routes/clients.py `ContextRoute`): requests whose parameters are plain are
served without FastAPI's dependency solving, everything else by FastAPI. The reference for the direct way is
FastAPI's own: the same request, sent with the direct way turned off, must get the same answer (status,
body, and every header but the request's id and the rate limit's running count)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.requests import Request

from tests.conftest import Keys
from wealthgate.api.app import create_app
from wealthgate.api.deps import read_clients
from wealthgate.api.routes.clients import ContextRoute, plain_context_arguments
from wealthgate.audit.schemas import MAX_ID
from wealthgate.auth import keys as key_format
from wealthgate.settings import Settings

ADVISOR1_CLIENT, ADVISOR2_CLIENT, FIRM2_CLIENT = 1, 21, 37  # the demo book's
UNCOMPARED = {"x-request-id", "ratelimit", "ratelimit-remaining", "ratelimit-reset", "date"}


def _request(path_id: str, query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/clients/{path_id}/context",
        "query_string": query,
        "headers": headers or [],
        "path_params": {"client_id": path_id},
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("path_id", "query", "headers", "expected"),
    [
        ("7", b"", [], (7, False, None)),
        ("7", b"summary=true", [], (7, True, None)),
        ("7", b"summary=false&other=1", [(b"if-none-match", b'"ab"')], (7, False, '"ab"')),
        (str(MAX_ID), b"", [], (MAX_ID, False, None)),
        ("007", b"", [], (7, False, None)),  # FastAPI reads it as 7 too
        ("0", b"", [], None),  # out of range: FastAPI's 422
        (str(MAX_ID + 1), b"", [], None),
        ("-1", b"", [], None),
        ("1e3", b"", [], None),
        ("\u0661", b"", [], None),  # an Arabic-Indic one: a digit, but not ASCII
        ("7", b"summary=yes", [], None),  # FastAPI's bool coercion decides
        ("7", b"summary=True", [], None),
        ("7", b"summary=", [], None),
        ("7", b"summary=true&summary=false", [], None),
        ("7", b"", [(b"if-none-match", b"")], None),
        ("7", b"", [(b"if-none-match", b"x" * 2001)], None),
        ("7", b"", [(b"if-none-match", b'"a"'), (b"if-none-match", b'"b"')], None),
    ],
)
def test_only_plain_arguments_take_the_direct_way(
    path_id: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    expected: tuple[int, bool, str | None] | None,
) -> None:
    assert plain_context_arguments(_request(path_id, query, headers)) == expected


@pytest.fixture
def unlimited(settings: Settings) -> Iterator[TestClient]:
    """The API with read limits no example reaches (one key sends hundreds of requests)."""
    faster = settings.model_copy(update={"rate_limit_read": "100000/second"})
    with TestClient(create_app(faster), raise_server_exceptions=False) as client:
        yield client


def _route(api: TestClient) -> ContextRoute:
    from fastapi.routing import iter_route_contexts

    found = [c.original_route for c in iter_route_contexts(api.app.routes)]  # type: ignore[attr-defined]
    (route,) = [r for r in found if isinstance(r, ContextRoute)]
    return route


def _answer(api: TestClient, route: ContextRoute, *, direct: bool, url: str, headers: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    route.direct = direct
    try:
        got = api.get(url, headers=headers)
    finally:
        route.direct = True
    kept = sorted((k, v) for k, v in got.headers.multi_items() if k not in UNCOMPARED)
    body: object = got.content
    if got.headers.get("content-type") == "application/problem+json":
        body = {k: v for k, v in got.json().items() if k != "request_id"}  # the request's own id
        kept = [(k, v) for k, v in kept if k != "content-length"]
    return got.status_code, body, kept, sorted(k for k in got.headers if k.startswith("ratelimit"))


IDS = st.one_of(
    st.sampled_from([str(ADVISOR1_CLIENT), str(ADVISOR2_CLIENT), str(FIRM2_CLIENT), "999999", "0", "-3"]),
    st.sampled_from(["01", "0021", str(MAX_ID), str(MAX_ID + 1), "1.0", "1e1", " 1", "\u0661", "x"]),
    st.integers(min_value=1, max_value=60).map(str),
)
SUMMARIES = st.one_of(
    st.sampled_from([[], ["true"], ["false"]]),  # the plain forms, often
    st.lists(st.sampled_from(["true", "false", "True", "1", "0", "yes", "off", "", "maybe"]), max_size=2),
)
HELD = st.sampled_from(["none", "current", "current-weak", "star", "other", "empty", "long", "twice"])
CALLERS = st.sampled_from(["agent", "reader", "compliance", "advisor2", "other_firm", "none"])


@hypothesis_settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path_id=IDS, summaries=SUMMARIES, held=HELD, caller=CALLERS, noise=st.booleans())
# each plain case, whatever the draw: every scope and visibility answer, both summaries, 304 and 200
@example(path_id="1", summaries=["false"], held="none", caller="agent", noise=False)
@example(path_id="1", summaries=["true"], held="current", caller="reader", noise=True)
@example(path_id="1", summaries=[], held="other", caller="compliance", noise=False)
@example(path_id="21", summaries=[], held="current-weak", caller="advisor2", noise=False)
@example(path_id="1", summaries=["true"], held="star", caller="advisor2", noise=False)
@example(path_id="37", summaries=[], held="none", caller="agent", noise=False)
@example(path_id="37", summaries=["false"], held="none", caller="other_firm", noise=False)
@example(path_id="999999", summaries=[], held="none", caller="agent", noise=False)
@example(path_id="1", summaries=[], held="none", caller="none", noise=False)
def test_the_direct_way_answers_as_fastapi_does(
    unlimited: TestClient,
    keys: Keys,
    path_id: str,
    summaries: list[str],
    held: str,
    caller: str,
    noise: bool,
) -> None:
    route = _route(unlimited)
    headers: list[tuple[str, str]] = []
    if caller != "none":
        headers.append(("Authorization", f"Bearer {getattr(keys, caller)}"))
    query = "&".join(f"summary={quote(s)}" for s in summaries) + ("&page=2" if noise else "")
    url = f"/clients/{quote(path_id)}/context" + (f"?{query}" if query else "")
    if held.startswith("current"):
        etag = unlimited.get(url, headers=headers).headers.get("etag", '"none"')
        headers.append(("If-None-Match", f"W/{etag}" if held == "current-weak" else f'"x", {etag}'))
    else:
        values = {
            "star": ["*"],
            "other": ['"0123"'],
            "empty": [""],
            "long": ["x" * 2001],
            "twice": ["*", "*"],
        }
        headers += [("If-None-Match", v) for v in values.get(held, [])]

    assert _answer(unlimited, route, direct=True, url=url, headers=headers) == _answer(
        unlimited, route, direct=False, url=url, headers=headers
    )


def test_plain_requests_are_not_solved_by_fastapi(api: TestClient, keys: Keys) -> None:
    """The comparison above could pass with the direct way never taken. FastAPI's dependency overrides act
    only on its own way, so an override that refuses shows which way served a request."""

    async def refuse() -> None:
        raise RuntimeError("solved by FastAPI")

    api.app.dependency_overrides[read_clients] = refuse  # type: ignore[attr-defined]
    try:
        plain = api.get(f"/clients/{ADVISOR1_CLIENT}/context?summary=true", headers=Keys.auth(keys.agent))
        assert plain.status_code == 200, plain.text  # the direct way: the override never ran
        coerced = api.get(f"/clients/{ADVISOR1_CLIENT}/context?summary=yes", headers=Keys.auth(keys.agent))
        assert coerced.status_code == 500  # FastAPI's way ran the refusing override
    finally:
        api.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_a_wrong_key_is_counted_and_backed_off_on_the_direct_way(settings: Settings, keys: Keys) -> None:
    """The back-off counts a wrong key the same whichever way serves it (the comparison above sends none):
    plain requests with a wrong secret of a real key id are refused, counted, then backed off."""
    parsed = key_format.parse(keys.agent)
    assert parsed is not None
    wrong = Keys.auth(key_format.format_key(parsed.firm_id, parsed.key_id, key_format.new_secret()))
    with TestClient(
        create_app(settings.model_copy(update={"auth_max_failures": 3})), raise_server_exceptions=False
    ) as api:
        answers = [
            api.get(f"/clients/{ADVISOR1_CLIENT}/context", headers=wrong).status_code for _ in range(4)
        ]
    assert answers == [401, 401, 401, 429]


@pytest.mark.parametrize("replicas", [[], ["postgresql://replica.invalid/wealthgate"]])
def test_the_direct_way_skips_no_dependency_it_does_not_know(tmp_path: Path, replicas: list[str]) -> None:
    """The direct way calls the principal's dependency and the agent connection itself, and runs none of the
    application's: a dependency added to the route or the application later must be added to it too (or the
    direct way dropped), not silently skipped. `MarksWrites` acts only after a write."""
    from fastapi.routing import iter_route_contexts

    from wealthgate.api.deps import _agent_statement_conn, _marks_writes

    app = create_app(Settings(home=tmp_path, read_replica_urls=replicas))
    (context,) = [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, ContextRoute)]
    solved = {d.call for d in context.dependant.dependencies}
    assert solved <= {read_clients, _agent_statement_conn, _marks_writes}
    assert {read_clients, _agent_statement_conn} <= solved
