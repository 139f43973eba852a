"""What a serving process opens at start for the per-key limits: the shared counters, the rate limits and
the authentication back-off over them (kept as `app.state.throttle`, reached through `api/deps.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from wealthgate.auth.backoff import AuthBackoff
from wealthgate.settings import Settings
from wealthgate.throttling.counters import Counters, open_counters
from wealthgate.throttling.quota import TextQuota
from wealthgate.throttling.rates import RateLimits


@dataclass(frozen=True, slots=True)
class Throttle:
    counters: Counters
    rates: RateLimits
    backoff: AuthBackoff
    text_quota: TextQuota


@contextmanager
def opened(settings: Settings) -> Iterator[Throttle]:
    """The limits `settings` describe, over this host's shared counters or `rate_limit_storage`."""
    counters = open_counters(settings)
    try:
        yield Throttle(
            counters,
            RateLimits(counters, read=settings.rate_limit_read, write=settings.rate_limit_write),
            AuthBackoff(
                counters,
                max_failures=settings.auth_max_failures,
                window_seconds=settings.auth_failure_window_seconds,
            ),
            TextQuota(settings.note_bytes_per_day),
        )
    finally:
        counters.close()
