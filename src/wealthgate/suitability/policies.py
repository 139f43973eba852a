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
from wealthgate.errors import Conflict, NotFound
from wealthgate.suitability import policy as rules

_CURRENT = """
SELECT id, version, content, content_hash, created_by, created_at FROM policy_versions
WHERE firm_id = $1 ORDER BY version DESC LIMIT 1
"""
_BY_VERSION = """
SELECT id, version, content, content_hash, created_by, created_at FROM policy_versions
WHERE firm_id = $1 AND version = $2
"""
_BY_ID = """
SELECT id, version, content, content_hash, created_by, created_at FROM policy_versions
WHERE firm_id = $1 AND id = $2
"""
_INSERT = """
INSERT INTO policy_versions (firm_id, version, content, content_hash, created_by)
SELECT $1, coalesce(max(version), 0) + 1, $2::jsonb, $3, $4 FROM policy_versions WHERE firm_id = $1
RETURNING id, version, content, content_hash, created_by, created_at
"""
_MODEL_BANDS = """
SELECT m.risk_level, w.asset_class, w.target_weight, w.band
FROM model_portfolios m
JOIN model_portfolio_weights w ON w.firm_id = m.firm_id AND w.model_portfolio_id = m.id
WHERE m.firm_id = $1
"""
NO_POLICY = "this firm has no suitability policy yet: publish one (PUT /policy or `wealthgate policy import`)"


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    id: int
    version: int
    content: dict[str, Any]
    content_hash: str
    created_by: str
    created_at: datetime

    def to_json(self, *, created: bool = False) -> dict[str, Any]:
        return {
            "version": self.version,
            "content_hash": self.content_hash,
            "content": self.content,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "created": created,
        }


def _version(r: asyncpg.Record) -> PolicyVersion:
    return PolicyVersion(
        r["id"],
        r["version"],
        r["content"],
        r["content_hash"],
        r["created_by"],
        r["created_at"],
    )


async def current(conn: asyncpg.Connection | asyncpg.Pool, firm_id: int) -> PolicyVersion:
    r = await conn.fetchrow(_CURRENT, firm_id)
    if r is None:
        raise Conflict(NO_POLICY)
    return _version(r)


async def by_version(conn: asyncpg.Connection | asyncpg.Pool, firm_id: int, version: int) -> PolicyVersion:
    r = await conn.fetchrow(_BY_VERSION, firm_id, version)
    if r is None:
        raise NotFound(f"policy version {version} not found")
    return _version(r)


async def by_id(conn: asyncpg.Connection | asyncpg.Pool, firm_id: int, policy_id: int) -> PolicyVersion:
    r = await conn.fetchrow(_BY_ID, firm_id, policy_id)
    if r is None:
        raise NotFound("policy version not found")
    return _version(r)


async def versions(conn: asyncpg.Connection | asyncpg.Pool, firm_id: int) -> list[PolicyVersion]:
    rows = await conn.fetch(
        "SELECT id, version, content, content_hash, created_by, created_at FROM policy_versions"
        " WHERE firm_id = $1 ORDER BY version DESC",
        firm_id,
    )
    return [_version(r) for r in rows]


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
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('policy_versions'), $1::int)", firm_id)
    latest = await conn.fetchrow(_CURRENT, firm_id)
    if latest is not None and latest["content_hash"] == digest:
        return _version(latest), False
    row = await conn.fetchrow(_INSERT, firm_id, canonical, digest, created_by)
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
    for r in await conn.fetch(_MODEL_BANDS, firm_id):
        bands.setdefault(r["risk_level"], {})[r["asset_class"]] = (r["target_weight"], r["band"])
    return bands


async def ensure_default(conn: asyncpg.Connection, firm_id: int, *, actor: dict[str, Any]) -> PolicyVersion:
    """The firm's current policy, publishing the default (with its model portfolios' bands) if it has none."""
    r = await conn.fetchrow(_CURRENT, firm_id)
    if r is not None:
        return _version(r)
    doc = rules.default_for(await model_bands(conn, firm_id))
    stored, _ = await publish(conn, firm_id, doc, actor=actor, created_by=str(actor.get("owner", "system")))
    return stored
