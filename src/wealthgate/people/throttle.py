"""The sign-in throttle: exponential back-off and lockout over failed sign-ins, kept in `sign_in_failures`.

Two subjects count every failure: the email typed (`email:<address>`, whether or not such a user exists, so
the throttle reveals nothing about which emails are real) and the client address (`addr:<address>`, which
slows one machine guessing across many emails). After a subject's third failure it is blocked for 2^(n-3)
seconds (1 s, 2 s, 4 s, ...), never longer than the lockout; an email reaching `sign_in_max_failures` failures
is locked for `sign_in_lockout_minutes`. Failures are counted within a window as long as the lockout, from
the first one; once the window has passed the next failure starts a new count. A success clears the email's
count (not the address's: one good password must not wipe out a machine's guesses at other accounts).

While a subject is blocked, an attempt is refused before any password is checked and counts nothing more.
`hold` locks the email's row for the attempt, so parallel guesses at one email are decided one after the
other and none slips past a block the previous one set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from wealthgate.db.sql import Sql
from wealthgate.settings import Settings

BACK_OFF_AFTER = 3  # failures before the first back-off
_MAX_EXPONENT = 30  # 2^30 s is far beyond any lockout; keeps the arithmetic small

_HOLD = Sql(
    "INSERT INTO sign_in_failures AS f (subject, failures, first_at, last_at)"
    " VALUES (:subject, 0, :now, :now)"
    " ON CONFLICT (subject) DO UPDATE SET subject = f.subject RETURNING blocked_until"
)
_BLOCKED_UNTIL = Sql(
    "SELECT max(blocked_until) FROM sign_in_failures WHERE subject = ANY(:subjects::text[])"
    " AND blocked_until > :now"
)
# A row that has counted nothing yet (`hold` made it) or whose window has passed starts a new count.
_COUNT = Sql(
    """
INSERT INTO sign_in_failures AS f (subject, failures, first_at, last_at) VALUES (:subject, 1, :now, :now)
ON CONFLICT (subject) DO UPDATE SET
    failures = CASE WHEN f.failures = 0 OR f.first_at <= :window_start THEN 1 ELSE f.failures + 1 END,
    first_at = CASE WHEN f.failures = 0 OR f.first_at <= :window_start THEN :now ELSE f.first_at END,
    last_at = :now
RETURNING failures
"""
)
_BLOCK = Sql("UPDATE sign_in_failures SET blocked_until = :until WHERE subject = :subject")
_CLEAR = Sql("DELETE FROM sign_in_failures WHERE subject = :subject")


def email_subject(email: str) -> str:
    return f"email:{email}"


def address_subject(address: str) -> str:
    return f"addr:{address}"


@dataclass(frozen=True, slots=True)
class Counted:
    """A failure counted against one subject: the count in the window, and the block it set (if any)."""

    subject: str
    failures: int
    blocked_until: datetime | None
    locked_out: bool  # this failure reached the lockout


def seconds_until(until: datetime, now: datetime) -> int:
    """Whole seconds to wait (at least 1), for a Retry-After."""
    return max(1, math.ceil((until - now).total_seconds()))


def block_for(failures: int, *, lockable: bool, settings: Settings) -> tuple[timedelta | None, bool]:
    """How long a subject with `failures` in its window is blocked, and whether that is the lockout."""
    lockout = timedelta(minutes=settings.sign_in_lockout_minutes)
    if lockable and failures >= settings.sign_in_max_failures:
        return lockout, True
    if failures >= BACK_OFF_AFTER:
        back_off = timedelta(seconds=2 ** min(failures - BACK_OFF_AFTER, _MAX_EXPONENT))
        return min(back_off, lockout), False
    return None, False


async def hold(conn: asyncpg.Connection, subject: str, *, now: datetime) -> None:
    """Lock `subject`'s row until the transaction ends (making it if need be), serialising attempts."""
    await _HOLD.fetchrow(conn, subject=subject, now=now)


async def blocked_until(conn: asyncpg.Connection, subjects: list[str], *, now: datetime) -> datetime | None:
    """The latest moment any of `subjects` is blocked until, or None if none is blocked now."""
    until: datetime | None = await _BLOCKED_UNTIL.fetchval(conn, subjects=subjects, now=now)
    return until


async def count_failure(
    conn: asyncpg.Connection, subject: str, *, lockable: bool, settings: Settings, now: datetime
) -> Counted:
    """Count one failure against `subject` and block it as the count requires."""
    window_start = now - timedelta(minutes=settings.sign_in_lockout_minutes)
    failures: int = await _COUNT.fetchval(conn, subject=subject, now=now, window_start=window_start)
    block, locked_out = block_for(failures, lockable=lockable, settings=settings)
    until = None if block is None else now + block
    if until is not None:
        await _BLOCK.execute(conn, subject=subject, until=until)
    return Counted(subject, failures, until, locked_out)


async def clear(conn: asyncpg.Connection, subject: str) -> None:
    await _CLEAR.execute(conn, subject=subject)
