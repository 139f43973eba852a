"""A bad setting is one line naming the environment variable, what it accepts and what it got: no pydantic
dump. Every CLI command that reads the settings prints it as `error: ...` and exits 2 (real processes:
tests/e2e/test_messages.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from typer.testing import CliRunner

from wealthgate.cli.main import app
from wealthgate.settings import Settings, SettingsError, get_settings
from wealthgate.settings_errors import explain

# Commands that never read the settings (they work offline on a file or on the code).
OFFLINE = {("tools", "export"), ("audit", "verify-export")}


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        get_settings()
    return refused.value.problems


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        (
            "WEALTHGATE_DB_POOL_MAX",
            "abc",
            "WEALTHGATE_DB_POOL_MAX: must be an integer between 1 and 50 (got 'abc')",
        ),
        (
            "WEALTHGATE_DB_POOL_MIN",
            "0",
            "WEALTHGATE_DB_POOL_MIN: must be an integer between 1 and 50 (got '0')",
        ),
        (
            "WEALTHGATE_AUTH_CACHE_SECONDS",
            "-1",
            "WEALTHGATE_AUTH_CACHE_SECONDS: must be a number between 0 and 300 (got '-1')",
        ),
        (
            "WEALTHGATE_AUDIT_RETENTION_YEARS",
            "5",
            "WEALTHGATE_AUDIT_RETENTION_YEARS: must be an integer between 6 and 100 (got '5')",
        ),
        (
            "WEALTHGATE_READY_MAX_CHECKPOINT_AGE_SECONDS",
            "0",
            "WEALTHGATE_READY_MAX_CHECKPOINT_AGE_SECONDS: must be a number greater than 0 (got '0')",
        ),
        (
            "WEALTHGATE_NOTE_BYTES_PER_DAY",
            "10",
            "WEALTHGATE_NOTE_BYTES_PER_DAY: must be an integer at least 1000 (got '10')",
        ),
        (
            "WEALTHGATE_COOKIE_SECURE",
            "maybe",
            "WEALTHGATE_COOKIE_SECURE: must be true or false (also 1/0, yes/no, on/off) (got 'maybe')",
        ),
        (
            "WEALTHGATE_LOG_FORMAT",
            "xml",
            "WEALTHGATE_LOG_FORMAT: must be one of auto, json, text (got 'xml')",
        ),
    ],
)
def test_a_bad_variable_is_named_with_what_it_accepts(
    name: str, value: str, line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert problems(monkeypatch, **{name: value}) == [line]


def test_several_bad_variables_give_a_line_each_and_no_pydantic_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = problems(monkeypatch, WEALTHGATE_DB_POOL_MAX="abc", WEALTHGATE_LOG_FORMAT="xml")
    assert [line.split(":")[0] for line in refused] == ["WEALTHGATE_DB_POOL_MAX", "WEALTHGATE_LOG_FORMAT"]
    with pytest.raises(SettingsError) as again:
        get_settings()
    text = str(again.value)
    assert "validation error" not in text
    assert "errors.pydantic.dev" not in text
    assert again.value.__cause__ is None
    assert again.value.__suppress_context__


def test_a_variable_of_a_validator_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    [line] = problems(monkeypatch, WEALTHGATE_MCP_ALLOWED_ORIGINS="[not json")
    assert line.startswith(
        "WEALTHGATE_MCP_ALLOWED_ORIGINS: must be a JSON list of origins or comma-separated"
    )
    assert line.endswith("(got '[not json')")


def test_a_rate_limit_store_this_install_cannot_open_is_one_line_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The synchronous Redis client is not installed (the async one is): refused when the settings load, not
    by every worker's start-up; the URI, which may hold a password, is not repeated."""
    for uri in ("redis://:hunter2@cache.example:6379", "nosuch://cache.example"):
        [line] = problems(monkeypatch, WEALTHGATE_RATE_LIMIT_STORAGE=uri)
        assert line.startswith("WEALTHGATE_RATE_LIMIT_STORAGE: must be a `limits` storage URI whose client")
        assert "hunter2" not in line
        assert "cache.example" not in line
    monkeypatch.setenv("WEALTHGATE_RATE_LIMIT_STORAGE", "async+redis://:hunter2@cache.example:6379")
    assert get_settings().rate_limit_storage == "async+redis://:hunter2@cache.example:6379"


def test_good_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEALTHGATE_DB_POOL_MAX", "8")
    assert get_settings().db_pool_max == 8


class Other(BaseSettings):
    """A model of the same shape as `Settings` for what it does not have yet: an aliased number, a secret."""

    model_config = SettingsConfigDict(env_prefix="WEALTHGATE_", extra="ignore")
    workers: int = Field(default=1, ge=1, validation_alias=AliasChoices("WORKERS", "WEALTHGATE_WORKERS"))
    token: SecretStr = Field(default=SecretStr("x" * 12), min_length=12)
    database_url: str = Field(default="postgresql://", pattern="^postgresql://")


def explained(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Other()
    return explain(Other, refused.value).problems


def test_the_alias_in_use_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    assert explained(monkeypatch, WEALTHGATE_WORKERS="0") == [
        "WEALTHGATE_WORKERS: must be an integer at least 1 (got '0')"
    ]
    assert explained(monkeypatch, WORKERS="0") == ["WORKERS: must be an integer at least 1 (got '0')"]


def test_secrets_and_urls_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = {"WEALTHGATE_TOKEN": "hunter2"}  # a made-up secret that must not be echoed
    lines = explained(monkeypatch, **secret, WEALTHGATE_DATABASE_URL="mysql://u:pw@h/db")
    assert len(lines) == 2
    assert lines[0].startswith("WEALTHGATE_TOKEN: ")
    assert lines[1].startswith("WEALTHGATE_DATABASE_URL: ")
    assert not any("hunter2" in line or "pw" in line for line in lines)


def commands() -> Iterator[tuple[tuple[str, ...], Any]]:
    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, (*path, name))
        else:
            yield path, command

    yield from walk(typer.main.get_command(app), ())


def arguments(path: tuple[str, ...], command: Any, policy: Path) -> list[str]:
    """The command line with every required parameter given a plausible value (a new one must be added)."""
    values = {
        "firm": "1",
        "key_id": "1",
        "kind": "clients",
        "file": str(policy),
        "name": "x",
        "email": "a@example.com",
        "scope": "clients:read",
        "role": "admin",
    }
    args = list(path)
    for param in command.params:
        if param.required:
            args += [*([param.opts[0]] if param.param_type_name == "option" else []), values[param.name]]
    if path == ("users", "disable"):
        args += ["--email", "a@example.com"]  # one of --user and --email
    return args


COMMANDS = sorted(path for path, _ in commands())


def test_every_command_is_covered() -> None:
    assert len(COMMANDS) >= 20
    assert {("serve",), ("demo",), ("import",), ("db", "upgrade"), ("mcp",)} <= set(COMMANDS)
    assert set(COMMANDS) >= OFFLINE


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_prints_the_line_and_exits_2(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("weights: {}\n")
    monkeypatch.setenv("WEALTHGATE_DB_POOL_MAX", "abc")
    monkeypatch.setenv("WEALTHGATE_API_KEY", "wg_test_unused")  # `mcp` asks for a key before anything else
    monkeypatch.setenv("WEALTHGATE_HOME", str(tmp_path / "home"))
    command = dict(commands())[path]
    result = CliRunner().invoke(app, arguments(path, command, policy))
    if path in OFFLINE:
        assert "WEALTHGATE_DB_POOL_MAX" not in result.output
        return
    assert result.exit_code == 2, result.output
    assert result.output == "error: WEALTHGATE_DB_POOL_MAX: must be an integer between 1 and 50 (got 'abc')\n"


def test_settings_built_in_code_are_untouched() -> None:
    """Tests and benches build `Settings(...)` directly: pydantic's own error there, as before."""
    with pytest.raises(ValidationError):
        Settings(db_pool_max=0)
