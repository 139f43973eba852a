"""Acceptance: `wealthgate demo` on an empty database, then the guide's agent, unchanged but for the key."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.process import Server, cli, env, free_port
from tests.support import fetch

pytestmark = pytest.mark.e2e


def readme_python() -> str:
    """The README's agent quick-start, exactly as a reader would copy it."""
    text = (REPO / "README.md").read_text()
    start = text.index("```python\n") + len("```python\n")
    return text[start : text.index("```", start)]


def test_the_guides_agent_works_against_the_demo(empty_db_url: str) -> None:
    port = free_port()
    server = Server("demo", "--port", str(port), DATABASE_URL=empty_db_url)
    try:
        key = server.wait_for_line("WEALTHGATE_API_KEY=").split("=", 1)[1]
        base = f"http://127.0.0.1:{port}"
        server.wait_healthy(base)
        agent = subprocess.run(
            [sys.executable, str(REPO / "examples" / "guide_agent.py")],
            env=env(FASTAPI_WEALTH_API_KEY=key, WEALTH_API_URL=base),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert agent.returncode == 0, agent.stderr
        name, risk, stored = agent.stdout.strip().splitlines()
        assert name == "Alice Chen"
        assert risk == "moderate"
        event = ast.literal_eval(stored)
        assert event["status"] == "stored"
        assert isinstance(event["audit_event_id"], int)
        row = fetch(
            empty_db_url,
            "SELECT action, client_id, actor FROM audit_events WHERE id = $1",
            event["audit_event_id"],
        )[0]
        assert (row["action"], row["client_id"], row["actor"]["key_name"]) == ("agent.note", 1, "demo agent")

        quick_start = readme_python()
        ran = subprocess.run(
            [sys.executable, "-c", quick_start.replace("http://127.0.0.1:8000", base)],
            env=env(WEALTHGATE_API_KEY=key),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert ran.returncode == 0, ran.stderr
        assert "Alice Chen moderate" in ran.stdout
        assert "'status': 'stored'" in ran.stdout

        without_key = subprocess.run(
            [sys.executable, str(REPO / "examples" / "guide_agent.py")],
            env=env(FASTAPI_WEALTH_API_KEY="wg_1_1_" + "x" * 43, WEALTH_API_URL=base),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert without_key.returncode != 0
        assert "401" in without_key.stderr
    finally:
        assert server.stop() == 0


def test_a_second_demo_start_reuses_the_data_and_the_keyring_and_prints_a_new_key(
    empty_db_url: str, tmp_path: Path
) -> None:
    """The first demo run on a machine without an audit keyring creates one (the only command that does);
    the second reuses it, and the trail both wrote verifies with it."""
    ring = tmp_path / "audit-keyring.json"
    keys, outputs = [], []
    for _ in range(2):
        port = free_port()
        server = Server(
            "demo", "--port", str(port), DATABASE_URL=empty_db_url, WEALTHGATE_AUDIT_KEYRING_FILE=str(ring)
        )
        try:
            keys.append(server.wait_for_line("WEALTHGATE_API_KEY="))
            server.wait_healthy(f"http://127.0.0.1:{port}")
        finally:
            server.stop()
        outputs.append("".join(server.output))
    assert keys[0] != keys[1]
    assert f"created the audit keyring at {ring}" in outputs[0]
    assert "created the audit keyring" not in outputs[1]
    assert "database already holds data" in outputs[1]
    assert fetch(empty_db_url, "SELECT count(*) AS n FROM clients")[0]["n"] == 50
    verified = cli("audit", "verify", DATABASE_URL=empty_db_url, WEALTHGATE_AUDIT_KEYRING_FILE=str(ring))
    assert verified.returncode == 0, verified.stdout
