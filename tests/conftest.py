"""Real PostgreSQL for every test: a throwaway embedded server (or TEST_DATABASE_URL), a template database
migrated with Alembic and loaded with the demo book, and a fresh clone of it per test."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from psycopg import sql

from tests.factories import Factory
from tests.support import load_demo, make_key
from wealthgate.api.app import create_app
from wealthgate.audit import keyring
from wealthgate.db import urls
from wealthgate.db.embedded import EmbeddedPostgres
from wealthgate.db.migrate import upgrade
from wealthgate.settings import Settings

# Locally, hypothesis explores new examples on every run; in CI (CI=true) the examples are derived from each
# test's name, so a green main stays green and a failure reproduces.
hypothesis_settings.register_profile("default", deadline=None, max_examples=100)
hypothesis_settings.register_profile("ci", deadline=None, max_examples=100, derandomize=True, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")

REPO = Path(__file__).resolve().parent.parent

# One audit keyring for the session, outside every test's WEALTHGATE_HOME: in-process writers use it directly,
# and every `wealthgate` child process finds it through the environment it inherits. Tests of the keyring's
# own lifecycle point WEALTHGATE_AUDIT_KEYRING_FILE elsewhere.
KEYRING_FILE = Path(tempfile.mkdtemp(prefix="wealthgate-keyring-")) / "audit-keyring.json"
SESSION_KEYRING = keyring.generate()
keyring.save(SESSION_KEYRING, KEYRING_FILE)
os.environ["WEALTHGATE_AUDIT_KEYRING_FILE"] = str(KEYRING_FILE)
keyring.install(SESSION_KEYRING)

# The per-key limits (docs/limits.md) never get in the way of the rest of the suite: generous rates, back-off
# and text quota for every Settings built here and every `wealthgate` child process. The tests of the limits
# set their own.
for _name, _value in {
    "WEALTHGATE_RATE_LIMIT_READ": "100000/second",
    "WEALTHGATE_RATE_LIMIT_WRITE": "100000/second",
    "WEALTHGATE_AUTH_MAX_FAILURES": "1000",
    "WEALTHGATE_NOTE_BYTES_PER_DAY": str(10**12),
}.items():
    os.environ.setdefault(_name, _value)


def _admin(server_url: str, statement: sql.Composable) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A libpq URL to a server where tests may create databases."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield urls.plain(external)
        return
    pg = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "pgdata", cleanup_mode="delete")
    # A throwaway server: durability buys nothing here, speed does.
    for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
        _admin(pg.url, sql.SQL(f"ALTER SYSTEM SET {setting}"))
    _admin(pg.url, sql.SQL("SELECT pg_reload_conf()"))
    yield pg.url
    pg.stop()


@pytest.fixture(scope="session")
def worker(worker_id: str) -> str:
    return worker_id.replace("-", "_")


def _create_empty(server_url: str, name: str, template: str | None = None) -> str:
    _admin(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    if template:
        _admin(
            server_url,
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY WAL_LOG").format(
                sql.Identifier(name), sql.Identifier(template)
            ),
        )
    else:
        _admin(server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urls.with_database(server_url, name)


@pytest.fixture(scope="session")
def template_db(pg_server_url: str, worker: str) -> Iterator[str]:
    """Name of a database migrated to head with the demo book loaded; never used directly by a test."""
    name = f"wg_template_{worker}"
    url = _create_empty(pg_server_url, name)
    upgrade(url)
    load_demo(url, SESSION_KEYRING, operator="pytest")
    yield name
    _admin(pg_server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def fresh_database(pg_server_url: str, worker: str) -> Iterator[callable]:  # type: ignore[valid-type]
    """Factory for extra databases (empty, or cloned from a template), dropped after the test."""
    made: list[str] = []

    def make(template: str | None = None) -> str:
        name = f"wg_test_{worker}_{uuid.uuid4().hex[:10]}"
        made.append(name)
        return _create_empty(pg_server_url, name, template)

    yield make
    for name in made:
        _admin(pg_server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db_url(fresh_database: callable, template_db: str) -> str:  # type: ignore[valid-type]
    """A private copy of the migrated demo database for this test."""
    return fresh_database(template_db)  # type: ignore[no-any-return]


@pytest.fixture
def empty_db_url(fresh_database: callable) -> str:  # type: ignore[valid-type]
    """A private empty database (no schema) for this test."""
    return fresh_database()  # type: ignore[no-any-return]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        home=tmp_path / "home",
        auth_cache_seconds=0,
        db_pool_min=1,
        db_pool_max=4,
        audit_checkpoint_seconds=0,
    )


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@dataclass(frozen=True)
class Keys:
    """Keys for the demo book: firm 1 (advisors 1, 2), firm 2 (advisor 3)."""

    agent: str  # firm 1, agent scopes
    reader: str  # firm 1, clients:read only
    compliance: str  # firm 1, compliance:review only, acting for the demo compliance user (reviews name them)
    advisor2: str  # firm 1, bound to advisor 2, agent scopes
    other_firm: str  # firm 2, agent scopes
    admin: str  # firm 1, admin (ledger postings)

    @staticmethod
    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


AGENT = ["clients:read", "recommendations:write"]
COMPLIANCE_USER = "compliance@demo.wealthgate.test"  # the demo book's compliance officer of firm 1


@pytest.fixture
def keys(db_url: str) -> Keys:
    return Keys(
        agent=make_key(db_url, 1, AGENT, name="agent"),
        reader=make_key(db_url, 1, ["clients:read"], name="reader"),
        compliance=make_key(db_url, 1, ["compliance:review"], name="compliance", user=COMPLIANCE_USER),
        advisor2=make_key(db_url, 1, AGENT, advisor=2, name="advisor2"),
        other_firm=make_key(db_url, 2, AGENT, name="other"),
        admin=make_key(db_url, 1, ["admin"], name="admin"),
    )


@pytest.fixture
def factory(db_url: str) -> Factory:
    """Builds a test's own firm, advisor, client, accounts, holdings and keys (tests/factories.py)."""
    return Factory(db_url)
