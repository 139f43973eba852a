"""Policy versions in PostgreSQL: every change is a new version with its content hash; old ones stay.

Publishing a document identical (by content hash) to the current version stores nothing. Each new version is
recorded in the audit trail in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.db.sql import Sql
from wealthgate.errors import Conflict, NotFound
from wealthgate.suitability import policy as rules

_CURRENT = Sql(
    """
SELECT id, version, content, content_hash, created_by, created_at FROM policy_versions
WHERE firm_id = :firm_id ORDER BY version DESC LIMIT 1
"""
)
_BY_VERSION = Sql(
    """
SELECT id, version, content, content_hash, created_by, created_at FROM policy_versions
WHERE firm_id = :firm_id AND version = :version
"""
)
_BY_ID = Sql(
    """
SELECT id, version, content, content_hash, created_by, created_at FROM policy_versions
WHERE firm_id = :firm_id AND id = :id
"""
)
_ALL = Sql(
    """
SELECT id, version, content, content_hash, created_by, created_at FROM policy_versions
WHERE firm_id = :firm_id ORDER BY version DESC
"""
)
_INSERT = Sql(
    """
INSERT INTO policy_versions (firm_id, version, content, content_hash, created_by)
SELECT :firm_id, coalesce(max(version), 0) + 1, :content::jsonb, :content_hash, :created_by
FROM policy_versions WHERE firm_id = :firm_id
RETURNING id, version, content, content_hash, created_by, created_at
"""
)
# One publisher per firm at a time: the next version number is read and written under the lock.
_LOCK = Sql("SELECT pg_advisory_xact_lock(hashtext('policy_versions'), :firm_id::int)")
_MODEL_BANDS = Sql(
    """
SELECT m.risk_level, w.asset_class, w.target_weight, w.band
FROM model_portfolios m
JOIN model_portfolio_weights w ON w.firm_id = m.firm_id AND w.model_portfolio_id = m.id
WHERE m.firm_id = :firm_id
"""
)
NO_POLICY = "this firm has no suitability policy yet: publish one (PUT /policy or `wealthgate policy import`)"


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    id: int
    version: int
    content: dict[str, Any]
    content_hash: str
    created_by: str
    created_at: datetime


def _version(r: asyncpg.Record) -> PolicyVersion:
    return PolicyVersion(
        r["id"],
        r["version"],
        r["content"],
        r["content_hash"],
        r["created_by"],
        r["created_at"],
    )


async def current(conn: asyncpg.Connection, firm_id: int) -> PolicyVersion:
    """The version in force; 409 when the firm has none yet."""
    r = await _CURRENT.fetchrow(conn, firm_id=firm_id)
    if r is None:
        raise Conflict(NO_POLICY)
    return _version(r)


async def by_version(conn: asyncpg.Connection, firm_id: int, version: int) -> PolicyVersion:
    r = await _BY_VERSION.fetchrow(conn, firm_id=firm_id, version=version)
    if r is None:
        raise NotFound(f"policy version {version} not found")
    return _version(r)


async def by_id(conn: asyncpg.Connection, firm_id: int, policy_id: int) -> PolicyVersion:
    r = await _BY_ID.fetchrow(conn, firm_id=firm_id, id=policy_id)
    if r is None:
        raise NotFound("policy version not found")
    return _version(r)


async def versions(conn: asyncpg.Connection, firm_id: int) -> list[PolicyVersion]:
    """Every version of the firm's policy, newest first."""
    return [_version(r) for r in await _ALL.fetch(conn, firm_id=firm_id)]


async def publish(
    conn: asyncpg.Connection,
    firm_id: int,
    content: dict[str, Any],
    *,
    actor: dict[str, Any],
    created_by: str,
    note: str | None = None,
    request_id: str | None = None,
) -> tuple[PolicyVersion, bool]:
    """Store `content` as the firm's next version unless it equals the current one. Validates first."""
    canonical = rules.canonical(content)
    digest = rules.content_hash(canonical)
    await _LOCK.execute(conn, firm_id=firm_id)
    latest = await _CURRENT.fetchrow(conn, firm_id=firm_id)
    if latest is not None and latest["content_hash"] == digest:
        return _version(latest), False
    row = await _INSERT.fetchrow(
        conn, firm_id=firm_id, content=canonical, content_hash=digest, created_by=created_by
    )
    if row is None:  # cannot happen: INSERT ... RETURNING returns its row
        raise RuntimeError("row is missing although INSERT ... RETURNING returns its row")
    stored = _version(row)
    await record(
        conn,
        firm_id=firm_id,
        actor=actor,
        action="policy.published",
        target_type="policy_version",
        target_id=stored.version,
        details={"version": stored.version, "content_hash": digest, "note": note},
        request_id=request_id,
    )
    return stored, True


async def model_bands(
    conn: asyncpg.Connection, firm_id: int
) -> dict[str, dict[str, tuple[Decimal, Decimal]]]:
    bands: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for r in await _MODEL_BANDS.fetch(conn, firm_id=firm_id):
        bands.setdefault(r["risk_level"], {})[r["asset_class"]] = (r["target_weight"], r["band"])
    return bands


async def ensure_default(conn: asyncpg.Connection, firm_id: int, *, actor: dict[str, Any]) -> PolicyVersion:
    """The firm's current policy, publishing the default (with its model portfolios' bands) if it has none."""
    r = await _CURRENT.fetchrow(conn, firm_id=firm_id)
    if r is not None:
        return _version(r)
    doc = rules.default_for(await model_bands(conn, firm_id))
    stored, _ = await publish(conn, firm_id, doc, actor=actor, created_by=str(actor.get("owner", "system")))
    return stored
