"""The schema exists only through Alembic: it applies from empty, round-trips, and matches the models."""

from __future__ import annotations

from tests.support import fetch, fetchval
from wealthgate.db.migrate import downgrade, drift, upgrade
from wealthgate.db.models import metadata


def test_migrations_apply_from_empty_and_match_the_models(empty_db_url: str) -> None:
    assert fetchval(empty_db_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    upgrade(empty_db_url)
    tables = {r["tablename"] for r in fetch(empty_db_url, "SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert tables == set(metadata.tables) | {"alembic_version"}
    assert drift(empty_db_url) == []


def test_downgrade_to_base_and_up_again(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    downgrade(empty_db_url, "base")
    assert fetchval(empty_db_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 1  # alembic_version
    upgrade(empty_db_url)
    assert drift(empty_db_url) == []


def test_drift_check_notices_a_change(empty_db_url: str) -> None:
    """The drift check can fail: a column added behind Alembic's back is reported."""
    upgrade(empty_db_url)
    fetchval(empty_db_url, "ALTER TABLE clients ADD COLUMN nickname text")
    differences = drift(empty_db_url)
    assert any("nickname" in repr(d) for d in differences)
