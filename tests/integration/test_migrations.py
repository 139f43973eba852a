"""The schema exists only through Alembic: it applies from empty, round-trips, and matches the models."""

from __future__ import annotations

from tests.integration.test_demo_book import stored_lots
from tests.support import fetch, fetchval, with_conn
from wealthgate.audit.verify import verify
from wealthgate.db.migrate import downgrade, drift, upgrade
from wealthgate.db.models import metadata


def test_migrations_apply_from_empty_and_match_the_models(empty_db_url: str) -> None:
    assert fetchval(empty_db_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    upgrade(empty_db_url)
    tables = {
        r["tablename"]
        for r in fetch(empty_db_url, "SELECT tablename FROM pg_tables WHERE schemaname='public'")
    }
    assert tables == set(metadata.tables) | {"alembic_version"}
    assert drift(empty_db_url) == []


def test_downgrade_to_base_and_up_again(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    downgrade(empty_db_url, "base")
    assert (
        fetchval(empty_db_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 1
    )  # alembic_version
    upgrade(empty_db_url)
    assert drift(empty_db_url) == []


def test_drift_check_notices_a_change(empty_db_url: str) -> None:
    """The drift check can fail: a column added behind Alembic's back is reported."""
    upgrade(empty_db_url)
    fetchval(empty_db_url, "ALTER TABLE clients ADD COLUMN nickname text")
    differences = drift(empty_db_url)
    assert any("nickname" in repr(d) for d in differences)


def test_last_price_follows_the_prices_table(db_url: str) -> None:
    def last(symbol: str) -> tuple[object, object]:
        row = fetch(db_url, "SELECT last_price, last_price_date FROM securities WHERE symbol = $1", symbol)[0]
        return (str(row["last_price"]), str(row["last_price_date"]))

    assert last("AAPL") == ("172.440002", "2018-04-11")
    fetch(db_url, "INSERT INTO prices VALUES ('AAPL', '2018-04-12', 175.5), ('AAPL', '2018-04-13', 176)")
    assert last("AAPL") == ("176.000000", "2018-04-13")
    fetch(db_url, "UPDATE prices SET close = 177 WHERE symbol = 'AAPL' AND price_date = '2018-04-13'")
    assert last("AAPL") == ("177.000000", "2018-04-13")
    fetch(db_url, "INSERT INTO prices VALUES ('AAPL', '1985-01-02', 1.5)")  # a back-fill changes nothing
    assert last("AAPL") == ("177.000000", "2018-04-13")
    fetch(db_url, "DELETE FROM prices WHERE symbol = 'AAPL' AND price_date > '2018-04-11'")
    assert last("AAPL") == ("172.440002", "2018-04-11")
    fetch(db_url, "DELETE FROM prices WHERE symbol = 'WGREIT'")
    assert last("WGREIT") == ("None", "None")


def test_0003_chains_the_events_written_before_it(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0002")
    fetch(empty_db_url, "INSERT INTO firms (id, name) VALUES (1, 'F')")
    for action in ("a.one", "a.two", "a.three"):
        fetch(
            empty_db_url,
            "INSERT INTO audit_events (firm_id, actor, action, details) VALUES "
            '(1, \'{"type": "operator"}\', $1, \'{"n": 1}\')',
            action,
        )
    upgrade(empty_db_url)
    rows = fetch(empty_db_url, "SELECT chain_key, chain_seq FROM audit_events ORDER BY id")
    assert [(r["chain_key"], r["chain_seq"]) for r in rows] == [(0, 1), (0, 2), (0, 3)]
    result = with_conn(empty_db_url, verify)
    assert result.ok
    assert result.events == 3


def test_0006_fills_lots_from_the_ledger_already_posted(db_url: str) -> None:
    """Down to before lots were kept (none) and up again: the ledger replayed, as the demo loader wrote it."""
    loaded = stored_lots(db_url)
    assert len(loaded) > 500
    downgrade(db_url, "0005")
    assert fetchval(db_url, "SELECT count(*) FROM lots") == 0
    upgrade(db_url)
    assert stored_lots(db_url) == loaded
    assert drift(db_url) == []
