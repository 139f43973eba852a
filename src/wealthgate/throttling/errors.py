"""The refusals of this package: all 429 Too Many Requests, each saying when to try again (`retry_after`,
whole seconds: the `Retry-After` header) and carrying the headers and problem fields that describe the limit.
The API renders them as problem+json (`api/throttled.py`); MCP as a tool error with the same words."""

from __future__ import annotations

from typing import Any

from wealthgate.errors import DomainError


class Throttled(DomainError):
    status = 429
    slug = "throttled"
    title = "Too Many Requests"

    def __init__(
        self,
        detail: str,
        *,
        retry_after: int,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)
        self.headers = {**(headers or {}), "Retry-After": str(self.retry_after)}
        self.extra = {"retry_after": self.retry_after, **extra}


class RateLimited(Throttled):
    """A key over its read or write rate."""

    slug = "rate-limited"
    title = "Rate limit exceeded"


class QuotaExceeded(Throttled):
    """A key over its daily quota of free text."""

    slug = "quota-exceeded"
    title = "Daily quota exceeded"


class BackedOff(Throttled):
    """Authentication refused unchecked: too many failures for this key or from this address."""

    slug = "authentication-backed-off"
    title = "Too many failed authentications"


def wait_phrase(seconds: int) -> str:
    return f"{seconds} second{'s' if seconds != 1 else ''}"
