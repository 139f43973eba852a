"""Request rates per API key: reads (GET, HEAD; read-only tools) and writes (every other method; tools that
record something), each under the limits of its setting in the `limits` notation (`rate_limit_read`,
`rate_limit_write`: "100/second", or several separated by ";", e.g. "50/second;1000/minute").

Each limit is a fixed window counted per key: the window starts at the key's first request and lasts the
limit's period; a request over any of the kind's limits is refused (429) until that window ends. Every
request the key sends counts, a refused one too, so hammering does not shorten the wait.

The answer describes the limits with the IETF RateLimit header fields, in the structured-field form of
draft-ietf-httpapi-ratelimit-headers-10: `RateLimit-Policy` lists the kind's policies (`"read";q=100;w=1`:
quota q per window w seconds) and `RateLimit` the nearest one (`"read";r=0;t=1`: r left, t seconds to the
window's end). A kind with one limit names its policy after the kind; with several, `<kind>-<window>s`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from limits import parse_many

from wealthgate.observability.metrics import RATE_LIMIT_REFUSALS
from wealthgate.throttling.counters import Counters
from wealthgate.throttling.errors import RateLimited, wait_phrase

Kind = Literal["read", "write"]
READ_METHODS = frozenset({"GET", "HEAD"})


def kind_of(method: str) -> Kind:
    return "read" if method in READ_METHODS else "write"


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    quota: int
    window: int  # seconds


def policies(kind: Kind, notation: str) -> tuple[Policy, ...]:
    """The limits of one kind, parsed from the `limits` notation (ValueError names the notation when it is
    not one)."""
    items = parse_many(notation)
    if not items:
        raise ValueError(f"no rate limit in {notation!r}")
    windows = [item.get_expiry() for item in items]
    names: list[str] = [kind] if len(items) == 1 else [f"{kind}-{w}s" for w in windows]
    names = [n if names.count(n) == 1 else f"{n}-{i + 1}" for i, n in enumerate(names)]
    return tuple(Policy(n, item.amount, w) for n, item, w in zip(names, items, windows, strict=True))


@dataclass(frozen=True, slots=True)
class Verdict:
    """A request counted: allowed or not, and the policy nearest to refusing (the refusing one, if any)."""

    allowed: bool
    kind: Kind
    policy: Policy
    remaining: int
    reset: int  # whole seconds to the end of that policy's window
    policy_header: str

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": self.policy_header,
            "RateLimit": f'"{self.policy.name}";r={self.remaining};t={self.reset}',
        }

    def refusal(self) -> RateLimited:
        """The 429 this verdict answers with, saying which limit and when to try again (and counted)."""
        RATE_LIMIT_REFUSALS.labels(kind=self.kind).inc()
        p = self.policy
        wait = max(1, self.reset)
        return RateLimited(
            f"this API key is over its {self.kind} rate limit ({p.quota} per {wait_phrase(p.window)}):"
            f" retry in {wait_phrase(wait)}",
            retry_after=wait,
            headers=self.headers(),
            limit={"kind": self.kind, "policy": p.name, "quota": p.quota, "window_seconds": p.window},
        )


class RateLimits:
    """The read and write limits of every key, counted in `counters`."""

    def __init__(self, counters: Counters, *, read: str, write: str) -> None:
        self.counters = counters
        self.policies: dict[Kind, tuple[Policy, ...]] = {
            "read": policies("read", read),
            "write": policies("write", write),
        }
        self._policy_header = {
            kind: ", ".join(f'"{p.name}";q={p.quota};w={p.window}' for p in ps)
            for kind, ps in self.policies.items()
        }

    async def charge(self, kind: Kind, firm_id: int, key_id: int) -> Verdict:
        """Count one request of `kind` by the key and say whether it is within every limit."""
        subject = f"{firm_id}:{key_id}"
        nearest: Verdict | None = None
        for p in self.policies[kind]:
            count, end = await self.counters.hit(f"rate:{p.name}:{subject}", p.window)
            now = self.counters.now()  # after the hit: a window it opened ends at most `window` from now
            allowed = count <= p.quota
            verdict = Verdict(
                allowed,
                kind,
                p,
                max(0, p.quota - count),
                max(0, math.ceil(end - now)),
                self._policy_header[kind],
            )
            if nearest is None or _nearer(verdict, nearest):
                nearest = verdict
        if nearest is None:  # `policies` never returns an empty tuple; this only tells the type checker
            raise RuntimeError(f"no {kind} rate limit configured")
        return nearest


def _nearer(a: Verdict, b: Verdict) -> bool:
    """Whether `a` binds more than `b`: a refusal over an allowance, then the longer wait, then fewer left."""
    if a.allowed != b.allowed:
        return not a.allowed
    if not a.allowed:
        return a.reset > b.reset
    return a.remaining < b.remaining
