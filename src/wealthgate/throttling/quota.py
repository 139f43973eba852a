"""The daily quota of free text per API key: what an agent may add, in its own words, to records that are kept
for good (audit notes: the event's `event_type` and `payload`; recommendations: the `rationale` and the
agent's name and model). The audit trail cannot be deleted from, so without a quota one key could fill the
database (a key once wrote 6.9 MB of notes in 1.26 s).

Counted in PostgreSQL (`text_quota_usage`, bytes of UTF-8 per key per UTC day) by the write's own transaction:
the count and the write commit together or not at all, so the quota holds across workers, hosts and
restarts, and a refused write stores nothing and counts nothing. The row is locked until the transaction
ends, so one key's concurrent writes are counted one after the other. A key's earlier days are deleted as it
starts a new one (one row per key). A person signed in to the console writes under their own name and is
not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from wealthgate.db.sql import Sql
from wealthgate.observability.metrics import RATE_LIMIT_REFUSALS
from wealthgate.throttling.errors import QuotaExceeded

SETTING = "note_bytes_per_day"

_CHARGE = Sql(
    """
WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS day),
earlier AS (
    DELETE FROM text_quota_usage
    WHERE firm_id = :firm_id AND api_key_id = :key_id AND day < (SELECT day FROM today)
)
INSERT INTO text_quota_usage AS u (firm_id, api_key_id, day, bytes)
SELECT :firm_id, :key_id, day, :bytes FROM today
ON CONFLICT (firm_id, api_key_id, day) DO UPDATE SET bytes = u.bytes + EXCLUDED.bytes
RETURNING u.bytes, u.day
"""
)


def size(*texts: str | None) -> int:
    """The bytes the texts take, as stored (UTF-8)."""
    return sum(len(t.encode("utf-8")) for t in texts if t)


@dataclass(frozen=True, slots=True)
class TextQuota:
    """`bytes_per_day` of free text per API key (the `note_bytes_per_day` setting)."""

    bytes_per_day: int

    async def charge(
        self, conn: asyncpg.Connection, *, firm_id: int, key_id: int | None, texts: tuple[str | None, ...]
    ) -> None:
        """Count `texts` against the key's quota for today, in `conn`'s transaction; `QuotaExceeded` (429,
        naming the quota and when it resets) when they do not fit, which must roll the transaction back."""
        wanted = size(*texts)
        if key_id is None or wanted == 0:
            return
        row = await _CHARGE.fetchrow(conn, firm_id=firm_id, key_id=key_id, bytes=wanted)
        if row is None:  # an upsert with RETURNING always returns its row
            raise RuntimeError("the text quota could not be counted")
        used: int = row["bytes"]
        if used <= self.bytes_per_day:
            return
        RATE_LIMIT_REFUSALS.labels(kind="quota").inc()
        resets = _midnight_after(row["day"])
        wait = int((resets - datetime.now(UTC)).total_seconds()) + 1
        raise QuotaExceeded(
            f"this API key's daily quota of free text ({SETTING}: {self.bytes_per_day} bytes of notes and"
            f" rationales per UTC day) does not fit this write: {used - wanted} bytes used today, this one"
            f" takes {wanted}; the quota resets at {resets.isoformat().replace('+00:00', 'Z')}",
            retry_after=wait,
            quota={
                "name": SETTING,
                "bytes_per_day": self.bytes_per_day,
                "used_today": used - wanted,
                "requested": wanted,
                "resets_at": resets.isoformat().replace("+00:00", "Z"),
            },
        )


def _midnight_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
