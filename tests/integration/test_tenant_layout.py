"""Every table of a firm's data carries firm_id in its primary key, unique constraints and foreign keys
(the layout Citus distributes by firm). securities and prices are shared reference tables."""

from __future__ import annotations

from tests.support import fetch

REFERENCE_TABLES = {"securities", "prices", "alembic_version", "audit_keys"}  # audit_keys: the deployment's
# People sign in with an email (or a session cookie) before any firm is known, so the sign-in directory is
# global: emails are unique across firms. Small and read-mostly, these are reference tables under Citus.
REFERENCE_TABLES |= {"users", "user_sessions", "sign_in_failures"}
# The context cache's shared epoch (migration 0011): one row, bumped with securities and prices, which are
# reference tables themselves.
REFERENCE_TABLES |= {"context_epoch"}
# which read audit journals are stored (audit/journal.py): a journal holds the reads of any firm of a host.
REFERENCE_TABLES |= {"audit_read_journals"}
TENANT_ROOT = "firms"  # its id *is* the firm id

CONSTRAINTS = """
SELECT c.conrelid::regclass::text AS table_name, c.conname, c.contype::text AS contype,
       array(SELECT a.attname FROM unnest(c.conkey) k JOIN pg_attribute a
             ON a.attrelid = c.conrelid AND a.attnum = k) AS columns,
       c.confrelid::regclass::text AS referenced,
       array(SELECT a.attname FROM unnest(c.confkey) k JOIN pg_attribute a
             ON a.attrelid = c.confrelid AND a.attnum = k) AS referenced_columns
FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f')
"""


def tenant_tables(url: str) -> set[str]:
    rows = fetch(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r["tablename"] for r in rows} - REFERENCE_TABLES - {TENANT_ROOT}


def violations(url: str) -> list[str]:
    problems = []
    tables = tenant_tables(url)
    columns = fetch(
        url, "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    )
    with_firm = {r["table_name"] for r in columns if r["column_name"] == "firm_id"}
    problems += [f"{t}: no firm_id column" for t in sorted(tables - with_firm)]
    has_pk = set()
    for c in fetch(url, CONSTRAINTS):
        table = c["table_name"]
        if table not in tables:
            continue
        if c["contype"] == "p":
            has_pk.add(table)
        if c["contype"] in ("p", "u") and "firm_id" not in c["columns"]:
            problems.append(f"{table}.{c['conname']}: key without firm_id")
        if c["contype"] == "f" and c["referenced"] not in REFERENCE_TABLES:
            pairs = dict(zip(c["columns"], c["referenced_columns"], strict=True))
            target = "id" if c["referenced"] == TENANT_ROOT else "firm_id"
            if pairs.get("firm_id") != target:
                problems.append(f"{table}.{c['conname']}: foreign key does not carry firm_id")
    problems += [f"{t}: no primary key" for t in sorted(tables - has_pk)]
    indexes = fetch(url, "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
    for ix in indexes:
        if ix["tablename"] in tables and " UNIQUE " in ix["indexdef"] and "firm_id" not in ix["indexdef"]:
            problems.append(f"{ix['tablename']}.{ix['indexname']}: unique index without firm_id")
    return problems


def test_every_firm_table_is_keyed_by_firm(db_url: str) -> None:
    assert len(tenant_tables(db_url)) >= 14
    assert violations(db_url) == []


def test_the_check_catches_a_table_without_firm_in_its_key(db_url: str) -> None:
    fetch(db_url, "CREATE TABLE notes (id bigint PRIMARY KEY, body text)")
    fetch(db_url, "ALTER TABLE api_keys ADD CONSTRAINT uq_bad UNIQUE (key_hash)")
    found = violations(db_url)
    assert "notes: no firm_id column" in found
    assert any("notes" in v and "key without firm_id" in v for v in found)
    assert any("uq_bad" in v for v in found)
