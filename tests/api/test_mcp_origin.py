"""`/mcp` refuses a request whose `Origin` is not allowed with 403 and a JSON-RPC error without an id (the MCP
transport's defence against DNS rebinding), before looking at the key; no Origin (native clients) is allowed;
allowed are `mcp_allowed_origins` (JSON or comma-separated in the environment) and `public_url`'s origin."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from wealthgate.api.app import create_app
from wealthgate.mcp.http import allowed_origins, origin_of
from wealthgate.settings import Settings

LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
ACCEPT = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    changed = settings.model_copy(
        update={
            "mcp_allowed_origins": ["https://Agents.Example.com", "http://localhost:6274"],
            "public_url": "https://wealth.example.com/gate/",
        }
    )
    with TestClient(create_app(changed), raise_server_exceptions=False) as client:
        yield client


def post(api: TestClient, key: str | None, origin: str | None) -> httpx.Response:
    headers = {**ACCEPT, **(Keys.auth(key) if key else {}), **({"Origin": origin} if origin else {})}
    return api.post("/mcp", json=LIST, headers=headers)


@pytest.mark.parametrize(
    "origin",
    [
        None,  # a native client sends none
        "https://agents.example.com",
        "https://AGENTS.example.com:443",  # the same origin spelled otherwise
        "http://localhost:6274",
        "https://wealth.example.com",  # public_url's origin
    ],
)
def test_allowed_origins_and_none_reach_the_tools(api: TestClient, keys: Keys, origin: str | None) -> None:
    r = post(api, keys.agent, origin)
    assert r.status_code == 200, r.text
    assert r.json()["result"]["tools"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://agents.example.com",  # another scheme is another origin
        "https://agents.example.com:8443",  # another port too
        "https://agents.example.com.evil.example",
        "null",  # an opaque origin (a sandboxed frame, a file)
        "not an origin",
    ],
)
def test_other_origins_get_403_before_the_key_is_looked_at(api: TestClient, keys: Keys, origin: str) -> None:
    for key in (keys.agent, None):  # with a good key, and with none (not a 401: the origin is refused first)
        r = post(api, key, origin)
        assert r.status_code == 403, r.text
        body = r.json()
        assert body["jsonrpc"] == "2.0"
        assert "id" not in body
        assert body["error"]["code"] == -32600
        assert "not allowed" in body["error"]["message"]


def test_no_origin_is_allowed_unless_configured(settings: Settings, keys: Keys) -> None:
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        assert post(api, keys.agent, None).status_code == 200
        assert post(api, keys.agent, "http://localhost:8000").status_code == 403


def test_the_setting_reads_json_or_comma_separated_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEALTHGATE_MCP_ALLOWED_ORIGINS", "https://a.example, https://b.example:8443")
    assert Settings().mcp_allowed_origins == ["https://a.example", "https://b.example:8443"]
    monkeypatch.setenv("WEALTHGATE_MCP_ALLOWED_ORIGINS", '["https://c.example"]')
    assert Settings().mcp_allowed_origins == ["https://c.example"]
    monkeypatch.setenv("WEALTHGATE_PUBLIC_URL", "https://d.example:443/x")
    assert allowed_origins(Settings()) == {"https://c.example", "https://d.example"}


def test_origins_compare_in_one_spelling() -> None:
    assert origin_of("HTTPS://Example.COM:443") == "https://example.com"
    assert origin_of("http://example.com:80/") == "http://example.com"
    assert origin_of("http://[::1]:3000") == "http://[::1]:3000"
    assert origin_of("null") == "null"
    assert origin_of("example.com") is None
    assert origin_of("https://example.com:99999") is None
