"""The audit trail in PostgreSQL: append-only, chained under concurrency; tampering is caught and named."""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import replace

import asyncpg
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.e2e.process import cli
from tests.support import fetch, fetchval, with_conn
from wealthgate.audit import chain, checkpoints, keyring
from wealthgate.audit.batch import Pending, append_many
from wealthgate.audit.record import record
from wealthgate.audit.verify import Verification, verify
from wealthgate.db.pool import create_pool


def verified(url: str, firm: int | None = None, *, macs: bool = True) -> Verification:
    """Verify with the session's keyring: signatures, and MACs unless `macs` is false."""
    ring = keyring.installed()
    return with_conn(
        url,
        lambda c: verify(
            c, firm_id=firm, public_keys=ring.public_keys(), mac_keys=ring.mac_secrets() if macs else None
        ),
    )


def tamper(url: str, *statements: tuple[str, *tuple[object, ...]]) -> None:
    """Run statements (text, then its bind values) as the superuser with triggers off, as a rogue
    administrator could."""

    async def work(conn: asyncpg.Connection) -> None:
        await conn.execute("SET session_replication_role = replica")
        for sql, *args in statements:
            await conn.execute(sql, *args)

    with_conn(url, work)


def write_notes(url: str, client_id: int, n: int) -> list[int]:
    async def work(conn: asyncpg.Connection) -> list[int]:
        ids = []
        for i in range(n):
            async with conn.transaction():
                ids.append(
                    await record(
                        conn,
                        firm_id=1,
                        actor={"type": "operator", "owner": "t"},
                        action="test.note",
                        client_id=client_id,
                        details={"i": i},
                    )
                )
        return ids

    return with_conn(url, work)


@pytest.mark.parametrize("table", ["audit_events", "audit_checkpoints"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET firm_id = firm_id", "DELETE FROM {t}", "TRUNCATE {t}"])
def test_the_service_role_has_no_right_to_change_audit_tables(
    db_url: str, table: str, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        with_conn(db_url, lambda c: c.execute(statement.format(t=table)), as_owner=False)
    assert with_conn(db_url, lambda c: c.fetchval("SELECT current_user"), as_owner=False) == "wealthgate_app"


def test_the_service_role_can_do_its_work(db_url: str) -> None:
    async def work(conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            return await record(conn, firm_id=1, actor={"type": "operator"}, action="test.ok", client_id=1)

    assert with_conn(db_url, work, as_owner=False) > 0
    assert with_conn(db_url, verify, as_owner=False).ok


@pytest.mark.parametrize("table", ["audit_events", "audit_checkpoints"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET firm_id = firm_id", "DELETE FROM {t}", "TRUNCATE {t}"])
def test_changes_to_audit_tables_fail_even_for_the_owner(db_url: str, table: str, statement: str) -> None:
    fetch(
        db_url,
        "INSERT INTO audit_checkpoints (firm_id, heads, signature, key_id) VALUES (1, '{}', '\\x00', 'test')",
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        fetch(db_url, statement.format(t=table))


def test_the_demo_trail_verifies(db_url: str) -> None:
    write_notes(db_url, 1, 3)
    result = verified(db_url)
    assert result.ok, result
    assert result.events == fetchval(db_url, "SELECT count(*) FROM audit_events")


def test_a_payload_edit_is_named(db_url: str) -> None:
    ids = write_notes(db_url, 1, 4)
    tamper(db_url, ("UPDATE audit_events SET details = '{\"i\": 99}' WHERE id = $1", ids[1]))
    result = verified(db_url)
    assert result.first_break is not None
    assert (result.first_break.reason, result.first_break.event_id) == ("edited", ids[1])


def test_a_deleted_event_is_named(db_url: str) -> None:
    ids = write_notes(db_url, 1, 4)
    tamper(db_url, ("DELETE FROM audit_events WHERE id = $1", ids[1]))
    result = verified(db_url)
    assert result.first_break is not None
    assert (result.first_break.reason, result.first_break.event_id) == ("missing", ids[2])


def test_a_forged_event_is_named(db_url: str) -> None:
    ids = write_notes(db_url, 1, 3)
    tamper(
        db_url,
        (
            """INSERT INTO audit_events (firm_id, id, actor, action, client_id, chain_key, chain_seq,
                                      prev_hash, event_hash)
            SELECT firm_id, 424242, actor, 'agent.note', client_id, chain_key, chain_seq + 1, '\\x01', '\\x02'
            FROM audit_events WHERE id = $1""",
            ids[-1],
        ),
    )
    result = verified(db_url)
    assert result.first_break is not None
    assert (result.first_break.reason, result.first_break.event_id) == ("inserted", 424242)


def test_swapped_events_are_named(db_url: str) -> None:
    ids = write_notes(db_url, 1, 4)
    a, b = ids[1], ids[2]
    tamper(
        db_url,
        ("UPDATE audit_events SET chain_seq = chain_seq + 1000000 WHERE id = $1", a),
        ("UPDATE audit_events SET chain_seq = chain_seq - 1 WHERE id = $1", b),
        ("UPDATE audit_events SET chain_seq = chain_seq - 1000000 + 1 WHERE id = $1", a),
    )
    result = verified(db_url)
    assert result.first_break is not None
    assert (result.first_break.reason, result.first_break.event_id) == ("reordered", b)


def test_concurrent_writers_keep_every_event_and_every_chain(db_url: str) -> None:
    """64 writers over 12 clients, a fixed number of events each: every acknowledged event is there and every
    chain verifies. (How many per second is bench/audit_soak.py's question, not a test's.)"""
    per_writer = int(os.environ.get("WEALTHGATE_SOAK_EVENTS", "10"))

    async def run() -> list[int]:
        pool = await create_pool(db_url, min_size=64, max_size=64)
        acknowledged: list[int] = []

        async def writer(n: int) -> None:
            for _ in range(per_writer):
                async with pool.acquire() as conn, conn.transaction():
                    event_id = await record(
                        conn,
                        firm_id=1,
                        actor={"type": "operator", "owner": f"w{n}"},
                        action="test.load",
                        client_id=1 + n % 12,
                        details={"writer": n},
                    )
                acknowledged.append(event_id)

        try:
            await asyncio.gather(*(writer(n) for n in range(64)))
        finally:
            await pool.close()
        return acknowledged

    acknowledged = asyncio.run(run())
    assert len(acknowledged) == 64 * per_writer
    stored = {r["id"] for r in fetch(db_url, "SELECT id FROM audit_events WHERE action = 'test.load'")}
    assert set(acknowledged) == stored
    result = verified(db_url, firm=1)
    assert result.ok, result


def test_verify_through_the_api_is_scoped_and_needs_compliance(
    api: TestClient, keys: Keys, db_url: str
) -> None:
    assert api.get("/audit/verify", headers=Keys.auth(keys.agent)).status_code == 403
    body = api.get("/audit/verify", headers=Keys.auth(keys.compliance)).json()
    assert body["ok"] is True
    firm1_chains = fetchval(db_url, "SELECT count(*) FROM audit_chain_heads WHERE firm_id = 1")
    assert body["chains"] == firm1_chains
    ids = write_notes(db_url, 1, 2)
    tamper(db_url, ("UPDATE audit_events SET request_id = 'x' WHERE id = $1", ids[0]))
    body = api.get("/audit/verify", headers=Keys.auth(keys.compliance)).json()
    assert body["ok"] is False
    assert body["first_break"]["event_id"] == ids[0]
    assert body["first_break"]["reason"] == "edited"


def test_verify_through_the_cli(db_url: str) -> None:
    assert cli("audit", "verify", "--firm", "1", DATABASE_URL=db_url).returncode == 0
    ids = write_notes(db_url, 1, 2)
    tamper(db_url, ("DELETE FROM audit_events WHERE id = $1", ids[0]))
    result = cli("audit", "verify", DATABASE_URL=db_url)
    assert result.returncode == 1
    assert '"reason": "missing"' in result.stdout


def test_the_migration_chained_the_events_written_before_it(db_url: str) -> None:
    """The template database loads the demo book after migrating; a fresh upgrade from 0002 backfills."""
    assert fetchval(db_url, "SELECT count(*) FROM audit_events WHERE event_hash IS NULL") == 0


def checkpoint(url: str, firm: int = 1) -> None:
    with_conn(url, lambda c: checkpoints.create(c, keyring.installed(), firm))


def test_a_rewritten_chain_fails_its_macs_at_the_edit_and_its_checkpoint_at_the_head(db_url: str) -> None:
    """An administrator rewrites a whole chain with freshly computed, self-consistent hashes. The MACs name
    the edited event; without them (a verifier lacking the secrets) the signed checkpoint still catches it."""
    ids = write_notes(db_url, 1, 4)
    checkpoint(db_url)
    assert verified(db_url).ok

    async def rewrite(conn: asyncpg.Connection) -> None:
        await conn.execute("SET session_replication_role = replica")
        rows = await conn.fetch(
            "SELECT * FROM audit_events WHERE firm_id = 1 AND chain_key = 1 ORDER BY chain_seq"
        )
        prev = chain.GENESIS
        for r in rows:
            event = chain.Event(**{k: r[k] for k in chain.Event.__dataclass_fields__})
            if r["id"] == ids[1]:
                event = replace(event, details={"i": "rewritten"})
            new_hash = replace(event, prev_hash=prev).recomputed_hash()
            await conn.execute(
                "UPDATE audit_events SET details = $1, prev_hash = $2, event_hash = $3"
                " WHERE firm_id = 1 AND id = $4",
                event.details,
                prev,
                new_hash,
                r["id"],
            )
            prev = new_hash
        await conn.execute(
            "UPDATE audit_chain_heads SET head_hash = $1 WHERE firm_id = 1 AND chain_key = 1", prev
        )

    with_conn(db_url, rewrite)
    assert links_only(db_url) is None, "the rewrite is self-consistent: its links alone cannot expose it"
    result = verified(db_url)
    assert result.first_break is not None
    assert (result.first_break.reason, result.first_break.event_id) == ("forged", ids[1])
    without_macs = verified(db_url, macs=False)
    assert without_macs.first_break is not None
    # The checkpoint pinned the chain's head (the last note); that is where the rewritten chain diverges.
    assert (without_macs.first_break.reason, without_macs.first_break.event_id) == (
        "checkpoint mismatch",
        ids[-1],
    )


def links_only(url: str) -> chain.Break | None:
    """The rewritten chain checked by its own links alone, as if no checkpoint or MAC existed."""
    rows = fetch(url, "SELECT * FROM audit_events WHERE firm_id = 1 AND chain_key = 1 ORDER BY chain_seq")
    events = [chain.Event(**{k: r[k] for k in chain.Event.__dataclass_fields__}) for r in rows]
    head = fetch(url, "SELECT * FROM audit_chain_heads WHERE firm_id = 1 AND chain_key = 1")[0]
    return chain.verify_chain(events, chain.Head(1, 1, head["seq"], head["head_hash"]))[1]


def test_batched_and_single_appends_interleave_safely(db_url: str) -> None:
    """Read batches (many chains at once) race single writes on the same chains: no deadlock, no gap."""
    rounds = 25  # per task: 6 batchers and 8 single writers at once, a fixed amount of work

    async def run() -> tuple[int, int]:
        pool = await create_pool(db_url, min_size=16, max_size=16)
        counts = [0, 0]

        async def batches(n: int) -> None:
            rng = random.Random(n)
            for _ in range(rounds):
                batch = [
                    Pending(
                        1,
                        {"type": "operator", "owner": f"b{n}"},
                        "client.read",
                        "client",
                        None,
                        rng.randint(1, 12),
                        {"read": "x"},
                        None,
                    )
                    for _ in range(rng.randint(1, 40))
                ]
                async with pool.acquire() as conn, conn.transaction():
                    appended = await append_many(conn, batch)
                counts[0] += len(appended)

        async def singles(n: int) -> None:
            rng = random.Random(100 + n)
            for _ in range(rounds):
                async with pool.acquire() as conn, conn.transaction():
                    await record(
                        conn,
                        firm_id=1,
                        actor={"type": "operator"},
                        action="test.single",
                        client_id=rng.randint(1, 12),
                    )
                counts[1] += 1

        try:
            await asyncio.gather(*(batches(n) for n in range(6)), *(singles(n) for n in range(8)))
        finally:
            await pool.close()
        return counts[0], counts[1]

    batched, single = asyncio.run(run())
    assert batched >= 6 * rounds
    assert single == 8 * rounds
    assert fetchval(db_url, "SELECT count(*) FROM audit_events WHERE action = 'client.read'") == batched
    assert verified(db_url).ok
