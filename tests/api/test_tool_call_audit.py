"""Every agent tool call leaves a `tool.called` event, refused ones too (invalid arguments, an unknown tool, a
tool outside the key's scopes), on each face: REST `/tools/{name}`, MCP over HTTP and MCP on stdio (in
process). The face and the request id recorded are the server's own; what a caller claims is kept beside them
(`client_face`, `client_request_id`), never instead of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mcp import Client

from tests.conftest import Keys
from tests.support import fetch, mcp_tool_call
from wealthgate.api.tool_calls import digest
from wealthgate.mcp.stdio import tools_server

NOTE = {"client_id": 1, "event_type": "tool-audit", "payload": "seen"}


@dataclass(frozen=True)
class Answer:
    """A tool call's answer, whatever the face: the status it maps to, and the HTTP request id (if any)."""

    is_error: bool
    text: str
    request_id: str | None


def over_rest(api: TestClient, key: str, name: str, arguments: Any, **headers: str) -> Answer:
    r = api.post(f"/tools/{name}", json=arguments, headers={**Keys.auth(key), **headers})
    return Answer(r.status_code >= 400, r.text, r.headers["x-request-id"])


def over_mcp_http(api: TestClient, key: str, name: str, arguments: Any, **headers: str) -> Answer:
    r = mcp_tool_call(api, key, name, arguments, **headers)
    result = r.json()["result"]
    return Answer(bool(result.get("isError")), result["content"][0]["text"], r.headers["x-request-id"])


def over_mcp_stdio(api: TestClient, key: str, name: str, arguments: Any, **headers: str) -> Answer:
    """The stdio server's tools, in this process on the app's running lifespan (`wealthgate mcp` without a
    URL), through the official client."""
    assert not headers  # stdio has no headers

    async def call() -> Answer:
        # TestClient types its app as any ASGI app; it is the FastAPI app
        async with Client(tools_server(api.app, key)) as client:  # type: ignore[arg-type]
            result = await client.call_tool(name, arguments)
        block = result.content[0]
        assert block.type == "text"
        return Answer(bool(result.is_error), block.text, None)

    answer: Answer = api.portal.call(call)  # type: ignore[union-attr]  # the portal runs while the app does
    return answer


FACES: dict[str, Callable[..., Answer]] = {
    "rest": over_rest,
    "mcp-http": over_mcp_http,
    "mcp-stdio": over_mcp_stdio,
}


def events(api: TestClient, db_url: str, where: str, *args: Any) -> list[dict[str, Any]]:
    """Audit events matching `where`, once the app's batched reads and tool calls are flushed (explicitly:
    the flush waits for one under way, so everything noted before it is written)."""
    api.portal.call(api.app.state.reads.flush)  # type: ignore[union-attr,attr-defined]
    statement = f"SELECT * FROM audit_events WHERE {where} ORDER BY id"  # noqa: S608  (the tests' own filters)
    return [dict(r) for r in fetch(db_url, statement, *args)]


REFUSALS = {
    # name: (key, tool, arguments, status, problem)
    "invalid arguments": (
        "agent",
        "get_risk",
        {"client_id": 1, "window": 5},
        422,
        "urn:wealthgate:problem:request-validation-failed",
    ),
    "unknown tool": ("agent", "no_such_tool", {"client_id": 1}, 404, "urn:wealthgate:problem:not-found"),
    "outside the key's scopes": ("reader", "record_note", NOTE, 404, "urn:wealthgate:problem:not-found"),
}


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_tool_call_is_recorded_on_every_face(
    api: TestClient, keys: Keys, db_url: str, face: str, case: str
) -> None:
    key, tool, arguments, status, problem = REFUSALS[case]
    answer = FACES[face](api, getattr(keys, key), tool, arguments)
    assert answer.is_error, answer.text
    found = events(api, db_url, "action = 'tool.called' AND details->>'tool' = $1", tool)
    assert len(found) == 1, found
    event = found[0]
    assert event["details"] == {
        "tool": tool,
        "client_id": 1,  # the client the arguments name, kept in the details ...
        "face": face,  # ... under the face the server saw the call arrive on
        "arguments_digest": digest(arguments),  # the arguments as received
        "outcome": "refused",
        "status": status,
        "problem": problem,
    }
    assert event["client_id"] is None  # ... but a refused call joins no client's chain
    assert event["actor"]["key_name"] == key
    assert event["target_type"] == "tool"
    assert event["request_id"] == (answer.request_id or event["request_id"])  # stdio: an id of its own
    assert event["request_id"]
    assert not fetch(db_url, "SELECT 1 FROM audit_events WHERE details->>'event_type' = 'tool-audit'")


def test_arguments_and_names_a_narrower_route_would_turn_away_are_refused_and_recorded(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    """A made-up camelCase name and a body that is no object reach the tool face, which refuses and records
    them (a path pattern and an object body type used to answer 422 before anything was recorded)."""
    made_up = api.post("/tools/getClientContext", json={"client_id": 1}, headers=Keys.auth(keys.agent))
    assert made_up.status_code == 404
    no_object = api.post("/tools/get_portfolio", json=[1, 2], headers=Keys.auth(keys.agent))
    assert no_object.status_code == 422
    assert no_object.json()["errors"][0]["field"] == "arguments"
    odd = "get\x00client\u202e" + "x" * 100  # over MCP a name may be any string
    assert over_mcp_http(api, keys.agent, odd, {}).is_error
    found = {
        e["details"]["tool"]: e["details"]
        for e in events(api, db_url, "action = 'tool.called' AND details->>'outcome' = 'refused'")
    }
    assert found["getClientContext"]["status"] == 404
    assert found["getClientContext"]["arguments_digest"] == digest({"client_id": 1})
    assert found["get_portfolio"]["status"] == 422
    assert found["get_portfolio"]["arguments_digest"] == digest([1, 2])
    assert found["get_portfolio"]["client_id"] is None
    escaped = ascii(odd[:64]) + "..."  # kept short and storable: no NUL, no control character
    assert found[escaped]["face"] == "mcp-http"


def test_a_face_the_caller_claims_is_kept_beside_the_servers_own(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    """`X-Wealthgate-Face` is the caller's word: the face recorded for `/tools/{name}` is `rest`; a known
    claim (the stdio proxy's `mcp-stdio`) is kept as `client_face`, an unknown one (`mcp-http`) is dropped."""
    for claim, tool in (("mcp-http", "get_risk"), ("mcp-stdio", "get_allocation"), ("x" * 500, "get_drift")):
        r = api.post(
            f"/tools/{tool}",
            json={"client_id": 1},
            headers={**Keys.auth(keys.agent), "X-Wealthgate-Face": claim},
        )
        assert r.status_code == 200, r.text
    found = {
        e["details"]["tool"]: e["details"]
        for e in events(api, db_url, "action = 'tool.called' AND details->>'outcome' = 'ok'")
    }
    assert {tool: details["face"] for tool, details in found.items()} == {
        "get_risk": "rest",
        "get_allocation": "rest",
        "get_drift": "rest",
    }
    assert "client_face" not in found["get_risk"]
    assert found["get_allocation"]["client_face"] == "mcp-stdio"
    assert "client_face" not in found["get_drift"]


def test_a_callers_request_id_is_kept_beside_the_servers_own(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    read = api.get("/clients/1/context", headers={**Keys.auth(keys.agent), "X-Request-ID": "lie-123"})
    assert read.status_code == 200
    assert read.headers["x-request-id"] != "lie-123"
    assert read.headers["x-client-request-id"] == "lie-123"
    write = api.post(
        "/audit/recommendation", json=NOTE, headers={**Keys.auth(keys.agent), "X-Request-ID": "lie-123"}
    )
    assert write.status_code == 200, write.text
    assert write.headers["x-request-id"] not in ("lie-123", read.headers["x-request-id"])
    refused = api.get("/clients/40/context", headers={**Keys.auth(keys.agent), "X-Request-ID": "lie-123"})
    assert refused.json()["request_id"] == refused.headers["x-request-id"] != "lie-123"

    (note,) = events(api, db_url, "action = 'agent.note'")
    assert (note["request_id"], note["client_request_id"]) == (write.headers["x-request-id"], "lie-123")
    (seen,) = events(api, db_url, "action = 'client.read'")
    assert (seen["request_id"], seen["client_request_id"]) == (read.headers["x-request-id"], "lie-123")


@pytest.mark.parametrize("claimed", [b"", b"x" * 129, b"tab\there", b"caf\xe9\x85"])
def test_an_insane_request_id_is_not_kept(api: TestClient, keys: Keys, db_url: str, claimed: bytes) -> None:
    r = api.get(
        "/clients/1/context",
        headers=[(b"authorization", f"Bearer {keys.agent}".encode()), (b"x-request-id", claimed)],
    )
    assert r.status_code == 200
    assert len(r.headers["x-request-id"]) == 24
    assert "x-client-request-id" not in r.headers
    (seen,) = events(api, db_url, "action = 'client.read'")
    assert (seen["request_id"], seen["client_request_id"]) == (r.headers["x-request-id"], None)


@pytest.mark.parametrize("face", ["rest", "mcp-http"])
def test_a_tool_calls_twin_events_share_the_outer_request_id(
    api: TestClient, keys: Keys, db_url: str, face: str
) -> None:
    """The twin runs in-process (a request of its own inside the app): its events carry the outer request's
    server id and the caller's id beside it, as the `tool.called` event does."""
    note = FACES[face](api, keys.agent, "record_note", NOTE, **{"X-Request-ID": "lie-7"})
    read = FACES[face](api, keys.agent, "get_client_context", {"client_id": 1}, **{"X-Request-ID": "lie-8"})
    assert not note.is_error, note.text
    assert not read.is_error, read.text
    assert note.request_id is not None
    assert read.request_id is not None
    assert note.request_id != "lie-7"
    assert read.request_id not in ("lie-8", note.request_id)
    for answer, caller, twin in ((note, "lie-7", "agent.note"), (read, "lie-8", "client.read")):
        found = events(api, db_url, "request_id = $1", answer.request_id)
        assert sorted(e["action"] for e in found) == sorted([twin, "tool.called"]), found
        assert {e["client_request_id"] for e in found} == {caller}
        assert {e["client_id"] for e in found} == {1}


def test_an_in_process_stdio_call_and_its_twin_share_a_request_id_of_their_own(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    first = over_mcp_stdio(api, keys.agent, "record_note", NOTE)
    second = over_mcp_stdio(api, keys.agent, "record_note", {**NOTE, "payload": "again"})
    assert not first.is_error, first.text
    assert not second.is_error, second.text
    calls = events(api, db_url, "action = 'tool.called'")
    notes = events(api, db_url, "action = 'agent.note'")
    assert [e["details"]["face"] for e in calls] == ["mcp-stdio", "mcp-stdio"]
    ids = [e["request_id"] for e in calls]
    assert all(ids)
    assert ids[0] != ids[1]
    assert sorted(e["request_id"] for e in notes) == sorted(ids)
    assert {e["client_request_id"] for e in calls + notes} == {None}


def test_the_mcp_http_face_records_the_server_id_of_the_mcp_request(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    answer = over_mcp_http(api, keys.agent, "no_such_tool", {}, **{"X-Request-ID": "mcp-lie"})
    assert answer.is_error
    (event,) = events(api, db_url, "action = 'tool.called'")
    assert event["request_id"] == answer.request_id != "mcp-lie"
    assert event["client_request_id"] == "mcp-lie"
