"""What the SDK raises: one exception per problem category, each carrying the RFC 9457 problem details."""

from __future__ import annotations

from typing import Any

import httpx


class WealthgateError(Exception):
    """Base of every SDK error. `status` is None when no HTTP answer arrived; `problem` is the problem+json
    body as the server sent it (`type`, `title`, `status`, `detail`, and `errors`/`request_id` when given)."""

    def __init__(self, message: str, *, status: int | None = None, problem: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.problem: dict[str, Any] = problem or {}

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self)

    @property
    def title(self) -> str | None:
        title = self.problem.get("title")
        return str(title) if title is not None else None

    @property
    def type(self) -> str | None:
        kind = self.problem.get("type")
        return str(kind) if kind is not None else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Per-field errors of a validation problem: `{"field", "message", ...}`."""
        found = self.problem.get("errors")
        return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []

    @property
    def request_id(self) -> str | None:
        found = self.problem.get("request_id")
        return str(found) if found is not None else None


class MissingApiKey(WealthgateError):
    """No key was given and none is in the environment."""


class ConnectionFailed(WealthgateError):
    """No HTTP answer (connection refused or dropped, timeout) after the retries the call allowed."""


class Invalid(WealthgateError):
    """400 or 422: the request was wrong (see `errors` for the fields)."""


class Unauthorized(WealthgateError):
    """401: the key is missing, malformed, unknown or revoked."""


class Forbidden(WealthgateError):
    """403: the key lacks the scope this call needs."""


class NotFound(WealthgateError):
    """404: missing, or not visible to this key (another firm's client answers exactly like a missing one)."""


class Conflict(WealthgateError):
    """409: the state does not allow this, or the same Idempotency-Key is still being processed."""


class ServerError(WealthgateError):
    """5xx: the service failed or is unavailable."""


BY_STATUS: dict[int, type[WealthgateError]] = {
    400: Invalid,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
}


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The problem+json body; a non-JSON error body becomes `{"status", "detail"}`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    return {"status": response.status_code, "detail": response.text[:500] or response.reason_phrase}


def error_for(response: httpx.Response) -> WealthgateError:
    problem = problem_of(response)
    status = response.status_code
    kind = BY_STATUS.get(status) or (ServerError if status >= 500 else WealthgateError)
    title = problem.get("title") or response.reason_phrase
    detail = problem.get("detail") or title
    return kind(f"{status} {title}: {detail}", status=status, problem=problem)
