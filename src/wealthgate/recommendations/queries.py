"""Named SQL of the recommendation lifecycle. Reads by id go through `visible` (the caller's clients); the
statements that follow a scoped lookup bind the firm and the recommendation it proved."""

from __future__ import annotations

from wealthgate.clients.visibility import scoped
from wealthgate.db.sql import Sql

# What every read returns: the row, its status as read now (pending past expiry reads `expired`), the ledger
# trades that carried it out, the policy version's number, the proposing key and the person it acts for.
_RECOMMENDATION = """
SELECT r.id, r.client_id, r.trades, r.rationale, r.agent_name, r.agent_model, r.verdict, r.rules,
       r.policy_version_id, r.policy_hash, r.context_snapshot, r.context_digest, r.data_as_of,
       r.proposed_by_key_id, r.reviewer, r.reviewed_by_user_id, r.review_comment, r.reviewed_at,
       r.expires_at, r.executed_at,
       r.created_at, r.updated_at,
       r.status AS stored_status,
       CASE WHEN r.status IN ('proposed', 'needs_review', 'approved') AND r.expires_at <= now() THEN 'expired'
            ELSE r.status END AS status,
       (SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}') FROM transactions t
        WHERE t.firm_id = r.firm_id AND t.recommendation_id = r.id) AS transaction_ids,
       (SELECT p.version FROM policy_versions p WHERE p.firm_id = r.firm_id AND p.id = r.policy_version_id)
           AS policy_version_number,
       k.owner AS proposer_owner, k.name AS proposer_key_name, k.user_id AS proposer_user_id
"""
_OF_VISIBLE_CLIENTS = """
FROM visible c
JOIN recommendations r ON r.firm_id = c.firm_id AND r.client_id = c.id
JOIN api_keys k ON k.firm_id = r.firm_id AND k.id = r.proposed_by_key_id
"""

# The scoped lookups (recommendations/visibility.py): none when the client is not visible to the caller.
VISIBLE = scoped(_RECOMMENDATION + _OF_VISIBLE_CLIENTS + "WHERE r.id = :recommendation_id")
VISIBLE_LOCKED = scoped(
    _RECOMMENDATION + _OF_VISIBLE_CLIENTS + "WHERE r.id = :recommendation_id FOR UPDATE OF r"
)
QUEUE = scoped(
    _RECOMMENDATION
    + _OF_VISIBLE_CLIENTS
    + """WHERE r.status IN ('proposed', 'needs_review') AND r.expires_at > now()
  AND (:after::bigint IS NULL OR r.id > :after)
ORDER BY r.id
LIMIT :limit
"""
)
# Re-reading a recommendation the caller has already proven visible (or just inserted for a visible client).
BY_ID = Sql(
    _RECOMMENDATION
    + """FROM recommendations r
JOIN api_keys k ON k.firm_id = r.firm_id AND k.id = r.proposed_by_key_id
WHERE r.firm_id = :firm_id AND r.id = :recommendation_id
"""
)

INSERT = Sql(
    """
INSERT INTO recommendations (firm_id, client_id, status, trades, rationale, agent_name, agent_model, verdict,
    rules, policy_version_id, policy_hash, context_snapshot, context_digest, data_as_of, proposed_by_key_id,
    expires_at)
VALUES (:firm_id, :client_id, :status, :trades, :rationale, :agent_name, :agent_model, :verdict,
    :rules, :policy_version_id, :policy_hash, :context_snapshot, :context_digest, :data_as_of,
    :proposed_by_key_id, now() + make_interval(hours => :ttl_hours))
RETURNING id
"""
)

# One statement per move, each setting what that move records.
REVIEWED = Sql(
    """
UPDATE recommendations
SET status = :status, updated_at = now(), reviewer = :reviewer, review_comment = :comment,
    reviewed_at = now(), reviewed_by_key_id = :key_id, reviewed_by_user_id = :user_id
WHERE firm_id = :firm_id AND id = :recommendation_id
"""
)
EXECUTED = Sql(
    """
UPDATE recommendations SET status = 'executed', updated_at = now(), executed_at = now()
WHERE firm_id = :firm_id AND id = :recommendation_id
"""
)
EXPIRED = Sql(
    """
UPDATE recommendations SET status = 'expired', updated_at = now()
WHERE firm_id = :firm_id AND id = :recommendation_id
"""
)

# The ledger trades named to carry a recommendation out, locked while they are checked and linked.
EXECUTING = Sql(
    """
SELECT t.id, t.recommendation_id, t.type, t.reverses_id,
       EXISTS (SELECT 1 FROM transactions x WHERE x.firm_id = t.firm_id AND x.reverses_id = t.id) AS reversed
FROM transactions t WHERE t.firm_id = :firm_id AND t.client_id = :client_id AND t.id = ANY(:ids::bigint[])
FOR UPDATE OF t
"""
)
LINK = Sql(
    """
UPDATE transactions SET recommendation_id = :recommendation_id
WHERE firm_id = :firm_id AND id = ANY(:ids::bigint[]) AND recommendation_id IS NULL
"""
)

DUE = Sql(
    """
SELECT firm_id, id, client_id, status FROM recommendations
WHERE status IN ('proposed', 'needs_review', 'approved') AND expires_at <= now()
ORDER BY firm_id, id
LIMIT :limit
FOR UPDATE SKIP LOCKED
"""
)
