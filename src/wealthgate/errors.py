"""Domain error categories. Entrypoints map each category to one HTTP status / CLI exit / MCP error."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a use case may raise on purpose; its message is safe to show a caller."""

    status = 400
    slug = "invalid"
    title = "Invalid request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


class Invalid(DomainError):
    status = 422
    slug = "invalid"
    title = "Invalid input"


class RuleViolation(DomainError):
    status = 422
    slug = "rule-violation"
    title = "Rule violation"


class Unavailable(DomainError):
    """The service cannot act now (a missing or mismatched configuration, a dependency away); not the
    caller's fault."""

    status = 503
    slug = "unavailable"
    title = "Service unavailable"
