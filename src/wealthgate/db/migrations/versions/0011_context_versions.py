"""context versions: what each client's agent context is built from, stamped by triggers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:45:00

The context read (clients/context_cache.py) serves a rendered document again while nothing it is built from
has changed. "Nothing has changed" is decided here, in the database, in the same transaction as each change,
so no writer (the API, the CLI, an import, psql) can forget to say so:

- `client_versions` (one row per client): bumped by any insert, update or delete of the client's row, its
  accounts (cash), its positions and its transactions (the summary's recent transactions). Lots are not in
  the document (a holding's cost basis is `positions.cost_basis`), so they bump nothing.
- `firm_context_epochs` (one row per firm): bumped by changes to the firm's model portfolios and their weights
  (the summary's drift status).
- `context_epoch` (one row): bumped by changes to `securities` (names, classes, sectors, leverage and the last
  price that the triggers of 0002 copy from `prices`), and by a TRUNCATE of any table the document reads.

Every bump takes the next value of one sequence, `context_stamps`, so a stamp never repeats: not after a
rollback, nor for a client deleted and re-created under the same id. A row is bumped at most once per
transaction (a row whose `xmin` is already this transaction's was bumped by it: a reader sees the whole
transaction or none of it), so a ledger posting that touches a client's account, position and transaction
writes its version once. The triggers are statement-level with transition tables: a bulk statement bumps each
client once, locking the version rows in (firm, client) order so that two bulk writers cannot deadlock on them.
A securities update that changes no column (a back-filled older price) bumps nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "wealthgate_app"
CLIENT_TABLES = ("accounts", "positions", "transactions")  # rows with (firm_id, client_id)
MODEL_TABLES = ("model_portfolios", "model_portfolio_weights")  # rows with firm_id
READ_TABLES = ("clients", *CLIENT_TABLES, "securities", *MODEL_TABLES)  # what the document reads

FUNCTIONS = {
    # the versions of these (firm, client) pairs, once per transaction, locked in key order
    "context_bump_versions(firm_ids bigint[], client_ids bigint[]) RETURNS void LANGUAGE sql": """
        UPDATE client_versions v SET version = nextval('context_stamps')
        FROM (
            SELECT cv.firm_id, cv.client_id
            FROM client_versions cv
            JOIN (SELECT DISTINCT * FROM unnest(firm_ids, client_ids)) AS k (firm_id, client_id)
              ON cv.firm_id = k.firm_id AND cv.client_id = k.client_id
            WHERE cv.xmin <> pg_current_xact_id()::xid
            ORDER BY cv.firm_id, cv.client_id
            FOR UPDATE OF cv
        ) due
        WHERE v.firm_id = due.firm_id AND v.client_id = due.client_id
    """,
    # accounts, positions, transactions: the clients of the rows changed (before and after an update)
    "context_bump_rows() RETURNS trigger LANGUAGE plpgsql": """
        DECLARE
            firm_ids bigint[];
            client_ids bigint[];
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                SELECT array_agg(firm_id), array_agg(client_id) INTO firm_ids, client_ids
                FROM (SELECT firm_id, client_id FROM changed UNION SELECT firm_id, client_id FROM gone) k;
            ELSE
                SELECT array_agg(firm_id), array_agg(client_id) INTO firm_ids, client_ids
                FROM (SELECT DISTINCT firm_id, client_id FROM changed) k;
            END IF;
            IF firm_ids IS NOT NULL THEN
                PERFORM context_bump_versions(firm_ids, client_ids);
            END IF;
            RETURN NULL;
        END
    """,
    # clients: a new client starts with a fresh stamp; an updated one is bumped
    "context_bump_clients() RETURNS trigger LANGUAGE plpgsql": """
        DECLARE
            firm_ids bigint[];
            client_ids bigint[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO client_versions (firm_id, client_id, version)
                SELECT firm_id, id, nextval('context_stamps') FROM changed ORDER BY firm_id, id
                ON CONFLICT (firm_id, client_id) DO UPDATE SET version = EXCLUDED.version;
            ELSE
                SELECT array_agg(firm_id), array_agg(id) INTO firm_ids, client_ids FROM changed;
                IF firm_ids IS NOT NULL THEN
                    PERFORM context_bump_versions(firm_ids, client_ids);
                END IF;
            END IF;
            RETURN NULL;
        END
    """,
    # model portfolios and weights: the firms' epochs
    "context_bump_models() RETURNS trigger LANGUAGE plpgsql": """
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                INSERT INTO firm_context_epochs (firm_id, models)
                SELECT firm_id, nextval('context_stamps')
                FROM (SELECT firm_id FROM changed UNION SELECT firm_id FROM gone) f ORDER BY firm_id
                ON CONFLICT (firm_id) DO UPDATE SET models = EXCLUDED.models;
            ELSE
                INSERT INTO firm_context_epochs (firm_id, models)
                SELECT firm_id, nextval('context_stamps')
                FROM (SELECT DISTINCT firm_id FROM changed) f ORDER BY firm_id
                ON CONFLICT (firm_id) DO UPDATE SET models = EXCLUDED.models;
            END IF;
            RETURN NULL;
        END
    """,
    # securities (prices reach them through 0002's triggers), and any TRUNCATE: the shared epoch
    "context_bump_shared() RETURNS trigger LANGUAGE plpgsql": """
        BEGIN
            IF TG_OP = 'UPDATE' THEN  -- (the transition tables exist for an update only)
                IF NOT EXISTS (
                    SELECT 1 FROM changed n FULL JOIN gone o ON o.symbol = n.symbol
                    WHERE o.symbol IS NULL OR n.symbol IS NULL OR row_to_json(o)::text <> row_to_json(n)::text
                ) THEN
                    RETURN NULL;  -- no column changed (e.g. an older price back-filled)
                END IF;
            END IF;
            UPDATE context_epoch SET epoch = nextval('context_stamps')
            WHERE xmin <> pg_current_xact_id()::xid;
            RETURN NULL;
        END
    """,
}


ROW_EVENTS = {
    "insert": "REFERENCING NEW TABLE AS changed",
    "update": "REFERENCING OLD TABLE AS gone NEW TABLE AS changed",
    "delete": "REFERENCING OLD TABLE AS changed",
}
# (name, table, what follows AFTER in CREATE TRIGGER)
TRIGGERS: list[tuple[str, str, str]] = [
    *(
        (
            f"{table}_{event}_context",
            table,
            f"{event.upper()} ON {table} {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        )
        for tables, function in ((CLIENT_TABLES, "context_bump_rows"), (MODEL_TABLES, "context_bump_models"))
        for table in tables
        for event, referencing in ROW_EVENTS.items()
    ),
    (
        "clients_insert_context",
        "clients",
        "INSERT ON clients REFERENCING NEW TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION context_bump_clients()",
    ),
    (
        "clients_update_context",
        "clients",
        "UPDATE ON clients REFERENCING NEW TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION context_bump_clients()",
    ),
    (
        "securities_update_context",
        "securities",
        "UPDATE ON securities REFERENCING OLD TABLE AS gone NEW TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION context_bump_shared()",
    ),
    (
        "securities_delete_context",
        "securities",
        "DELETE ON securities FOR EACH STATEMENT EXECUTE FUNCTION context_bump_shared()",
    ),
    *(
        (
            f"{table}_truncate_context",
            table,
            f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION context_bump_shared()",
        )
        for table in READ_TABLES
    ),
]


def upgrade() -> None:
    op.execute("CREATE SEQUENCE context_stamps AS bigint")
    op.create_table(
        "client_versions",
        sa.Column("firm_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id", "client_id"],
            ["clients.firm_id", "clients.id"],
            name=op.f("fk_client_versions_firm_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("firm_id", "client_id", name=op.f("pk_client_versions")),
    )
    op.create_table(
        "firm_context_epochs",
        sa.Column("firm_id", sa.BigInteger(), nullable=False),
        sa.Column("models", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_firm_context_epochs_firm_id_firms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("firm_id", name=op.f("pk_firm_context_epochs")),
    )
    op.create_table(
        "context_epoch",
        sa.Column("id", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id", name=op.f("ck_context_epoch_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_epoch")),
    )
    op.execute(
        "INSERT INTO client_versions (firm_id, client_id, version)"
        " SELECT firm_id, id, nextval('context_stamps') FROM clients ORDER BY firm_id, id"
    )
    op.execute(
        "INSERT INTO firm_context_epochs (firm_id, models)"
        " SELECT id, nextval('context_stamps') FROM firms ORDER BY id"
    )
    op.execute("INSERT INTO context_epoch (id, epoch) VALUES (true, nextval('context_stamps'))")
    for signature, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {signature} AS $$\n{body}\n$$")
    for name, _table, rest in TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} AFTER {rest}")
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                EXECUTE 'GRANT SELECT, INSERT, UPDATE ON client_versions, firm_context_epochs, context_epoch TO {ROLE}';
                EXECUTE 'GRANT USAGE, SELECT ON SEQUENCE context_stamps TO {ROLE}';
            END IF;
        END $$
        """  # noqa: S608  (ROLE is this revision's constant)
    )


def downgrade() -> None:
    for name, table, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION {signature.split(' RETURNS')[0].split('(')[0]}")
    op.drop_table("context_epoch")
    op.drop_table("firm_context_epochs")
    op.drop_table("client_versions")
    op.execute("DROP SEQUENCE context_stamps")
