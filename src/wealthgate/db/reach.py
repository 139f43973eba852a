"""A database that cannot be reached, said in one line an operator can act on, never showing the password.

Drivers report `ConnectionRefusedError: Connect call failed ('10.0.0.5', 5432)` or psycopg's three-line
`connection failed: connection to server at ...`: neither names the setting to fix. `DatabaseUnreachable`
reads `cannot reach PostgreSQL at db.example:5432 (DATABASE_URL): connection refused`: the host and port (or
the socket directory), the setting the URL came from, and the driver's reason in a few words.

The setting is known where the URL is chosen (`db/server.py` registers it with `name_source`); a URL nobody
registered is `DATABASE_URL`'s, the only way to give one from outside.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg
import psycopg

from wealthgate.errors import Unavailable

DEFAULT_PORT = "5432"
_SOURCES: dict[str, str] = {}  # url -> the setting (or place) it came from


class DatabaseUnreachable(Unavailable):
    """PostgreSQL could not be connected to: not there, refused, or refusing these credentials."""


def name_source(url: str, setting: str) -> None:
    """Remember that `url` came from `setting` (e.g. `DATABASE_URL`), for the messages about it."""
    _SOURCES[url] = setting


def source(url: str) -> str:
    return _SOURCES.get(url, "DATABASE_URL")


def where(url: str) -> str:
    """`host:port` (or `socket /dir`) of a libpq URL, without user or password."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    query = parse_qs(parts.query)
    if not hosts:
        directory = unquote(query.get("host", [""])[0])
        if directory.startswith("/"):
            return f"socket {directory}"
        hosts = directory or "localhost"
    port = query.get("port", [DEFAULT_PORT])[0]
    named = []
    for host in hosts.split(","):
        has_port = host.rsplit("]", 1)[-1].count(":") == 1 if host.startswith("[") else ":" in host
        named.append(host if has_port else f"{host}:{port}")
    return ",".join(named)


def _password(url: str) -> list[str]:
    """The URL's password as written and as decoded (what a message must not repeat)."""
    userinfo = urlsplit(url).netloc.rpartition("@")[0]
    secret = userinfo.partition(":")[2]
    return sorted({secret, unquote(secret)}, key=len, reverse=True) if secret else []


_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    (socket.gaierror, "host not found"),
    (TimeoutError, "timed out"),
    (FileNotFoundError, "no server listening on that socket"),
)


def _reason(exc: BaseException) -> str:
    """The driver's reason in a few words: `connection refused`, `host not found`, `timed out`, or the
    server's own (`password authentication failed for user "app"`)."""
    for kind, words in _REASONS:
        if isinstance(exc, kind):
            return words
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, psycopg.Error):
        text = text.rpartition("failed: ")[2] or text
        text = text.removeprefix("FATAL:").strip()
        if text.startswith("[Errno -2]") or "Name or service not known" in text:
            return "host not found"
    if text[:1].isupper() and text[1:2].islower():
        text = text[:1].lower() + text[1:]
    return text


def unreachable(url: str, exc: BaseException, setting: str | None = None) -> DatabaseUnreachable:
    """The one-line error for failing to connect to `url`; the password never appears in it."""
    message = f"cannot reach PostgreSQL at {where(url)} ({setting or source(url)}): {_reason(exc)}"
    for secret in _password(url):
        message = message.replace(secret, "***")
    return DatabaseUnreachable(message)


def is_connection_failure(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is psycopg failing to connect, rather than a statement's error: a
    connection that never opened has no SQLSTATE."""
    while exc is not None:
        if isinstance(exc, psycopg.OperationalError):
            return exc.sqlstate is None
        orig = getattr(exc, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
        exc = orig if isinstance(orig, BaseException) else None  # type: ignore[assignment]
    return False


# What asyncpg raises when a connection cannot be opened: the network (OSError: refused, unknown host, no
# socket), a timeout, or the server refusing the login (authentication, unknown database, too many clients,
# starting up or shutting down). Not other SQL errors: a pool's set-up statements failing is another story.
CONNECT_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.PostgresConnectionError,
)


@contextmanager
def reaching(url: str) -> Iterator[None]:
    """Around the opening of a connection (asyncpg or psycopg, awaited inside or not): a failure becomes
    `DatabaseUnreachable`."""
    try:
        yield
    except DatabaseUnreachable:
        raise
    except CONNECT_ERRORS as exc:
        raise unreachable(url, exc) from None
    except psycopg.OperationalError as exc:
        if not is_connection_failure(exc):
            raise
        raise unreachable(url, exc) from None


def environment_setting() -> str:
    """`DATABASE_URL`, or `WEALTHGATE_DATABASE_URL` when only that one is set."""
    present = {k.upper() for k in os.environ}
    if "DATABASE_URL" not in present and "WEALTHGATE_DATABASE_URL" in present:
        return "WEALTHGATE_DATABASE_URL"
    return "DATABASE_URL"


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database (or the way to it) is away, an outage to wait out rather than a bug:

    - any OSError: a refused or reset connection, a Unix socket that is gone, a timeout (asyncio's and the
      pool's acquire timeout are `TimeoutError`, an OSError); nothing else in a request does I/O of its own;
    - PostgreSQL's class 08 (connection exceptions, including asyncpg's `ConnectionDoesNotExistError` for a
      connection lost mid-query), 53 (insufficient resources: too many connections, out of memory, disk
      full) and 57P (admin or crash shutdown, cannot connect now, database dropped, idle session timeout);
      not the rest of class 57, such as 57014, a statement cancelled by its timeout;
    - asyncpg's `InterfaceError` on a closed connection or a closing pool (misuse of the API is a bug);
    - an exception group of nothing but these.
    """
    if isinstance(exc, BaseExceptionGroup):
        return all(unavailable(inner) for inner in exc.exceptions)
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        return state[:2] in ("08", "53") or state.startswith("57P")
    if isinstance(exc, asyncpg.InterfaceError):
        message = str(exc)
        return "is closed" in message or "is closing" in message
    return False
