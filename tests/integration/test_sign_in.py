"""Password sign-in, the throttle and console sessions against real PostgreSQL, as the service's own role.

Time is the caller's clock (`now=`), so back-off and lockout are tested by moving it, never by sleeping and
never by editing `sign_in_failures`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import pytest
from argon2 import PasswordHasher

from tests.support import execute, fetch, fetchval, with_conn
from wealthgate.auth.principal import operator_actor
from wealthgate.db.pool import connect
from wealthgate.people import passwords, sessions, signin, throttle
from wealthgate.people.signin import SignInRefused
from wealthgate.people.users import User, create_user, disable_user
from wealthgate.settings import Settings

T = TypeVar("T")
PASSWORD = "correct horse battery staple"  # noqa: S105  (a test user's password)
GUESS = "a wrong guess"
T0 = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
ADDRESS = "192.0.2.10"


def run(db_url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run `work` on one connection as the service's least-privilege role, outside any transaction."""
    return with_conn(db_url, work, as_owner=False)


def make_user(db_url: str, *, role: str = "compliance", password: str | None = PASSWORD) -> User:
    async def work(conn: asyncpg.Connection) -> User:
        async with conn.transaction():
            return await create_user(
                conn,
                firm_id=1,
                email=f"p1-{uuid.uuid4().hex[:8]}@Example.test",
                name="Rita Reviewer",
                role=role,
                advisor_id=None,
                password=password,
                actor=operator_actor(1, "pytest"),
            )

    return run(db_url, work)


def attempt(
    db_url: str,
    settings: Settings,
    email: str,
    password: str,
    *,
    now: datetime = T0,
    address: str | None = ADDRESS,
) -> signin.SignedIn:
    return run(
        db_url,
        lambda conn: signin.sign_in(
            conn, email=email, password=password, address=address, settings=settings, now=now
        ),
    )


def refused(db_url: str, settings: Settings, email: str, password: str, **kw: Any) -> SignInRefused:
    with pytest.raises(SignInRefused) as caught:
        attempt(db_url, settings, email, password, **kw)
    assert caught.value.status == 401
    return caught.value


def events(db_url: str, action: str, user: User) -> list[dict[str, Any]]:
    rows = fetch(
        db_url,
        "SELECT actor, details FROM audit_events WHERE firm_id = $1 AND action = $2 AND target_type = 'user'"
        " AND target_id = $3 ORDER BY id",
        user.firm_id,
        action,
        str(user.id),
    )
    return [{"actor": r["actor"], "details": r["details"]} for r in rows]


def failures(db_url: str, subject: str) -> int | None:
    count: int | None = fetchval(db_url, "SELECT failures FROM sign_in_failures WHERE subject = $1", subject)
    return count


# ---- signing in -------------------------------------------------------------------------------------------


def test_the_right_password_opens_a_session_and_is_audited(db_url: str, settings: Settings) -> None:
    user = make_user(db_url)
    signed = attempt(db_url, settings, f"  {user.email.upper()} ", PASSWORD)  # typed carelessly
    assert signed.session.user.id == user.id
    assert signed.session.user.last_sign_in_at == T0
    assert signed.session.expires_at == T0 + timedelta(hours=settings.session_hours)
    assert len(signed.token) >= 43
    assert len(signed.session.csrf_token) >= 43
    stored = fetch(db_url, "SELECT token_hash, csrf_token FROM user_sessions WHERE user_id = $1", user.id)
    assert [bytes(r["token_hash"]) for r in stored] == [sessions.token_hash(signed.token)]
    assert signed.token.encode() not in bytes(stored[0]["token_hash"])  # only the hash is kept
    assert fetchval(db_url, "SELECT last_sign_in_at FROM users WHERE id = $1", user.id) == T0
    [event] = events(db_url, "user.signed_in", user)
    assert event["details"] == {"method": "password", "address": ADDRESS}
    assert event["actor"]["type"] == "user"
    assert event["actor"]["user_id"] == user.id
    assert event["actor"]["email"] == user.email


def test_a_wrong_password_and_an_unknown_email_hear_the_same(db_url: str, settings: Settings) -> None:
    user = make_user(db_url)
    wrong = refused(db_url, settings, user.email, "not the password at all")
    unknown_email = f"nobody-{uuid.uuid4().hex[:6]}@example.test"
    unknown = refused(db_url, settings, unknown_email.upper(), PASSWORD)
    assert wrong.detail == unknown.detail == signin.WRONG
    assert wrong.retry_after is None
    assert unknown.retry_after is None
    [event] = events(db_url, "user.sign_in_failed", user)
    assert event["details"] == {"email": user.email, "reason": "wrong_password", "address": ADDRESS}
    assert event["actor"] == {"type": "anonymous", "address": ADDRESS}
    # the unknown email is no firm's event, but the throttle counted it (committed despite the refusal)
    assert failures(db_url, f"email:{unknown_email}") == 1
    assert failures(db_url, f"email:{user.email}") == 1
    assert failures(db_url, f"addr:{ADDRESS}") == 2
    assert fetchval(db_url, "SELECT count(*) FROM user_sessions") == 0


def test_an_unknown_email_costs_a_password_check_too(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So how long a refusal takes does not tell which emails exist (nor which users sign on elsewhere)."""
    checked: list[str] = []
    real = passwords.verify

    def spy(stored: str | None, password: str) -> bool:
        checked.append("hash" if stored else "none")
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify", spy)
    sso_only = make_user(db_url, password=None)
    refused(db_url, settings, "nobody@example.test", PASSWORD)
    refused(db_url, settings, sso_only.email, PASSWORD)
    assert checked == ["hash", "hash"]


def test_a_disabled_user_cannot_sign_in(db_url: str, settings: Settings) -> None:
    user = make_user(db_url)

    async def disable(conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            await disable_user(conn, firm_id=1, user_id=user.id, actor=operator_actor(1, "pytest"))

    run(db_url, disable)
    assert refused(db_url, settings, user.email, "a wrong guess").detail == signin.WRONG
    assert refused(db_url, settings, user.email, PASSWORD).detail == signin.DISABLED
    reasons = [e["details"]["reason"] for e in events(db_url, "user.sign_in_failed", user)]
    assert reasons == ["wrong_password", "disabled"]


def test_an_old_hash_is_upgraded_at_sign_in(db_url: str, settings: Settings) -> None:
    user = make_user(db_url)
    # a hash made with weaker parameters, as an older release would have stored it
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    execute(db_url, "UPDATE users SET password_hash = $1 WHERE id = $2", old, user.id)
    assert passwords.needs_rehash(old)
    attempt(db_url, settings, user.email, PASSWORD)
    new = fetchval(db_url, "SELECT password_hash FROM users WHERE id = $1", user.id)
    assert new != old
    assert not passwords.needs_rehash(new)
    assert passwords.verify(new, PASSWORD)


def test_sign_in_refuses_to_run_inside_a_transaction(db_url: str, settings: Settings) -> None:
    """A caller's rollback would erase the recorded failure, and with it the throttle."""
    user = make_user(db_url)

    async def work(conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            await signin.sign_in(conn, email=user.email, password=GUESS, address=ADDRESS, settings=settings)

    with pytest.raises(RuntimeError, match="outside a transaction"):
        run(db_url, work)


# ---- the throttle -----------------------------------------------------------------------------------------


def test_failures_back_off_exponentially_then_lock_the_email_out(db_url: str, settings: Settings) -> None:
    strict = settings.model_copy(update={"sign_in_max_failures": 5, "sign_in_lockout_minutes": 1})
    user = make_user(db_url)
    at = T0
    addresses = iter(f"198.51.100.{i}" for i in range(1, 50))  # one per attempt: only the email counts

    def fail(now: datetime, password: str = GUESS) -> SignInRefused:
        return refused(db_url, strict, user.email, password, now=now, address=next(addresses))

    assert fail(at).retry_after is None
    assert fail(at).retry_after is None
    third = fail(at)
    assert third.retry_after == 1
    assert third.detail.startswith(signin.WRONG)
    # blocked: even the right password is refused, unchecked, and counts nothing more
    blocked = fail(at + timedelta(milliseconds=500), PASSWORD)
    assert blocked.retry_after == 1
    assert "too many failed sign-ins" in blocked.detail
    assert failures(db_url, f"email:{user.email}") == 3
    assert fail(at + timedelta(seconds=1)).retry_after == 2  # 4th: 2 s
    assert fail(at + timedelta(seconds=2)).retry_after == 1  # still blocked until 3 s
    fifth = fail(at + timedelta(seconds=3))  # 5th: the lockout, one minute
    assert fifth.retry_after == 60
    [locked] = events(db_url, "user.locked_out", user)
    assert locked["details"]["failures"] == 5
    assert locked["details"]["minutes"] == 1
    assert fail(at + timedelta(seconds=33), PASSWORD).retry_after == 30
    reasons = [e["details"]["reason"] for e in events(db_url, "user.sign_in_failed", user)]
    assert reasons == ["wrong_password"] * 3 + ["throttled", "wrong_password"] * 2 + ["throttled"]
    # once the lockout has passed, the right password works and clears the email's count
    signed = attempt(db_url, strict, user.email, PASSWORD, now=at + timedelta(seconds=64), address=ADDRESS)
    assert signed.session.user.id == user.id
    assert failures(db_url, f"email:{user.email}") is None


def test_the_back_off_is_capped_at_the_lockout(db_url: str, settings: Settings) -> None:
    strict = settings.model_copy(update={"sign_in_max_failures": 100, "sign_in_lockout_minutes": 1})
    assert throttle.block_for(9, lockable=True, settings=strict) == (timedelta(seconds=60), False)
    assert throttle.block_for(40, lockable=True, settings=strict) == (timedelta(seconds=60), False)
    assert throttle.block_for(100, lockable=True, settings=strict) == (timedelta(minutes=1), True)
    assert throttle.block_for(100, lockable=False, settings=strict) == (timedelta(seconds=60), False)
    assert throttle.block_for(2, lockable=True, settings=strict) == (None, False)


def test_failures_outside_the_window_start_a_new_count(db_url: str, settings: Settings) -> None:
    strict = settings.model_copy(update={"sign_in_max_failures": 3, "sign_in_lockout_minutes": 1})
    user = make_user(db_url)
    refused(db_url, strict, user.email, "guess", now=T0, address="198.51.100.1")
    refused(db_url, strict, user.email, "guess", now=T0 + timedelta(seconds=10), address="198.51.100.2")
    later = refused(
        db_url, strict, user.email, "guess", now=T0 + timedelta(seconds=61), address="198.51.100.3"
    )
    assert later.retry_after is None  # a new window: this is failure 1, not 3
    assert failures(db_url, f"email:{user.email}") == 1


def test_one_address_guessing_many_emails_is_slowed(db_url: str, settings: Settings) -> None:
    user = make_user(db_url)
    for i in range(3):
        refused(db_url, settings, f"guess{i}@example.test", "guess", now=T0)
    # the address is blocked for a second: even a real user's right password waits, unchecked
    held = refused(db_url, settings, user.email, PASSWORD, now=T0)
    assert held.retry_after == 1
    assert [e["details"]["reason"] for e in events(db_url, "user.sign_in_failed", user)] == ["throttled"]
    # from another address the same person signs in at once
    attempt(db_url, settings, user.email, PASSWORD, now=T0, address="203.0.113.7")
    # a success clears the email's count, never the address's
    assert failures(db_url, f"addr:{ADDRESS}") == 3


def test_an_unknown_email_is_locked_out_like_a_real_one(db_url: str, settings: Settings) -> None:
    """Otherwise the lockout would tell which emails exist."""
    strict = settings.model_copy(update={"sign_in_max_failures": 3, "sign_in_lockout_minutes": 1})
    ghost = "ghost@example.test"
    for i in range(3):
        last = refused(
            db_url, strict, ghost, "guess", now=T0 + timedelta(seconds=4 * i), address=f"10.0.0.{i}"
        )
    assert last.retry_after == 60


def test_parallel_guesses_at_one_email_are_counted_one_by_one(db_url: str, settings: Settings) -> None:
    """The email's row is held for each attempt: of six simultaneous guesses, three are checked and counted
    (the third sets the back-off) and the rest are refused as throttled without a password check."""
    user = make_user(db_url)

    async def work(_: asyncpg.Connection) -> list[BaseException | signin.SignedIn]:
        async def one(i: int) -> signin.SignedIn:
            conn = await connect(db_url)
            try:
                return await signin.sign_in(
                    conn, email=user.email, password=GUESS, address=f"10.1.0.{i}", settings=settings, now=T0
                )
            finally:
                await conn.close()

        return await asyncio.gather(*(one(i) for i in range(6)), return_exceptions=True)

    outcomes = run(db_url, work)
    assert all(isinstance(o, SignInRefused) for o in outcomes)
    assert failures(db_url, f"email:{user.email}") == 3
    reasons = sorted(e["details"]["reason"] for e in events(db_url, "user.sign_in_failed", user))
    assert reasons == ["throttled"] * 3 + ["wrong_password"] * 3


# ---- sessions ---------------------------------------------------------------------------------------------


def test_a_session_is_found_until_it_expires(db_url: str, settings: Settings) -> None:
    user = make_user(db_url)
    signed = attempt(db_url, settings, user.email, PASSWORD)
    ends = T0 + timedelta(hours=settings.session_hours)

    def look(token: str | None, now: datetime) -> sessions.Session | None:
        return run(db_url, lambda conn: sessions.lookup(conn, token, now=now))

    found = look(signed.token, T0 + timedelta(hours=1))
    assert found is not None
    assert found.user.id == user.id
    assert found.user.role == "compliance"
    assert found.csrf_token == signed.session.csrf_token
    assert found.expires_at == ends
    assert look(signed.token, ends - timedelta(seconds=1)) is not None
    assert look(signed.token, ends) is None  # expired
    assert look(signed.token + "x", T0) is None
    assert look("", T0) is None
    assert look(None, T0) is None
    assert look("x" * 5000, T0) is None


def test_signing_out_ends_the_session_and_is_audited(db_url: str, settings: Settings) -> None:
    user = make_user(db_url)
    signed = attempt(db_url, settings, user.email, PASSWORD)
    other = attempt(db_url, settings, user.email, PASSWORD)  # a second browser

    async def sign_out(conn: asyncpg.Connection) -> bool:
        async with conn.transaction():
            return await sessions.end(conn, signed.token, address=ADDRESS, now=T0 + timedelta(minutes=5))

    assert run(db_url, sign_out) is True
    assert run(db_url, sign_out) is False  # already ended: nothing more recorded
    assert run(db_url, lambda conn: sessions.lookup(conn, signed.token, now=T0)) is None
    assert run(db_url, lambda conn: sessions.lookup(conn, other.token, now=T0)) is not None
    [event] = events(db_url, "user.signed_out", user)
    assert event["actor"]["user_id"] == user.id
    assert event["details"] == {"address": ADDRESS}


def test_disabling_a_user_ends_their_sessions(db_url: str, settings: Settings) -> None:
    user = make_user(db_url)
    signed = attempt(db_url, settings, user.email, PASSWORD)

    async def disable(conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            await disable_user(conn, firm_id=1, user_id=user.id, actor=operator_actor(1, "pytest"))

    run(db_url, disable)
    assert run(db_url, lambda conn: sessions.lookup(conn, signed.token, now=T0)) is None
    # and a session that somehow escaped revocation is still refused: the user's state is checked too
    execute(db_url, "UPDATE user_sessions SET revoked_at = NULL WHERE user_id = $1", user.id)
    assert run(db_url, lambda conn: sessions.lookup(conn, signed.token, now=T0)) is None
