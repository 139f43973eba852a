"""Console sessions, kept in PostgreSQL: create one at sign-in, look one up per request, end one at sign-out.

The browser holds a random 32-byte token (cookie `COOKIE`); the table holds only its SHA-256, so a copy of the
table opens no session. Each session carries its own CSRF token, which every form it renders must send back.
A session ends `session_hours` after sign-in (no sliding expiry), at sign-out, or when its user is disabled.
Times come from the caller's clock (`now`, the current UTC time by default), so tests can move it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from wealthgate.audit.record import record
from wealthgate.db.sql import Sql
from wealthgate.people import csrf
from wealthgate.people.users import User
from wealthgate.settings import Settings

COOKIE = "wg_session"
_TOKEN_MAX = 128  # a real token has 43 characters; longer input is refused before hashing

_INSERT = Sql(
    "INSERT INTO user_sessions (token_hash, firm_id, user_id, csrf_token, created_at, expires_at)"
    " VALUES (:token_hash, :firm_id, :user_id, :csrf_token, :now, :expires_at)"
)
_SIGNED_IN = Sql(
    "UPDATE users SET last_sign_in_at = :now WHERE firm_id = :firm_id AND id = :user_id RETURNING *"
)
_LOOKUP = Sql(
    "SELECT u.*, s.csrf_token, s.expires_at AS session_expires_at"
    " FROM user_sessions s JOIN users u ON u.firm_id = s.firm_id AND u.id = s.user_id"
    " WHERE s.token_hash = :token_hash AND s.revoked_at IS NULL AND s.expires_at > :now"
    " AND u.disabled_at IS NULL"
)
_REVOKE = Sql(
    "UPDATE user_sessions SET revoked_at = :now WHERE token_hash = :token_hash AND revoked_at IS NULL"
    " RETURNING firm_id, user_id"
)
_USER = Sql("SELECT * FROM users WHERE firm_id = :firm_id AND id = :user_id")


@dataclass(frozen=True, slots=True)
class Session:
    """A live session: who is signed in, the CSRF token its forms carry, when it ends."""

    user: User
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session and the token to set as the cookie (shown once: only its hash is stored)."""

    token: str
    session: Session


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


async def create(
    conn: asyncpg.Connection, user: User, settings: Settings, *, now: datetime | None = None
) -> SignedIn:
    """A session for `user` (already authenticated by the caller), recorded as their latest sign-in.
    Not audited here: the sign-in that calls this records `user.signed_in` with how the person proved who
    they are."""
    now = _now(now)
    token = secrets.token_urlsafe(32)
    csrf_token = csrf.new_token()
    expires_at = now + timedelta(hours=settings.session_hours)
    await _INSERT.execute(
        conn,
        token_hash=token_hash(token),
        firm_id=user.firm_id,
        user_id=user.id,
        csrf_token=csrf_token,
        now=now,
        expires_at=expires_at,
    )
    row = await _SIGNED_IN.fetchrow(conn, now=now, firm_id=user.firm_id, user_id=user.id)
    return SignedIn(token, Session(user if row is None else User.of(row), csrf_token, expires_at))


async def lookup(
    conn: asyncpg.Connection, token: str | None, *, now: datetime | None = None
) -> Session | None:
    """The session this cookie token opens; None if it is unknown, expired, revoked or its user disabled."""
    if not token or len(token) > _TOKEN_MAX:
        return None
    row = await _LOOKUP.fetchrow(conn, token_hash=token_hash(token), now=_now(now))
    if row is None:
        return None
    return Session(User.of(row), row["csrf_token"], row["session_expires_at"])


async def end(
    conn: asyncpg.Connection,
    token: str | None,
    *,
    address: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Sign out: revoke the session (audited `user.signed_out`). False when there was no live session to end
    (unknown, already ended), which records nothing."""
    if not token or len(token) > _TOKEN_MAX:
        return False
    ended = await _REVOKE.fetchrow(conn, token_hash=token_hash(token), now=_now(now))
    if ended is None:
        return False
    row = await _USER.fetchrow(conn, firm_id=ended["firm_id"], user_id=ended["user_id"])
    if row is None:  # the foreign key makes this impossible; say so rather than record a nameless event
        raise RuntimeError("a session's user is missing")
    user = User.of(row)
    await record(
        conn,
        firm_id=user.firm_id,
        actor=user.principal().actor(),
        action="user.signed_out",
        target_type="user",
        target_id=user.id,
        details={"address": address},
    )
    return True
