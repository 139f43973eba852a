"""`wealthgate tools export`: the same schemas the API serves, for the same scopes."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.e2e.process import cli

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "mcp"])
def test_export_matches_the_api(api: TestClient, keys: Keys, fmt: str) -> None:
    exported = cli("tools", "export", "--format", fmt)
    assert exported.returncode == 0, exported.stderr
    served = api.get("/tools", params={"format": fmt}, headers=Keys.auth(keys.agent)).json()["tools"]
    assert json.loads(exported.stdout) == served
    reader = cli("tools", "export", "--format", fmt, "--scope", "clients:read")
    assert (
        json.loads(reader.stdout)
        == api.get("/tools", params={"format": fmt}, headers=Keys.auth(keys.reader)).json()["tools"]
    )


def test_a_bad_format_or_scope_is_refused() -> None:
    assert cli("tools", "export", "--format", "xml").returncode == 2
    assert cli("tools", "export", "--scope", "root").returncode == 2
