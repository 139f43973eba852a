"""Logging as the service configures it: JSON lines on stderr (parsed here), every line of a request carrying
its id, one access line per request naming the route template, status, duration and caller, and the request
id of a 500 in the exception's own line; readable text on a terminal; uvicorn routed through it and its
--no-access-log obeyed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import Keys
from wealthgate.api.app import create_app
from wealthgate.observability import logs
from wealthgate.settings import Settings


class Captured:
    """What the service wrote to stderr in this test (pytest's capsys replaces sys.stderr, and the service's
    handler writes to whatever sys.stderr is at each line)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.text = ""

    def getvalue(self) -> str:
        self.text += self.capsys.readouterr().err
        return self.text

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.getvalue().splitlines() if line.startswith("{")]


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Captured:
    return Captured(capsys)


def _boom_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    chatty = logging.getLogger("wealthgate.test")

    async def boom() -> None:
        chatty.info("about to fail")
        raise RuntimeError("kaboom")

    app.add_api_route("/boom", boom)
    return app


@pytest.fixture
def served(settings: Settings) -> Iterator[TestClient]:
    as_json = settings.model_copy(update={"log_format": "json", "log_level": "info"})
    with TestClient(_boom_app(as_json), raise_server_exceptions=False) as client:
        yield client


def test_an_access_line_per_request_in_json(served: TestClient, keys: Keys, stderr: Captured) -> None:
    answer = served.get("/clients/1/context", headers=Keys.auth(keys.agent))
    assert answer.status_code == 200
    request_id = answer.headers["x-request-id"]
    mine = [line for line in stderr.lines() if line.get("request_id") == request_id]
    access = [line for line in mine if line["logger"] == "wealthgate.access"]
    assert len(access) == 1
    line = access[0]
    assert line["level"] == "INFO"
    assert line["route"] == "/clients/{client_id}/context"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert line["firm_id"] == 1
    assert isinstance(line["key_id"], int)
    assert line["message"].startswith("GET /clients/{client_id}/context 200 ")
    assert line["timestamp"].endswith("Z")
    assert "T" in line["timestamp"]


def test_every_line_of_a_failing_request_carries_its_id(served: TestClient, stderr: Captured) -> None:
    answer = served.get("/boom")
    assert answer.status_code == 500
    request_id = answer.json()["request_id"]
    lines = [line for line in stderr.lines() if line.get("request_id") == request_id]
    by_logger = {line["logger"]: line for line in lines}
    assert by_logger["wealthgate.test"]["message"] == "about to fail"
    assert by_logger["wealthgate.test"]["route"] == "/boom"
    failure = by_logger["wealthgate.api.problems"]
    assert failure["level"] == "ERROR"
    assert "RuntimeError: kaboom" in failure["exception"]
    assert by_logger["wealthgate.access"]["status"] == 500
    # nothing about this request was logged without its id
    assert not [
        line for line in stderr.lines() if "kaboom" in json.dumps(line) and line.get("request_id") is None
    ]


def test_the_caller_is_named_once_authenticated(served: TestClient, keys: Keys, stderr: Captured) -> None:
    refused = served.get("/clients/1/context", headers=Keys.auth(keys.compliance))
    assert refused.status_code == 403  # authenticated, then refused for its scope: still named
    line = next(
        line
        for line in stderr.lines()
        if line.get("request_id") == refused.headers["x-request-id"] and line["logger"] == "wealthgate.access"
    )
    assert (line["status"], line["firm_id"]) == (403, 1)
    anonymous = served.get("/clients/1/context")
    line = next(
        line
        for line in stderr.lines()
        if line.get("request_id") == anonymous.headers["x-request-id"]
        and line["logger"] == "wealthgate.access"
    )
    assert line["status"] == 401
    assert "firm_id" not in line
    assert "key_id" not in line


def test_text_on_a_terminal_json_elsewhere(stderr: Captured) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert logs.wants_json("auto", Terminal()) is False
    assert logs.wants_json("auto", io.StringIO()) is True
    assert logs.wants_json("text", io.StringIO()) is False
    assert logs.wants_json("json", Terminal()) is True

    logs.configure("info", "text")
    token = logs.REQUEST.set(logs.RequestContext("abc123", None, firm_id=7, key_id=9))
    try:
        logging.getLogger("wealthgate.test").warning("plain words")
    finally:
        logs.REQUEST.reset(token)
        logs.configure("info", "json")
    text = stderr.getvalue().splitlines()[-1]
    assert "WARNING wealthgate.test: plain words [request_id=abc123 firm_id=7 key_id=9]" in text
    assert not text.startswith("{")


def test_configure_is_idempotent_and_routes_uvicorn(
    stderr: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    uvicorn_error = logging.getLogger("uvicorn.error")
    monkeypatch.setattr(uvicorn_error, "handlers", [logging.StreamHandler(io.StringIO())])
    monkeypatch.setattr(uvicorn_error, "propagate", False)
    logs.configure("info", "json")
    logs.configure("info", "json")
    assert sum(isinstance(h, logs.StderrHandler) for h in root.handlers) == 1
    uvicorn_error.info("Application startup complete.")
    line = stderr.lines()[-1]
    assert (line["logger"], line["message"]) == ("uvicorn.error", "Application startup complete.")


def test_no_access_log_when_uvicorn_is_told_so(stderr: Captured, monkeypatch: pytest.MonkeyPatch) -> None:
    uvicorn_access = logging.getLogger("uvicorn.access")
    monkeypatch.setattr(uvicorn_access, "handlers", [])
    monkeypatch.setattr(uvicorn_access, "propagate", False)  # what uvicorn's access_log=False leaves
    try:
        logs.configure("info", "json")
        assert not logs.ACCESS.isEnabledFor(logging.INFO)
    finally:
        monkeypatch.undo()
        logs.configure("info", "json")
    assert logs.ACCESS.isEnabledFor(logging.INFO)
