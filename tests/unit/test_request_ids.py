"""Request ids without a database: the server's own id for every request, the caller's kept beside it, and a
tool's in-process twin request carrying the outer request's ids through a context variable (httpx's
ASGITransport runs the app in the calling task), never through a header."""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import Receive, Scope, Send

from wealthgate.api.middleware import INNER_REQUEST, RequestId, RequestIds
from wealthgate.api.tool_calls import digest, received_digest, shown
from wealthgate.audit.context import CLIENT_REQUEST_ID


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """What a route sees: the scope's ids and the audit context's client request id."""
    seen = (
        f"{scope['wealthgate.request_id']} {scope['wealthgate.client_request_id']} {CLIENT_REQUEST_ID.get()}"
    )
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": seen.encode()})


def get(headers: dict[str, str], inner: RequestIds | None = None) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=RequestId(echo))
        async with httpx.AsyncClient(transport=transport, base_url="http://wealthgate.internal") as client:
            token = INNER_REQUEST.set(inner)
            try:
                return await client.get("/", headers=headers)
            finally:
                INNER_REQUEST.reset(token)

    return asyncio.run(run())


def test_every_request_gets_the_servers_own_id_and_keeps_the_callers_beside_it() -> None:
    r = get({"X-Request-ID": "lie-123"})
    server, client, context = r.text.split()
    assert server == r.headers["x-request-id"] != "lie-123"
    assert len(server) == 24
    assert client == context == r.headers["x-client-request-id"] == "lie-123"
    again = get({"X-Request-ID": "lie-123"})
    assert again.headers["x-request-id"] != server  # the same claimed id, two requests, two ids


def test_without_a_claimed_id_there_is_no_client_request_id() -> None:
    r = get({})
    assert r.text.split()[1:] == ["None", "None"]
    assert "x-client-request-id" not in r.headers


def test_an_inner_request_carries_the_outer_ids_whatever_its_headers_say() -> None:
    """The context variable reaches the app through ASGITransport (same task), and wins over any header."""
    r = get({"X-Request-ID": "forged"}, RequestIds("outer0000000000000000000", "caller-7"))
    assert r.text.split() == ["outer0000000000000000000", "caller-7", "caller-7"]
    assert r.headers["x-request-id"] == "outer0000000000000000000"
    assert r.headers["x-client-request-id"] == "caller-7"


def test_the_audit_context_is_reset_after_the_request() -> None:
    async def run() -> str | None:
        transport = httpx.ASGITransport(app=RequestId(echo))
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
            await client.get("/", headers={"X-Request-ID": "lie-1"})
        return CLIENT_REQUEST_ID.get()

    assert asyncio.run(run()) is None


def test_refused_arguments_are_digested_as_received_even_when_they_are_not_json() -> None:
    assert received_digest({"b": 1, "a": [2]}) == digest({"a": [2], "b": 1})
    for odd in ({"client_id": 2**70}, b"hello", {1: "non-string key"}):
        assert received_digest(odd).startswith("sha256-repr:")
    assert received_digest(b"hello") != received_digest(b"hellp")


def test_a_tool_name_is_kept_short_and_storable() -> None:
    assert shown("get_risk") == "get_risk"
    assert shown("getClient Context") == "getClient Context"
    assert shown("a\x00b") == "'a\\x00b'"
    assert shown("") == "''"
    long = shown("x" * 500)
    assert long == ascii("x" * 64) + "..."
    assert "\x00" not in shown("\x00" * 100)
