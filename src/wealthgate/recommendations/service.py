"""The recommendation lifecycle: propose (checked, snapshotted, audited), review, execute, expire, replay.

States: `proposed` (the check passed), `blocked` (it failed), `needs_review`; a reviewer moves proposed or
needs_review to `approved` or `rejected`; an approved recommendation becomes `executed` once ledger
transactions carry it out. Pending states (proposed, needs_review, approved) become `expired` after
`WEALTHGATE_RECOMMENDATION_TTL_HOURS`: reads show it at once, the row is updated on the next transition
attempt. Any other move is a 409. Every change writes its audit event in the same transaction.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.auth.principal import Principal
from wealthgate.clients.visibility import scope_args, scoped_text
from wealthgate.errors import Conflict, Forbidden, Invalid, NotFound
from wealthgate.pagination import decode_keyset, encode_keyset
from wealthgate.suitability import policy as rules
from wealthgate.suitability import service as suitability
from wealthgate.suitability.engine import ENGINE_VERSION, OLDEST_ENGINE, Trade, evaluate
from wealthgate.suitability.policies import by_id
from wealthgate.suitability.snapshot import (
    digest,
    facts_from_json,
    facts_to_json,
    trades_from_json,
    trades_to_json,
)

NOT_FOUND = "Recommendation not found"
STATUS_OF = {"pass": "proposed", "fail": "blocked", "needs_review": "needs_review"}
REVIEWABLE = ("proposed", "needs_review")

_INSERT = """
INSERT INTO recommendations (firm_id, client_id, status, trades, rationale, agent_name, agent_model, verdict,
    rules, policy_version_id, policy_hash, context_snapshot, context_digest, data_as_of, proposed_by_key_id,
    expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now() + make_interval(hours => $16))
RETURNING id
"""
_COLUMNS = """
r.id, r.client_id, r.trades, r.rationale, r.agent_name, r.agent_model, r.verdict, r.rules,
r.policy_version_id, r.policy_hash, r.context_snapshot, r.context_digest, r.data_as_of, r.proposed_by_key_id,
r.reviewer, r.review_comment, r.reviewed_at, r.expires_at, r.executed_at, r.created_at, r.updated_at,
r.status AS stored_status,
CASE WHEN r.status IN ('proposed', 'needs_review', 'approved') AND r.expires_at <= now() THEN 'expired'
     ELSE r.status END AS status,
(SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}') FROM transactions t
 WHERE t.firm_id = r.firm_id AND t.recommendation_id = r.id) AS transaction_ids,
(SELECT p.version FROM policy_versions p WHERE p.firm_id = r.firm_id AND p.id = r.policy_version_id)
    AS policy_version_number,
k.owner AS proposer_owner, k.name AS proposer_key_name
"""
_ONE = scoped_text(
    f"""
SELECT {_COLUMNS}
FROM visible c
JOIN recommendations r ON r.firm_id = c.firm_id AND r.client_id = c.id
JOIN api_keys k ON k.firm_id = r.firm_id AND k.id = r.proposed_by_key_id
WHERE r.id = $3
"""
)
_LOCK = _ONE + "FOR UPDATE OF r"
_QUEUE = scoped_text(
    f"""
SELECT {_COLUMNS}
FROM visible c
JOIN recommendations r ON r.firm_id = c.firm_id AND r.client_id = c.id
JOIN api_keys k ON k.firm_id = r.firm_id AND k.id = r.proposed_by_key_id
WHERE r.status IN ('proposed', 'needs_review') AND r.expires_at > now()
  AND ($3::bigint IS NULL OR r.id > $3)
ORDER BY r.id
LIMIT $4
"""
)


def _public(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": r["id"],
        "client_id": r["client_id"],
        "status": r["status"],
        "trades": r["trades"],
        "rationale": r["rationale"],
        "agent": {"name": r["agent_name"], "model": r["agent_model"]},
        "proposed_by": {"key_id": r["proposed_by_key_id"], "key_name": r["proposer_key_name"]},
        "verdict": {
            "verdict": r["verdict"],
            "rules": r["rules"],
            "policy_version": r["policy_hash"],
            "policy_version_number": r["policy_version_number"],
            "as_of": r["data_as_of"].isoformat(),
        },
        "context_digest": r["context_digest"],
        "review": None
        if r["reviewer"] is None
        else {
            "reviewer": r["reviewer"],
            "comment": r["review_comment"],
            "reviewed_at": r["reviewed_at"].isoformat(),
        },
        "transaction_ids": list(r["transaction_ids"]),
        "created_at": r["created_at"].isoformat(),
        "expires_at": r["expires_at"].isoformat() if r["expires_at"] else None,
        "executed_at": r["executed_at"].isoformat() if r["executed_at"] else None,
    }


async def propose(
    conn: asyncpg.Connection,
    principal: Principal,
    client_id: int,
    trades: list[Trade],
    *,
    rationale: str,
    agent_name: str,
    agent_model: str | None,
    ttl_hours: int,
    request_id: str | None,
) -> dict[str, Any]:
    """Check, snapshot and store the recommendation with its audit event, in the caller's transaction."""
    check_id, version, facts, verdict = await suitability.check(
        conn, principal, client_id, trades, request_id=request_id, recommendation=True
    )
    snapshot = {"facts": facts_to_json(facts), "engine_version": ENGINE_VERSION, "check_id": check_id}
    body = verdict.to_json()
    status = STATUS_OF[verdict.verdict]
    rec_id: int = await conn.fetchval(
        _INSERT,
        principal.firm_id,
        client_id,
        status,
        trades_to_json(trades),
        rationale,
        agent_name,
        agent_model,
        verdict.verdict,
        body["rules"],
        version.id,
        version.content_hash,
        snapshot,
        digest(snapshot["facts"]),
        facts.as_of,
        principal.key_id,
        ttl_hours,
    )
    event_id = await record(
        conn,
        firm_id=principal.firm_id,
        actor=principal.actor(),
        action="recommendation.proposed",
        target_type="recommendation",
        target_id=rec_id,
        client_id=client_id,
        details={
            "recommendation_id": rec_id,
            "status": status,
            "verdict": verdict.verdict,
            "policy_version": version.content_hash,
            "context_digest": digest(snapshot["facts"]),
            "trades_digest": digest(trades_to_json(trades)),
            "check_id": check_id,
            "agent": {"name": agent_name, "model": agent_model},
        },
        request_id=request_id,
    )
    found = await conn.fetchrow(_ONE, *scope_args(principal, rec_id))
    if found is None:  # cannot happen: inserted in this transaction, for a client the caller sees
        raise RuntimeError("the recommendation inserted in this transaction is missing")
    return {**_public(found), "audit_event_id": event_id}


async def get(conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, rec_id: int) -> dict[str, Any]:
    r = await conn.fetchrow(_ONE, *scope_args(principal, rec_id))
    if r is None:
        raise NotFound(NOT_FOUND)
    return _public(r)


async def review_queue(
    conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Pending recommendations awaiting a person, oldest first (keyset by id)."""
    after = None
    if cursor:
        (value,) = decode_keyset(cursor, 1)
        if not isinstance(value, int):
            raise Invalid("cursor is not one this API returned", field="cursor")
        after = value
    rows = await conn.fetch(_QUEUE, *scope_args(principal, after, limit + 1))
    items = [_public(r) for r in rows[:limit]]
    return items, encode_keyset([rows[limit - 1]["id"]]) if len(rows) > limit else None


async def _locked(conn: asyncpg.Connection, principal: Principal, rec_id: int) -> asyncpg.Record:
    r = await conn.fetchrow(_LOCK, *scope_args(principal, rec_id))
    if r is None:
        raise NotFound(NOT_FOUND)
    return r


async def _move(
    conn: asyncpg.Connection,
    principal: Principal,
    r: asyncpg.Record,
    status: str,
    action: str,
    details: dict[str, Any],
    request_id: str | None,
    sets: str = "",
    args: tuple[Any, ...] = (),
) -> dict[str, Any]:
    await conn.execute(
        f"UPDATE recommendations SET status = $3, updated_at = now(){sets} WHERE firm_id = $1 AND id = $2",
        principal.firm_id,
        r["id"],
        status,
        *args,
    )
    event_id = await record(
        conn,
        firm_id=principal.firm_id,
        actor=principal.actor(),
        action=action,
        target_type="recommendation",
        target_id=r["id"],
        client_id=r["client_id"],
        details={"recommendation_id": r["id"], "from": r["status"], "to": status, **details},
        request_id=request_id,
    )
    found = await conn.fetchrow(_ONE, *scope_args(principal, r["id"]))
    if found is None:  # cannot happen: locked above in this transaction
        raise RuntimeError("found is missing although locked above in this transaction")
    return {**_public(found), "audit_event_id": event_id}


def _transition_error(r: asyncpg.Record, wanted: str) -> Conflict:
    return Conflict(f"a recommendation that is {r['status']} cannot be {wanted}")


async def review(
    conn: asyncpg.Connection,
    principal: Principal,
    rec_id: int,
    *,
    approve: bool,
    comment: str,
    request_id: str | None,
) -> dict[str, Any]:
    """Approve or reject. Agents never review, and nobody reviews what their own key or identity proposed."""
    if principal.has("recommendations:write"):
        raise Forbidden("a key with agent scopes cannot review recommendations")
    r = await _locked(conn, principal, rec_id)
    if r["proposed_by_key_id"] == principal.key_id or r["proposer_owner"] == principal.owner:
        raise Forbidden("the identity that proposed a recommendation cannot review it")
    wanted = "approved" if approve else "rejected"
    if r["status"] not in REVIEWABLE:
        raise _transition_error(r, wanted)
    return await _move(
        conn,
        principal,
        r,
        wanted,
        f"recommendation.{wanted}",
        {"reviewer": principal.owner, "comment": comment},
        request_id,
        ", reviewer = $4, review_comment = $5, reviewed_at = now(), reviewed_by_key_id = $6",
        (principal.owner, comment, principal.key_id),
    )


_EXECUTING = """
SELECT t.id, t.recommendation_id, t.type, t.reverses_id,
       EXISTS (SELECT 1 FROM transactions x WHERE x.firm_id = t.firm_id AND x.reverses_id = t.id) AS reversed
FROM transactions t WHERE t.firm_id = $1 AND t.client_id = $2 AND t.id = ANY($3::bigint[])
FOR UPDATE OF t
"""


async def execute(
    conn: asyncpg.Connection,
    principal: Principal,
    rec_id: int,
    transaction_ids: list[int],
    *,
    request_id: str | None,
) -> dict[str, Any]:
    """Mark an approved recommendation executed, linking the ledger trades that carried it out (each a buy or
    sell of the same client, not reversed, not linked to another recommendation). The link is set once."""
    r = await _locked(conn, principal, rec_id)
    if r["status"] != "approved":
        raise _transition_error(r, "executed")
    found = {
        t["id"]: t for t in await conn.fetch(_EXECUTING, principal.firm_id, r["client_id"], transaction_ids)
    }
    for i, tid in enumerate(transaction_ids):
        t = found.get(tid)
        if t is None:
            raise Invalid(f"transaction {tid} is not one of this client's", field=f"transaction_ids[{i}]")
        if t["type"] not in ("buy", "sell") or t["reverses_id"] is not None or t["reversed"]:
            raise Invalid(f"transaction {tid} is not a live buy or sell", field=f"transaction_ids[{i}]")
        if t["recommendation_id"] not in (None, rec_id):
            raise Conflict(f"transaction {tid} already carries out another recommendation")
    await conn.execute(
        "UPDATE transactions SET recommendation_id = $3 WHERE firm_id = $1 AND id = ANY($2::bigint[])"
        " AND recommendation_id IS NULL",
        principal.firm_id,
        transaction_ids,
        rec_id,
    )
    return await _move(
        conn,
        principal,
        r,
        "executed",
        "recommendation.executed",
        {"transaction_ids": sorted(transaction_ids)},
        request_id,
        ", executed_at = now()",
    )


_DUE = """
SELECT firm_id, id, client_id, status FROM recommendations
WHERE status IN ('proposed', 'needs_review', 'approved') AND expires_at <= now()
ORDER BY firm_id, id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
EXPIRY_ACTOR = {"type": "system", "owner": "wealthgate expiry"}


async def expire_due(conn: asyncpg.Connection, *, limit: int = 500) -> int:
    """Store `expired` on pending recommendations past their expiry, each with its audit event, in the
    caller's transaction. Rows another worker is expiring are skipped, never expired twice."""
    due = await conn.fetch(_DUE, limit)
    for r in due:
        await conn.execute(
            "UPDATE recommendations SET status = 'expired', updated_at = now()"
            " WHERE firm_id = $1 AND id = $2",
            r["firm_id"],
            r["id"],
        )
        await record(
            conn,
            firm_id=r["firm_id"],
            actor={**EXPIRY_ACTOR, "firm_id": r["firm_id"]},
            action="recommendation.expired",
            target_type="recommendation",
            target_id=r["id"],
            client_id=r["client_id"],
            details={"recommendation_id": r["id"], "from": r["status"], "to": "expired"},
        )
    return len(due)


async def replay(
    conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, rec_id: int
) -> dict[str, Any]:
    """The stored context, data date and policy of the decision, and the verdict recomputed from them."""
    r = await conn.fetchrow(_ONE, *scope_args(principal, rec_id))
    if r is None:
        raise NotFound(NOT_FOUND)
    version = await by_id(conn, principal.firm_id, r["policy_version_id"])
    snapshot = r["context_snapshot"]
    facts = facts_from_json(snapshot["facts"])
    recomputed = evaluate(  # by the rules of the engine version the verdict was stored under
        facts,
        rules.parse(version.content),
        trades_from_json(r["trades"]),
        engine_version=snapshot.get("engine_version", OLDEST_ENGINE),
    ).to_json()
    stored = {"verdict": r["verdict"], "rules": r["rules"], "as_of": r["data_as_of"].isoformat()}
    return {
        "recommendation_id": r["id"],
        "client_id": r["client_id"],
        "data_as_of": r["data_as_of"].isoformat(),
        "policy_version": r["policy_hash"],
        "policy_version_number": version.version,
        "policy": version.content,
        "policy_hash_matches": rules.content_hash(version.content) == r["policy_hash"],
        "context": snapshot["facts"],
        "context_digest": r["context_digest"],
        "context_digest_matches": digest(snapshot["facts"]) == r["context_digest"],
        "engine_version": {"at_decision": snapshot.get("engine_version"), "now": ENGINE_VERSION},
        "trades": r["trades"],
        "stored": stored,
        "recomputed": recomputed,
        "matches": recomputed == stored,
    }
