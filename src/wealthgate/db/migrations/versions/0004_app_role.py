"""a least-privilege role for the service: no UPDATE, DELETE or TRUNCATE on the audit tables

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:40:00

The role `wealthgate_app` (NOLOGIN) is created when the migrating user may create roles (the embedded server,
a superuser); on a managed server an administrator creates it first (docs/operations.md). Runtime connections
`SET ROLE wealthgate_app` when it exists, so even a compromised service cannot rewrite the audit trail: the
privileges are missing, and the append-only triggers stand behind them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "wealthgate_app"
AUDIT_TABLES = ("audit_events", "audit_checkpoints")


def upgrade() -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                IF (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
                    CREATE ROLE {ROLE} NOLOGIN;
                ELSE
                    RAISE NOTICE 'role {ROLE} is missing and this user cannot create it; see docs/operations.md';
                    RETURN;
                END IF;
            END IF;
            EXECUTE 'GRANT USAGE ON SCHEMA public TO {ROLE}';
            EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}';
            EXECUTE 'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {ROLE}';
            EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON {", ".join(AUDIT_TABLES)} FROM {ROLE}';
            EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}';
            EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {ROLE}';
        END $$
        """  # noqa: S608  (ROLE and AUDIT_TABLES are this revision's constants)
    )


def downgrade() -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {ROLE}';
                EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {ROLE}';
                EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}';
                EXECUTE 'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}';
                EXECUTE 'REVOKE USAGE ON SCHEMA public FROM {ROLE}';
            END IF;
        END $$
        """  # noqa: S608  (ROLE and AUDIT_TABLES are this revision's constants)
    )
