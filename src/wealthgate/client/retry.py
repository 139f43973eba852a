"""When to try a request again, and how long to wait: exponential backoff with jitter, bounded.

A request is tried again only when that cannot do anything twice:
- it never reached the service (the connection could not be opened), or
- the service said an earlier try with the same Idempotency-Key is still running (409), or
- the answer was lost or the service was briefly unavailable (timeouts, dropped connections, 502/503/504) and
  the request is *replay-safe*: a read, or a write carrying an Idempotency-Key the service honours, so the
  retry gets the first answer replayed instead of a second record, or
- the service refused it for a rate limit (429) and asked for a wait within `max_delay` (`Retry-After`): a
  refused request did nothing, so any call may be repeated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

Outcome = httpx.Response | httpx.TransportError

NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
ANSWER_LOST = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
UNAVAILABLE = frozenset({502, 503, 504})


def still_in_progress(response: httpx.Response) -> bool:
    """The service's 409 for an Idempotency-Key whose first request has not finished."""
    if response.status_code != 409:
        return False
    try:
        detail = str(response.json().get("detail", ""))
    except (ValueError, AttributeError):
        return False
    return "Idempotency-Key" in detail and "in progress" in detail


def retryable(outcome: Outcome, *, replay_safe: bool) -> bool:
    if isinstance(outcome, httpx.TransportError):
        if isinstance(outcome, NEVER_SENT):
            return True
        return replay_safe and isinstance(outcome, ANSWER_LOST)
    if outcome.status_code in UNAVAILABLE:
        return replay_safe
    return still_in_progress(outcome)


def retry_after(outcome: Outcome) -> float | None:
    if isinstance(outcome, httpx.Response):
        try:
            return max(0.0, float(outcome.headers.get("retry-after", "")))
        except ValueError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`attempts` tries in all; before try n+1 wait between half and all of min(max_delay, base_delay * 2**n)
    ("equal jitter", so concurrent clients spread out), or the server's Retry-After, capped at max_delay."""

    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 4.0

    def delay(self, retry: int, hint: float | None = None) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2.0**retry)
        wait = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 -- jitter, not a secret
        if hint is not None:
            wait = max(wait, min(hint, self.max_delay))
        return wait

    def next_wait(self, attempt: int, outcome: Outcome, *, replay_safe: bool) -> float | None:
        """Seconds to wait before trying again after try number `attempt` (0-based), or None to stop."""
        if attempt + 1 >= self.attempts:
            return None
        if isinstance(outcome, httpx.Response) and outcome.status_code == 429:
            # Refused before anything was done, so any call may be repeated; but only a wait that fits the
            # policy is worth it (a rate window), not the hours of a daily quota or a long back-off.
            hint = retry_after(outcome)
            return None if hint is None or hint > self.max_delay else self.delay(attempt, hint)
        if not retryable(outcome, replay_safe=replay_safe):
            return None
        return self.delay(attempt, retry_after(outcome))


NO_RETRY = RetryPolicy(attempts=1)
