"""Password sign-in: check the throttle, the password and the user, then open a session; every outcome is
recorded (audit events in the user's firm, the throttle's counts).

`sign_in` owns its transaction, because a refused attempt must still be recorded: it commits the failure and
then raises `SignInRefused`. Give it a connection that is not inside a transaction (in a route: acquire one
from `DbPool`, not `WriteConn`, whose rollback on the raise would erase the failure and so the throttle).

What a stranger can learn is kept to nothing: an unknown email and a wrong password get the same message, the
same throttle and the same work (a password is verified against a fixed hash when there is no real one), and
only the right password of a disabled account hears that it is disabled. An attempt at an email no user has
cannot be an audit event (every event belongs to a firm's chain, and no firm is concerned): it is counted by
the throttle and logged instead.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.db.sql import Sql
from wealthgate.errors import DomainError
from wealthgate.people import passwords, sessions, throttle
from wealthgate.people.sessions import SignedIn
from wealthgate.people.users import User, by_email, normalized_email
from wealthgate.settings import Settings

__all__ = ["SignInRefused", "SignedIn", "anonymous", "sign_in"]

log = logging.getLogger(__name__)

WRONG = "the email or password is not right"
DISABLED = "this account is disabled: ask an administrator of your firm"
_EMAIL_MAX = 320  # RFC 5321's limit; a longer one is no user's and is not worth a lookup
_ADDRESS_MAX = 100  # an IPv6 address with a zone fits; anything longer is cut, not stored whole
_DUMMY_PASSWORD = "not anybody's password"  # noqa: S105  (hashed only to take a real check's time)
_REHASH = Sql("UPDATE users SET password_hash = :password_hash WHERE firm_id = :firm_id AND id = :user_id")


class SignInRefused(DomainError):
    """A refused sign-in. `retry_after` (seconds) is set when the email or address is blocked for now."""

    status = 401
    slug = "sign-in-refused"
    title = "Sign-in refused"

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@functools.cache
def _dummy_hash() -> str:
    """A hash with the current parameters, verified when there is no real one, so both take as long."""
    return passwords.hash_password(_DUMMY_PASSWORD)


def anonymous(address: str | None) -> dict[str, Any]:
    """The actor of an attempt nobody has been recognised in yet."""
    return {"type": "anonymous", "address": address}


def _try_again(seconds: int) -> str:
    return f"try again in {seconds // 60} minutes" if seconds >= 120 else f"try again in {seconds} seconds"


async def sign_in(
    conn: asyncpg.Connection,
    *,
    email: str,
    password: str,
    address: str | None,
    settings: Settings,
    now: datetime | None = None,
) -> SignedIn:
    """A new session for the person with this email and password, or `SignInRefused` (401) after the
    refusal has been committed. `address` is the client's address (the throttle's second subject)."""
    if conn.is_in_transaction():
        raise RuntimeError("sign_in commits refused attempts itself: call it outside a transaction")
    now = now or datetime.now(UTC)
    email = normalized_email(email)[: _EMAIL_MAX + 1]
    refusal: SignInRefused | None = None
    signed: SignedIn | None = None
    async with conn.transaction():
        try:
            signed = await _attempt(conn, email, password, address, settings, now)
        except SignInRefused as refused:
            refusal = refused  # leave the block normally, so the transaction commits what was recorded
    if refusal is not None:
        raise refusal
    if signed is None:  # _attempt returns or raises; this only tells the type checker
        raise RuntimeError("sign-in ended without an outcome")
    return signed


async def _attempt(
    conn: asyncpg.Connection,
    email: str,
    password: str,
    address: str | None,
    settings: Settings,
    now: datetime,
) -> SignedIn:
    email_subject = throttle.email_subject(email)
    subjects = [email_subject] + ([throttle.address_subject(address[:_ADDRESS_MAX])] if address else [])
    await throttle.hold(conn, email_subject, now=now)
    found = await by_email(conn, email) if len(email) <= _EMAIL_MAX else None
    user, stored = found if found is not None else (None, None)

    until = await throttle.blocked_until(conn, subjects, now=now)
    if until is not None:  # refused before the password is looked at
        wait = throttle.seconds_until(until, now)
        await _failed(conn, user, email, address, "throttled")
        raise SignInRefused(f"too many failed sign-ins: {_try_again(wait)}", retry_after=wait)

    # argon2 takes tens of milliseconds of CPU on purpose: off the event loop, so other requests go on
    checked = stored if stored is not None else await asyncio.to_thread(_dummy_hash)
    right = await asyncio.to_thread(passwords.verify, checked, password) and stored is not None
    if user is None or not right or user.disabled_at is not None:
        reason = "unknown" if user is None else "wrong_password" if not right else "disabled"
        await _failed(conn, user, email, address, reason)
        counted = [
            await throttle.count_failure(conn, s, lockable=s == email_subject, settings=settings, now=now)
            for s in subjects
        ]
        for c in counted:
            if c.locked_out:
                await _locked_out(conn, user, email, address, c, settings)
        blocks = [c.blocked_until for c in counted if c.blocked_until is not None]
        retry = throttle.seconds_until(max(blocks), now) if blocks else None
        if reason == "disabled":
            raise SignInRefused(DISABLED, retry_after=retry)
        raise SignInRefused(WRONG if retry is None else f"{WRONG}; {_try_again(retry)}", retry_after=retry)

    await throttle.clear(conn, email_subject)
    if stored is not None and passwords.needs_rehash(stored):
        rehashed = await asyncio.to_thread(passwords.hash_password, password)
        await _REHASH.execute(conn, password_hash=rehashed, firm_id=user.firm_id, user_id=user.id)
    return await open_session(conn, user, settings, now, {"method": "password", "address": address})


async def open_session(
    conn: asyncpg.Connection, user: User, settings: Settings, now: datetime, details: dict[str, Any]
) -> SignedIn:
    """A session for `user` and its `user.signed_in` event, whatever proved who they are (`details`: how, and
    from where)."""
    signed = await sessions.create(conn, user, settings, now=now)
    await record(
        conn,
        firm_id=user.firm_id,
        actor=signed.session.user.principal().actor(),
        action="user.signed_in",
        target_type="user",
        target_id=user.id,
        details=details,
    )
    return signed


async def _failed(
    conn: asyncpg.Connection, user: User | None, email: str, address: str | None, reason: str
) -> None:
    if user is None:
        log.info("sign-in failed for an email no user has: %r from %s (%s)", email, address, reason)
        return
    await record(
        conn,
        firm_id=user.firm_id,
        actor=anonymous(address),
        action="user.sign_in_failed",
        target_type="user",
        target_id=user.id,
        details={"email": email, "reason": reason, "address": address},
    )


async def _locked_out(
    conn: asyncpg.Connection,
    user: User | None,
    email: str,
    address: str | None,
    counted: throttle.Counted,
    settings: Settings,
) -> None:
    until = counted.blocked_until.isoformat() if counted.blocked_until else None
    if user is None:
        log.warning("sign-in locked out for an email no user has: %r from %s until %s", email, address, until)
        return
    await record(
        conn,
        firm_id=user.firm_id,
        actor=anonymous(address),
        action="user.locked_out",
        target_type="user",
        target_id=user.id,
        details={
            "email": email,
            "address": address,
            "failures": counted.failures,
            "minutes": settings.sign_in_lockout_minutes,
            "until": until,
        },
    )
