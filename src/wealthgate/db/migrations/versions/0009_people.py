"""people: users with roles, server-side sessions, the sign-in throttle; keys and reviews name a person

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:00:00

- `users`: admin, compliance or advisor (bound to one advisor's book); argon2id password hashes only; an
  OpenID Connect identity (issuer, subject) for single sign-on; emails unique across firms (sign-in by email).
- `user_sessions`: the SHA-256 of each session token (never the token), its CSRF token, expiry, revocation.
- `sign_in_failures`: failures per email and per client address, for exponential back-off and lockout.
- `api_keys.user_id`: the person a key acts for; a review through the API is recorded as that person.
- `recommendations.reviewed_by_user_id`: who approved or rejected, as a user, never a string a key carries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("firm_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("advisor_id", sa.BigInteger(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("oidc_issuer", sa.Text(), nullable=True),
        sa.Column("oidc_subject", sa.Text(), nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("last_sign_in_at", TS, nullable=True),
        sa.Column("disabled_at", TS, nullable=True),
        sa.CheckConstraint("role IN ('admin', 'compliance', 'advisor')", name=op.f("ck_users_role")),
        sa.CheckConstraint(
            "(role = 'advisor') = (advisor_id IS NOT NULL)", name=op.f("ck_users_advisor_binding")
        ),
        sa.CheckConstraint(
            "email = lower(email) AND position('@' in email) > 1", name=op.f("ck_users_email")
        ),
        sa.ForeignKeyConstraint(
            ["firm_id", "advisor_id"],
            ["advisors.firm_id", "advisors.id"],
            name=op.f("fk_users_firm_id_advisor_id_advisors"),
        ),
        sa.ForeignKeyConstraint(["firm_id"], ["firms.id"], name=op.f("fk_users_firm_id_firms")),
        sa.PrimaryKeyConstraint("firm_id", "id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("oidc_issuer", "oidc_subject", name=op.f("uq_users_oidc_issuer_oidc_subject")),
    )
    op.create_table(
        "user_sessions",
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("firm_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["firm_id", "user_id"],
            ["users.firm_id", "users.id"],
            name=op.f("fk_user_sessions_firm_id_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_user_sessions")),
    )
    op.create_table(
        "sign_in_failures",
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("last_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("blocked_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_sign_in_failures")),
    )
    op.add_column("api_keys", sa.Column("user_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_api_keys_firm_id_user_id_users"),
        "api_keys",
        "users",
        ["firm_id", "user_id"],
        ["firm_id", "id"],
    )
    op.add_column("recommendations", sa.Column("reviewed_by_user_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_recommendations_firm_id_reviewed_by_user_id_users"),
        "recommendations",
        "users",
        ["firm_id", "reviewed_by_user_id"],
        ["firm_id", "id"],
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_recommendations_firm_id_reviewed_by_user_id_users"), "recommendations", type_="foreignkey"
    )
    op.drop_column("recommendations", "reviewed_by_user_id")
    op.drop_constraint(op.f("fk_api_keys_firm_id_user_id_users"), "api_keys", type_="foreignkey")
    op.drop_column("api_keys", "user_id")
    op.drop_table("sign_in_failures")
    op.drop_table("user_sessions")
    op.drop_table("users")
