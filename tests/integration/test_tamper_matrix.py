"""The tamper matrix: a database superuser (triggers off, `psql`-level access) tampers with the trail, and the
real `wealthgate audit verify` command catches it with a non-zero exit and names the first bad event or
checkpoint. The attacker has the source code (so can recompute hashes) but not the application's keyring
(so cannot compute MACs or signatures).

Each case writes six notes to client 1's chain, signs a checkpoint with `wealthgate audit checkpoint` (which
also appends it to the witness), tampers, then verifies.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.e2e.process import cli
from tests.integration.test_audit_trail import write_notes
from tests.support import fetch, fetchval, with_conn
from wealthgate.audit import chain, keyring
from wealthgate.audit.checkpoints import signed_document


@dataclass
class Trail:
    url: str
    witness_dir: Path
    ids: list[int]  # client 1's notes, oldest first; the first four are under the checkpoint
    later: list[int]  # client 1's notes written after the checkpoint

    @property
    def witness(self) -> Path:
        return self.witness_dir / "checkpoints.jsonl"

    def verify(self, *, witness: bool = False) -> tuple[int, dict[str, Any]]:
        extra = ["--witness", str(self.witness)] if witness else []
        result = cli("audit", "verify", *extra, DATABASE_URL=self.url, **self.env())
        assert result.stdout, result.stderr
        return result.returncode, json.loads(result.stdout)

    def env(self) -> dict[str, str]:
        return {"WEALTHGATE_AUDIT_WITNESS_DIR": str(self.witness_dir)}


def superuser(url: str, *statements: str | tuple[Any, ...]) -> None:
    """Run statements (text, or text and its bind values) as the superuser with triggers off, as a rogue
    administrator could."""

    async def work(conn: asyncpg.Connection) -> None:
        await conn.execute("SET session_replication_role = replica")
        for statement in statements:
            sql, *args = (statement,) if isinstance(statement, str) else statement
            await conn.execute(sql, *args)

    with_conn(url, work)


@pytest.fixture
def trail(db_url: str, tmp_path: Path) -> Trail:
    ids = write_notes(db_url, 1, 4)
    witness_dir = tmp_path / "witness"
    made = cli("audit", "checkpoint", DATABASE_URL=db_url, WEALTHGATE_AUDIT_WITNESS_DIR=str(witness_dir))
    assert made.returncode == 0, made.stderr
    later = write_notes(db_url, 1, 2)
    return Trail(db_url, witness_dir, ids, later)


def client_chain(url: str) -> list[chain.Event]:
    rows = fetch(url, "SELECT * FROM audit_events WHERE firm_id = 1 AND chain_key = 1 ORDER BY chain_seq")
    return [chain.Event(**{k: r[k] for k in chain.Event.__dataclass_fields__}) for r in rows]


def rehash(url: str, edit: Callable[[chain.Event], chain.Event] | None = None) -> None:
    """Edit events of client 1's chain (via `edit`) and recompute every hash and link from the edit on, and
    the head: self-consistent, as only someone with the source code and no keyring could make it."""

    async def work(conn: asyncpg.Connection) -> None:
        await conn.execute("SET session_replication_role = replica")
        prev = chain.GENESIS
        rows = await conn.fetch(
            "SELECT * FROM audit_events WHERE firm_id = 1 AND chain_key = 1 ORDER BY chain_seq"
        )
        for event in [chain.Event(**{k: r[k] for k in chain.Event.__dataclass_fields__}) for r in rows]:
            changed = replace(edit(event) if edit else event, prev_hash=prev)
            new_hash = changed.recomputed_hash()
            await conn.execute(
                "UPDATE audit_events SET details = $1, prev_hash = $2, event_hash = $3"
                " WHERE firm_id = 1 AND id = $4",
                changed.details,
                prev,
                new_hash,
                event.id,
            )
            prev = new_hash
        await conn.execute(
            "UPDATE audit_chain_heads SET head_hash = $1 WHERE firm_id = 1 AND chain_key = 1", prev
        )

    with_conn(url, work)


def forge(url: str, seq: int, prev: bytes, *, mac: bool) -> int:
    """Insert a correctly hashed event at position `seq` of client 1's chain (with a made-up MAC if `mac`)."""
    template = client_chain(url)[0]
    forged = replace(
        template, id=990_000 + seq, chain_seq=seq, prev_hash=prev, details={"payload": "buy 10,000 XYZ"}
    )
    forged = replace(forged, event_hash=forged.recomputed_hash())
    mac_key_id, mac_value = (keyring.installed().mac_key.id, secrets.token_bytes(32)) if mac else (None, None)

    async def work(conn: asyncpg.Connection) -> None:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "INSERT INTO audit_events (firm_id, id, occurred_at, actor_key_id, actor, action, target_type,"
            " target_id, client_id, details, request_id, chain_key, chain_seq, prev_hash, event_hash,"
            " hash_version, client_request_id, mac_key_id, mac)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
            forged.firm_id,
            forged.id,
            forged.occurred_at,
            forged.actor_key_id,
            forged.actor,
            forged.action,
            forged.target_type,
            forged.target_id,
            forged.client_id,
            forged.details,
            forged.request_id,
            forged.chain_key,
            forged.chain_seq,
            forged.prev_hash,
            forged.event_hash,
            forged.hash_version,
            None,
            mac_key_id,
            mac_value,
        )

    with_conn(url, work)
    return forged.id


def caught(trail: Trail, reason: str, event_id: int | None, *, witness: bool = False) -> dict[str, Any]:
    code, report = trail.verify(witness=witness)
    assert code == 1, report
    assert report["ok"] is False
    found = report["first_break"]
    assert (found["reason"], found["event_id"]) == (reason, event_id), found
    return found


def test_an_untouched_trail_verifies_with_its_witness(trail: Trail) -> None:
    code, report = trail.verify(witness=True)
    assert code == 0, report
    assert report["ok"]
    assert report["macs_checked"]
    assert report["signatures_checked"]
    assert report["witnessed_checkpoints"] == fetchval(trail.url, "SELECT count(*) FROM audit_checkpoints")
    assert report["newest_checkpoint_age_seconds"] is not None


def test_edit_a_payload(trail: Trail) -> None:
    superuser(trail.url, ("UPDATE audit_events SET details = '{\"i\": 99}' WHERE id = $1", trail.ids[1]))
    caught(trail, "edited", trail.ids[1])


def test_delete_an_event(trail: Trail) -> None:
    superuser(trail.url, ("DELETE FROM audit_events WHERE id = $1", trail.ids[1]))
    caught(trail, "missing", trail.ids[2])


def test_insert_a_correctly_hashed_forged_event_mid_chain(trail: Trail) -> None:
    events = client_chain(trail.url)
    position = next(e for e in events if e.id == trail.ids[2]).chain_seq
    superuser(
        trail.url,
        (
            "UPDATE audit_events SET chain_seq = chain_seq + 1000000 WHERE firm_id = 1 AND chain_key = 1"
            " AND chain_seq >= $1",
            position,
        ),
        "UPDATE audit_events SET chain_seq = chain_seq - 1000000 + 1 WHERE chain_seq > 1000000",
        "UPDATE audit_chain_heads SET seq = seq + 1 WHERE firm_id = 1 AND chain_key = 1",
    )
    forged = forge(trail.url, position, events[position - 2].event_hash, mac=False)
    caught(trail, "forged", forged)


def test_append_a_correctly_hashed_forged_event_with_a_made_up_mac(trail: Trail) -> None:
    last = client_chain(trail.url)[-1]
    forged = forge(trail.url, last.chain_seq + 1, last.event_hash, mac=True)
    superuser(
        trail.url,
        (
            "UPDATE audit_chain_heads SET seq = seq + 1, head_hash = (SELECT event_hash FROM audit_events"
            " WHERE id = $1) WHERE firm_id = 1 AND chain_key = 1",
            forged,
        ),
    )
    found = caught(trail, "forged", forged)
    assert "MAC does not verify" in found["detail"]


def test_swap_two_events(trail: Trail) -> None:
    a, b = trail.ids[1], trail.ids[2]
    superuser(
        trail.url,
        ("UPDATE audit_events SET chain_seq = chain_seq + 1000000 WHERE id = $1", a),
        ("UPDATE audit_events SET chain_seq = chain_seq - 1 WHERE id = $1", b),
        ("UPDATE audit_events SET chain_seq = chain_seq - 1000000 + 1 WHERE id = $1", a),
    )
    caught(trail, "reordered", b)


def edit_one(event_id: int) -> Callable[[chain.Event], chain.Event]:
    return lambda e: replace(e, details={**e.details, "i": "rewritten"}) if e.id == event_id else e


def test_rehash_a_whole_chain_after_an_edit(trail: Trail) -> None:
    rehash(trail.url, edit_one(trail.ids[1]))
    caught(trail, "forged", trail.ids[1])


def test_rehash_and_delete_the_checkpoint_rows_with_the_witness(trail: Trail) -> None:
    rehash(trail.url, edit_one(trail.ids[1]))
    superuser(trail.url, "DELETE FROM audit_checkpoints", "DELETE FROM audit_chain_marks")
    caught(trail, "forged", trail.ids[1], witness=True)


def test_delete_the_checkpoint_rows_alone_is_caught_by_the_witness(trail: Trail) -> None:
    checkpoint_id = fetchval(trail.url, "SELECT min(id) FROM audit_checkpoints WHERE firm_id = 1")
    superuser(trail.url, "DELETE FROM audit_checkpoints")
    found = caught(trail, "checkpoint missing", None, witness=True)
    assert found["checkpoint_id"] == checkpoint_id


def cut_back_to(kept: chain.Event) -> list[tuple[Any, ...]]:
    """Delete client 1's events after `kept` and roll the chain head back to it."""
    return [
        (
            "DELETE FROM audit_events WHERE firm_id = 1 AND chain_key = 1 AND chain_seq > $1",
            kept.chain_seq,
        ),
        (
            "UPDATE audit_chain_heads SET seq = $1, head_hash = $2 WHERE firm_id = 1 AND chain_key = 1",
            kept.chain_seq,
            kept.event_hash,
        ),
    ]


def test_truncate_a_tail_with_its_head_row_and_the_checkpoints(trail: Trail) -> None:
    """Cut the chain back to before the checkpoint, roll the head back, delete the checkpoint rows: every
    remaining event is genuine, so only the witness remembers how far the chain went."""
    keep = trail.ids[1]
    kept = next(e for e in client_chain(trail.url) if e.id == keep)
    superuser(
        trail.url,
        *cut_back_to(kept),
        "DELETE FROM audit_checkpoints",
    )
    code, _ = trail.verify()
    assert code == 0, "without the witness this truncation is invisible: that is what the witness is for"
    found = caught(trail, "missing", None, witness=True)
    assert found["chain_key"] == 1
    assert found["chain_seq"] == kept.chain_seq + 1


def test_truncate_a_tail_with_its_head_row(trail: Trail) -> None:
    kept = next(e for e in client_chain(trail.url) if e.id == trail.ids[1])
    superuser(
        trail.url,
        *cut_back_to(kept),
    )
    found = caught(trail, "missing", None)
    assert found["chain_seq"] == kept.chain_seq + 1


def test_edit_and_rehash_after_the_latest_checkpoint(trail: Trail) -> None:
    rehash(trail.url, edit_one(trail.later[0]))
    caught(trail, "forged", trail.later[0])


def test_substitute_the_signing_key(trail: Trail) -> None:
    """Re-sign the stored checkpoint with the attacker's own key (and claim its id): refused by key id."""
    attacker = keyring.generate()
    row = fetch(trail.url, "SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1")[0]
    document = signed_document(
        row["format"], row["firm_id"], row["id"], row["created_at"], row["heads"], attacker.signer.id, None
    )
    superuser(
        trail.url,
        (
            "UPDATE audit_checkpoints SET key_id = $1, signature = $2 WHERE id = $3",
            attacker.signer.id,
            attacker.private_key().sign(document),
            row["id"],
        ),
    )
    found = caught(trail, "checkpoint mismatch", None)
    assert found["checkpoint_id"] == row["id"]
    assert "not in the keyring" in found["detail"]


def test_a_process_holding_another_keyring_may_not_sign(trail: Trail, tmp_path: Path) -> None:
    other = tmp_path / "other-keyring.json"
    keyring.save(keyring.generate(), other)
    before = fetchval(trail.url, "SELECT count(*) FROM audit_checkpoints")
    result = cli("audit", "checkpoint", DATABASE_URL=trail.url, WEALTHGATE_AUDIT_KEYRING_FILE=str(other))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "current signing key is" in result.stderr
    assert fetchval(trail.url, "SELECT count(*) FROM audit_checkpoints") == before
