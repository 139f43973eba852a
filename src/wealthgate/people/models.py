"""Users, their sessions and the sign-in throttle.

A user belongs to one firm and holds one role: `admin` (users, keys, policy; and what compliance may do),
`compliance` (review, audit) or `advisor` (bound to one advisor's book, `advisor_id`). Passwords are stored as
argon2id hashes only; a user signed in through OpenID Connect may have no password at all. Emails are unique
across firms, because a person signs in with an email alone. Sessions are server-side: the cookie carries a
random token, the table its SHA-256 (a stolen table holds no usable session), and each session its own CSRF
token for the forms it renders.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from wealthgate.db.base import Base, in_list
from wealthgate.vocabulary import USER_ROLES


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        ForeignKeyConstraint(["firm_id", "advisor_id"], ["advisors.firm_id", "advisors.id"]),
        UniqueConstraint("email"),
        UniqueConstraint("oidc_issuer", "oidc_subject"),
        CheckConstraint(in_list("role", USER_ROLES), name="role"),
        CheckConstraint("(role = 'advisor') = (advisor_id IS NOT NULL)", name="advisor_binding"),
        CheckConstraint("email = lower(email) AND position('@' in email) > 1", name="email"),
    )

    firm_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("firms.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    advisor_id: Mapped[int | None] = mapped_column(BigInteger)
    password_hash: Mapped[str | None] = mapped_column(Text)
    oidc_issuer: Mapped[str | None] = mapped_column(Text)
    oidc_subject: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    __tablename__ = "user_sessions"
    __table_args__ = (ForeignKeyConstraint(["firm_id", "user_id"], ["users.firm_id", "users.id"]),)

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    firm_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    csrf_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInFailure(Base):
    """Failed sign-ins per subject (`email:<address>` or `addr:<client address>`): back-off and lockout."""

    __tablename__ = "sign_in_failures"

    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
