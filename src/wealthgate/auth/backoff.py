"""Back-off after failed API-key authentication, per key id and per client address.

Two subjects count every failed attempt: the key id the presented key names (`wg_<firm>_<key id>_<secret>`
is parseable even when its secret is wrong) and the client's address. When a subject reaches
`auth_max_failures` failures within `auth_failure_window_seconds` (counted from its first failure), it is
blocked: every attempt for that key id or from that address is answered 429 with `Retry-After`, without
looking at the secret, for one window the first time, then twice as long each further time, up to
`MAX_BLOCK_WINDOWS` windows (strikes are remembered for `STRIKES_MEMORY_SECONDS`). A success clears the key
id's count and strikes (not the address's: one good key must not wipe out a machine's guesses at others).

A blocked key id is refused even with its right secret and from an address that never failed: the block is
on the key, which is what a guesser attacks from many addresses. The cost is that someone who knows a key id
(they are not secret) can keep it blocked; the block is bounded, it is an audit event, and the key's owner
can be given a new key (docs/limits.md).

Reaching the threshold is one audit event (`api_key.authentication_backed_off`) in the firm the presented
key names, not one per attempt, so guessing cannot flood the audit chain; a firm that does not exist, or a
string that is no key at all, is logged instead (no firm's chain concerns it). The counters live in the
shared counters (`throttling/counters.py`): every worker of this host sees one count.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import asyncpg

from wealthgate.audit.record import record
from wealthgate.auth import keys
from wealthgate.auth.authenticate import KeyCache, KeySource, authenticate_parsed
from wealthgate.auth.principal import Principal
from wealthgate.db.pool import unit_of_work
from wealthgate.db.sql import Sql
from wealthgate.errors import Unauthorized
from wealthgate.observability.metrics import AUTH_FAILURES
from wealthgate.people.signin import anonymous
from wealthgate.throttling.counters import Counters
from wealthgate.throttling.errors import BackedOff, wait_phrase

log = logging.getLogger(__name__)

INVALID = "the API key is invalid or revoked"
MAX_BLOCK_WINDOWS = 16  # blocks double from one window up to this many
STRIKES_MEMORY_SECONDS = 86_400
_ADDRESS_MAX = 100

_KNOWN = Sql(
    "SELECT EXISTS (SELECT 1 FROM firms WHERE id = :firm_id) AS firm,"
    " EXISTS (SELECT 1 FROM api_keys WHERE firm_id = :firm_id AND id = :key_id) AS key"
)


@dataclass(frozen=True, slots=True)
class Subjects:
    key: str | None  # "key:<firm>:<id>" when the presented string parses as a key
    address: str | None  # "addr:<address>" when the client's address is known

    def all(self) -> list[str]:
        return [s for s in (self.key, self.address) if s is not None]


@dataclass(frozen=True, slots=True)
class Crossing:
    """A subject reached the threshold with this failure: it is now blocked for `seconds`."""

    subject: str  # "key" or "address"
    strike: int
    seconds: int


class AuthBackoff:
    def __init__(self, counters: Counters, *, max_failures: int, window_seconds: int) -> None:
        self.counters = counters
        self.max_failures = max_failures
        self.window = window_seconds

    @staticmethod
    def subjects(parsed: keys.ParsedKey | None, address: str | None) -> Subjects:
        return Subjects(
            None if parsed is None else f"key:{parsed.firm_id}:{parsed.key_id}",
            None if not address else f"addr:{address[:_ADDRESS_MAX]}",
        )

    async def state(self, subjects: Subjects) -> tuple[int | None, bool]:
        """(seconds the longest block of `subjects` has left, or None; whether the key has failures or
        strikes for a success to clear): one read of the counters."""
        blocks = [f"block:{s}" for s in subjects.all()]
        history = [f"fail:{subjects.key}", f"strike:{subjects.key}"] if subjects.key else []
        found = await self.counters.peek(blocks + history)
        now = self.counters.now()
        ends = [end for count, end in found[: len(blocks)] if count > 0]
        wait = max(1, math.ceil(max(ends) - now)) if ends else None
        return wait, any(count > 0 for count, _end in found[len(blocks) :])

    async def failed(self, subjects: Subjects) -> list[Crossing]:
        """Count a failure against each subject; block (and report) those that reach the threshold."""
        crossed = []
        for kind, subject in (("key", subjects.key), ("address", subjects.address)):
            if subject is None:
                continue
            count, _end = await self.counters.hit(f"fail:{subject}", self.window)
            if count != self.max_failures:  # exactly one attempt, in one worker, reaches it
                continue
            strike, _ = await self.counters.hit(f"strike:{subject}", STRIKES_MEMORY_SECONDS)
            seconds = self.window * 2 ** min(strike - 1, int(math.log2(MAX_BLOCK_WINDOWS)))
            await self.counters.clear(f"block:{subject}")
            await self.counters.hit(f"block:{subject}", seconds)
            await self.counters.clear(f"fail:{subject}")  # after the block, a new count begins
            crossed.append(Crossing(kind, strike, seconds))
        return crossed

    async def succeeded(self, subjects: Subjects) -> None:
        if subjects.key:
            await self.counters.clear(f"fail:{subjects.key}")
            await self.counters.clear(f"strike:{subjects.key}")


async def authenticate_guarded(
    pool: asyncpg.Pool,
    cache: KeyCache,
    backoff: AuthBackoff,
    presented: str,
    address: str | None,
    *,
    lookups: KeySource | None = None,
) -> Principal:
    """The Principal behind `presented`, sent from `address`; `BackedOff` (429) while the key id or the
    address is blocked (the secret unchecked), `Unauthorized` (401) for a key that is malformed, unknown,
    revoked or of a disabled person (counted). Keys are read from `lookups` (default: `pool`, where a crossed
    threshold is reported)."""
    parsed = keys.parse(presented)
    subjects = backoff.subjects(parsed, address)
    wait, had_failures = await backoff.state(subjects)
    if wait is not None:
        AUTH_FAILURES.labels(reason="backed_off").inc()
        raise BackedOff(
            "too many failed authentications for this key or from this address:"
            f" retry in {wait_phrase(wait)}",
            retry_after=wait,
        )
    found = None if parsed is None else await authenticate_parsed(lookups or pool, cache, parsed)
    if found is None:
        AUTH_FAILURES.labels(reason="malformed" if parsed is None else "invalid").inc()
        crossed = await backoff.failed(subjects)
        if crossed:
            await _report(pool, parsed, address, crossed, backoff)
        raise Unauthorized(INVALID)
    if had_failures:
        await backoff.succeeded(subjects)
    return found


async def _report(
    pool: asyncpg.Pool,
    parsed: keys.ParsedKey | None,
    address: str | None,
    crossed: list[Crossing],
    backoff: AuthBackoff,
) -> None:
    """One audit event for the threshold crossed, in the firm the presented key names (when it exists)."""
    details = {
        "address": address,
        "subjects": [c.subject for c in crossed],
        "failures": backoff.max_failures,
        "window_seconds": backoff.window,
        "strike": max(c.strike for c in crossed),
        "blocked_seconds": max(c.seconds for c in crossed),
    }
    if parsed is not None:
        async with unit_of_work(pool) as conn:
            known = await _KNOWN.fetchrow(conn, firm_id=parsed.firm_id, key_id=parsed.key_id)
            if known is not None and known["firm"]:
                await record(
                    conn,
                    firm_id=parsed.firm_id,
                    actor=anonymous(address),
                    action="api_key.authentication_backed_off",
                    target_type="api_key",
                    target_id=parsed.key_id,
                    details={**details, "key_exists": bool(known["key"])},
                )
                return
    log.warning("authentication backed off with no firm to record it in: %s", details)
