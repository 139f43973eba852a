"""Users: create (with a password, or none for single sign-on), list, disable, find; each change audited.

A user's role decides what they may do, in the same scopes API keys carry, so the console and the API share
one authorization model: an advisor reads only their own book; compliance reads the firm and reviews; an admin
does what compliance does and manages users, keys and the policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.auth.principal import Principal
from wealthgate.db.sql import Sql
from wealthgate.errors import Conflict, Invalid, NotFound
from wealthgate.people import passwords
from wealthgate.vocabulary import USER_ROLES

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset({"clients:read", "compliance:review", "admin"}),
    "compliance": frozenset({"clients:read", "compliance:review"}),
    "advisor": frozenset({"clients:read"}),
}

# `User.of` keeps only its own fields: the password hash read by `SELECT *` never leaves `by_email`.
_ADVISOR_EXISTS = Sql("SELECT 1 FROM advisors WHERE firm_id = :firm_id AND id = :advisor_id")
_FIRM_EXISTS = Sql("SELECT 1 FROM firms WHERE id = :firm_id")
_INSERT = Sql(
    "INSERT INTO users (firm_id, email, name, role, advisor_id, password_hash, oidc_issuer, oidc_subject)"
    " VALUES (:firm_id, :email, :name, :role, :advisor_id, :password_hash, :oidc_issuer, :oidc_subject)"
    " ON CONFLICT (email) DO NOTHING RETURNING *"
)
_LIST = Sql("SELECT * FROM users WHERE firm_id = :firm_id ORDER BY id")
_BY_ID = Sql("SELECT * FROM users WHERE firm_id = :firm_id AND id = :user_id")
_BY_EMAIL = Sql("SELECT * FROM users WHERE email = :email")
_DISABLE = Sql(
    "UPDATE users SET disabled_at = now() WHERE firm_id = :firm_id AND id = :user_id AND disabled_at IS NULL"
    " RETURNING *"
)
_REVOKE_SESSIONS = Sql(
    "UPDATE user_sessions SET revoked_at = now()"
    " WHERE firm_id = :firm_id AND user_id = :user_id AND revoked_at IS NULL"
)


@dataclass(frozen=True, slots=True)
class User:
    firm_id: int
    id: int
    email: str
    name: str
    role: str
    advisor_id: int | None
    created_at: datetime
    last_sign_in_at: datetime | None
    disabled_at: datetime | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> User:
        return cls(**{k: row[k] for k in cls.__slots__})

    def principal(self) -> Principal:
        """This person as a caller: the role's scopes, an advisor's binding to their own book."""
        return Principal(
            key_id=None,
            firm_id=self.firm_id,
            advisor_id=self.advisor_id,
            scopes=ROLE_SCOPES[self.role],
            name=self.name,
            owner=self.email,
            user_id=self.id,
            user_email=self.email,
        )


def normalized_email(email: str) -> str:
    return email.strip().lower()


async def create_user(
    conn: asyncpg.Connection,
    *,
    firm_id: int,
    email: str,
    name: str,
    role: str,
    advisor_id: int | None,
    password: str | None,
    actor: dict[str, Any],
    oidc_issuer: str | None = None,
    oidc_subject: str | None = None,
) -> User:
    """A new user (409 if the email is taken anywhere: a person signs in with an email alone)."""
    email = normalized_email(email)
    if "@" not in email[1:] or len(email) > 320:
        raise Invalid("an email address is needed", field="email")
    if role not in USER_ROLES:
        raise Invalid(f"role must be one of {', '.join(USER_ROLES)}", field="role")
    if (role == "advisor") != (advisor_id is not None):
        raise Invalid("an advisor user needs --advisor, and only an advisor user takes one", field="advisor")
    if not await _FIRM_EXISTS.fetchval(conn, firm_id=firm_id):
        raise NotFound(f"firm {firm_id} does not exist", field="firm")
    if advisor_id is not None and not await _ADVISOR_EXISTS.fetchval(
        conn, firm_id=firm_id, advisor_id=advisor_id
    ):
        raise NotFound(f"advisor {advisor_id} does not exist in firm {firm_id}", field="advisor")
    if password is not None and (why := passwords.problem_with(password)):
        raise Invalid(why, field="password")
    row = await _INSERT.fetchrow(
        conn,
        firm_id=firm_id,
        email=email,
        name=name.strip() or email,
        role=role,
        advisor_id=advisor_id,
        password_hash=None if password is None else passwords.hash_password(password),
        oidc_issuer=oidc_issuer,
        oidc_subject=oidc_subject,
    )
    if row is None:
        raise Conflict(f"a user with the email {email} already exists", field="email")
    user = User.of(row)
    await record(
        conn,
        firm_id=firm_id,
        actor=actor,
        action="user.created",
        target_type="user",
        target_id=user.id,
        details={"email": email, "role": role, "advisor_id": advisor_id, "sso": oidc_subject is not None},
    )
    return user


async def list_users(conn: asyncpg.Connection, firm_id: int) -> list[User]:
    return [User.of(r) for r in await _LIST.fetch(conn, firm_id=firm_id)]


async def get_user(conn: asyncpg.Connection, firm_id: int, user_id: int) -> User:
    row = await _BY_ID.fetchrow(conn, firm_id=firm_id, user_id=user_id)
    if row is None:
        raise NotFound("User not found")
    return User.of(row)


async def by_email(conn: asyncpg.Connection, email: str) -> tuple[User, str | None] | None:
    """The user with this email and their stored password hash (for sign-in only), or None."""
    row = await _BY_EMAIL.fetchrow(conn, email=normalized_email(email))
    return None if row is None else (User.of(row), row["password_hash"])


async def disable_user(
    conn: asyncpg.Connection, *, firm_id: int, user_id: int, actor: dict[str, Any]
) -> User:
    """Disable the user and end their sessions at once; their keys stay (revoke them separately)."""
    row = await _DISABLE.fetchrow(conn, firm_id=firm_id, user_id=user_id)
    if row is None:
        await get_user(conn, firm_id, user_id)  # 404 for a missing one
        raise Conflict("the user is already disabled")
    await _REVOKE_SESSIONS.execute(conn, firm_id=firm_id, user_id=user_id)
    await record(
        conn, firm_id=firm_id, actor=actor, action="user.disabled", target_type="user", target_id=user_id
    )
    return User.of(row)
