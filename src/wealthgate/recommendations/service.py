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
from wealthgate.clients.visibility import VisibleClient, scope
from wealthgate.errors import Conflict, Forbidden, Invalid
from wealthgate.pagination import decode_keyset, encode_keyset
from wealthgate.recommendations import queries
from wealthgate.recommendations.schemas import (
    AgentOut,
    EngineVersions,
    ProposerOut,
    RecommendationOut,
    ReplayOut,
    ReviewOut,
    ReviewQueue,
    StoredVerdict,
    VerdictOut,
)
from wealthgate.recommendations.visibility import NOT_FOUND, LockedRecommendation, VisibleRecommendation
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
from wealthgate.throttling.quota import TextQuota

__all__ = ["NOT_FOUND", "execute", "expire_due", "get", "propose", "replay", "review", "review_queue"]

STATUS_OF = {"pass": "proposed", "fail": "blocked", "needs_review": "needs_review"}
REVIEWABLE = ("proposed", "needs_review")


def _public(r: asyncpg.Record, audit_event_id: int | None = None) -> RecommendationOut:
    return RecommendationOut(
        id=r["id"],
        client_id=r["client_id"],
        status=r["status"],
        trades=r["trades"],
        rationale=r["rationale"],
        agent=AgentOut(name=r["agent_name"], model=r["agent_model"]),
        proposed_by=ProposerOut(key_id=r["proposed_by_key_id"], key_name=r["proposer_key_name"]),
        verdict=VerdictOut(
            verdict=r["verdict"],
            rules=r["rules"],
            policy_version=r["policy_hash"],
            policy_version_number=r["policy_version_number"],
            as_of=r["data_as_of"].isoformat(),
        ),
        context_digest=r["context_digest"],
        review=None
        if r["reviewer"] is None
        else ReviewOut(
            reviewer=r["reviewer"], comment=r["review_comment"], reviewed_at=r["reviewed_at"].isoformat()
        ),
        transaction_ids=list(r["transaction_ids"]),
        created_at=r["created_at"].isoformat(),
        expires_at=r["expires_at"].isoformat() if r["expires_at"] else None,
        executed_at=r["executed_at"].isoformat() if r["executed_at"] else None,
        audit_event_id=audit_event_id,
    )


async def _reread(conn: asyncpg.Connection, firm_id: int, recommendation_id: int) -> asyncpg.Record:
    found = await queries.BY_ID.fetchrow(conn, firm_id=firm_id, recommendation_id=recommendation_id)
    if found is None:  # cannot happen: written (or locked) in this transaction, for a visible client
        raise RuntimeError(f"recommendation {recommendation_id} written in this transaction is missing")
    return found


async def propose(
    conn: asyncpg.Connection,
    principal: Principal,
    client: VisibleClient,
    trades: list[Trade],
    *,
    rationale: str,
    agent_name: str,
    agent_model: str | None,
    ttl_hours: int,
    request_id: str | None,
    text_quota: TextQuota,
) -> RecommendationOut:
    """Check, snapshot and store the recommendation with its audit event, in the caller's transaction. The
    agent's own words (rationale, name, model: kept for good) are counted against the key's daily
    `text_quota` first; over it, `QuotaExceeded` and nothing is stored."""
    await text_quota.charge(
        conn, firm_id=client.firm_id, key_id=principal.key_id, texts=(rationale, agent_name, agent_model)
    )
    check_id, version, facts, verdict = await suitability.check(
        conn, principal, client.client_id, trades, request_id=request_id, recommendation=True
    )
    snapshot = {"facts": facts_to_json(facts), "engine_version": ENGINE_VERSION, "check_id": check_id}
    body = verdict.to_json()
    status = STATUS_OF[verdict.verdict]
    rec_id: int = await queries.INSERT.fetchval(
        conn,
        **client.ids,
        status=status,
        trades=trades_to_json(trades),
        rationale=rationale,
        agent_name=agent_name,
        agent_model=agent_model,
        verdict=verdict.verdict,
        rules=body["rules"],
        policy_version_id=version.id,
        policy_hash=version.content_hash,
        context_snapshot=snapshot,
        context_digest=digest(snapshot["facts"]),
        data_as_of=facts.as_of,
        proposed_by_key_id=principal.key_id,
        ttl_hours=ttl_hours,
    )
    event_id = await record(
        conn,
        firm_id=client.firm_id,
        actor=principal.actor(),
        action="recommendation.proposed",
        target_type="recommendation",
        target_id=rec_id,
        client_id=client.client_id,
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
    return _public(await _reread(conn, client.firm_id, rec_id), event_id)


def get(rec: VisibleRecommendation) -> RecommendationOut:
    """The recommendation as the scoped lookup read it (pending ones past their expiry read `expired`)."""
    return _public(rec.row)


async def review_queue(
    conn: asyncpg.Connection, principal: Principal, *, limit: int, cursor: str | None
) -> ReviewQueue:
    """Pending recommendations awaiting a person, oldest first (keyset by id)."""
    after = None
    if cursor:
        (value,) = decode_keyset(cursor, 1)
        if not isinstance(value, int):
            raise Invalid("cursor is not one this API returned", field="cursor")
        after = value
    rows = await queries.QUEUE.fetch(conn, **scope(principal), after=after, limit=limit + 1)
    return ReviewQueue(
        items=[_public(r) for r in rows[:limit]],
        next_cursor=encode_keyset([rows[limit - 1]["id"]]) if len(rows) > limit else None,
    )


async def _moved(
    conn: asyncpg.Connection,
    principal: Principal,
    rec: LockedRecommendation,
    status: str,
    details: dict[str, Any],
    request_id: str | None,
) -> RecommendationOut:
    """After a move's own UPDATE: its audit event, and the recommendation as it now reads."""
    event_id = await record(
        conn,
        firm_id=rec.firm_id,
        actor=principal.actor(),
        action=f"recommendation.{status}",
        target_type="recommendation",
        target_id=rec.recommendation_id,
        client_id=rec.client_id,
        details={
            "recommendation_id": rec.recommendation_id,
            "from": rec.row["status"],
            "to": status,
            **details,
        },
        request_id=request_id,
    )
    return _public(await _reread(conn, rec.firm_id, rec.recommendation_id), event_id)


def _transition_error(rec: VisibleRecommendation, wanted: str) -> Conflict:
    return Conflict(f"a recommendation that is {rec.row['status']} cannot be {wanted}")


UNNAMED_REVIEWER = (
    "a review is made by a named person: use a key bound to a user (keys create --user) or the console"
)


def check_reviewer(principal: Principal) -> None:
    """Agents never review, only compliance and admin people do, and a review names a person: a key with
    agent scopes, a caller without compliance:review, or a key bound to no user is refused (403) whatever
    recommendation it names. The review route checks this before the lookup, so such a key gets 403 rather
    than 404 for any id."""
    if principal.has("recommendations:write"):
        raise Forbidden("a key with agent scopes cannot review recommendations")
    if not principal.has("compliance:review"):  # the route's dependency checks it too; the console does not
        raise Forbidden("reviewing recommendations needs the compliance role (compliance:review)")
    if principal.user_id is None or principal.user_email is None:
        raise Forbidden(UNNAMED_REVIEWER)


async def review(
    conn: asyncpg.Connection,
    principal: Principal,
    rec: LockedRecommendation,
    *,
    approve: bool,
    comment: str,
    request_id: str | None,
) -> RecommendationOut:
    """Approve or reject, as a person (a console user, or a key bound to a user): the recommendation records
    their user id and email as the reviewer, and the audit event's actor names them. Agents never review, and
    nobody reviews what their own key, key owner or person proposed."""
    check_reviewer(principal)
    if (
        rec.row["proposed_by_key_id"] == principal.key_id
        or rec.row["proposer_owner"] == principal.owner
        or rec.row["proposer_user_id"] == principal.user_id
    ):
        raise Forbidden("the identity that proposed a recommendation cannot review it")
    wanted = "approved" if approve else "rejected"
    if rec.row["status"] not in REVIEWABLE:
        raise _transition_error(rec, wanted)
    reviewer = principal.user_email
    await queries.REVIEWED.execute(
        conn,
        **rec.ids,
        status=wanted,
        reviewer=reviewer,
        comment=comment,
        key_id=principal.key_id,
        user_id=principal.user_id,
    )
    return await _moved(conn, principal, rec, wanted, {"reviewer": reviewer, "comment": comment}, request_id)


async def execute(
    conn: asyncpg.Connection,
    principal: Principal,
    rec: LockedRecommendation,
    transaction_ids: list[int],
    *,
    request_id: str | None,
) -> RecommendationOut:
    """Mark an approved recommendation executed, linking the ledger trades that carried it out (each a buy or
    sell of the same client, not reversed, not linked to another recommendation). The link is set once."""
    if rec.row["status"] != "approved":
        raise _transition_error(rec, "executed")
    rows = await queries.EXECUTING.fetch(
        conn, firm_id=rec.firm_id, client_id=rec.client_id, ids=transaction_ids
    )
    found = {t["id"]: t for t in rows}
    for i, tid in enumerate(transaction_ids):
        t = found.get(tid)
        if t is None:
            raise Invalid(f"transaction {tid} is not one of this client's", field=f"transaction_ids[{i}]")
        if t["type"] not in ("buy", "sell") or t["reverses_id"] is not None or t["reversed"]:
            raise Invalid(f"transaction {tid} is not a live buy or sell", field=f"transaction_ids[{i}]")
        if t["recommendation_id"] not in (None, rec.recommendation_id):
            raise Conflict(f"transaction {tid} already carries out another recommendation")
    await queries.LINK.execute(conn, **rec.ids, ids=transaction_ids)
    await queries.EXECUTED.execute(conn, **rec.ids)
    return await _moved(
        conn, principal, rec, "executed", {"transaction_ids": sorted(transaction_ids)}, request_id
    )


EXPIRY_ACTOR = {"type": "system", "owner": "wealthgate expiry"}


async def expire_due(conn: asyncpg.Connection, *, limit: int = 500) -> int:
    """Store `expired` on pending recommendations past their expiry, each with its audit event, in the
    caller's transaction. Rows another worker is expiring are skipped, never expired twice. A system task
    over every firm: no caller, no scope."""
    due = await queries.DUE.fetch(conn, limit=limit)
    for r in due:
        await queries.EXPIRED.execute(conn, firm_id=r["firm_id"], recommendation_id=r["id"])
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


async def replay(conn: asyncpg.Connection, rec: VisibleRecommendation) -> ReplayOut:
    """The stored context, data date and policy of the decision, and the verdict recomputed from them."""
    r = rec.row
    version = await by_id(conn, rec.firm_id, r["policy_version_id"])
    snapshot = r["context_snapshot"]
    facts = facts_from_json(snapshot["facts"])
    recomputed = evaluate(  # by the rules of the engine version the verdict was stored under
        facts,
        rules.parse(version.content),
        trades_from_json(r["trades"]),
        engine_version=snapshot.get("engine_version", OLDEST_ENGINE),
    ).to_json()
    stored = {"verdict": r["verdict"], "rules": r["rules"], "as_of": r["data_as_of"].isoformat()}
    return ReplayOut(
        recommendation_id=r["id"],
        client_id=r["client_id"],
        data_as_of=r["data_as_of"].isoformat(),
        policy_version=r["policy_hash"],
        policy_version_number=version.version,
        policy=version.content,
        policy_hash_matches=rules.content_hash(version.content) == r["policy_hash"],
        context=snapshot["facts"],
        context_digest=r["context_digest"],
        context_digest_matches=digest(snapshot["facts"]) == r["context_digest"],
        engine_version=EngineVersions(at_decision=snapshot.get("engine_version"), now=ENGINE_VERSION),
        trades=r["trades"],
        stored=StoredVerdict(**stored),
        recomputed=StoredVerdict(**recomputed),
        matches=recomputed == stored,
    )
