"""Exporting a firm's audit trail with its checkpoints, as JSON lines or CSV (see audit/offline.py).

Format 2: the header names the signing key (`key_id`) and carries every public key of the keyring by id
(current and retired), events carry their hash format, client request id and MAC, and the seal names the key
that signed it. An advisor-scoped export holds only that advisor's clients' chains and no checkpoints (a
checkpoint covers every chain of the firm and cannot be cut without breaking its signature).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from wealthgate.audit import checkpoints
from wealthgate.audit.chain import canonical, timestamp
from wealthgate.audit.keyring import Keyring
from wealthgate.audit.offline import CSV_COLUMNS, CSV_JSON
from wealthgate.audit.queries import EVENT_COLUMNS, event_document
from wealthgate.db.sql import Sql

FORMATS = ("jsonl", "csv")
FORMAT_VERSION = 2
_EVENTS = Sql(
    f"""
SELECT {EVENT_COLUMNS} FROM audit_events
WHERE firm_id = :firm_id
  AND (:since::timestamptz IS NULL OR occurred_at >= :since)
  AND (:until::timestamptz IS NULL OR occurred_at < :until)
  AND (:chain_keys::bigint[] IS NULL OR chain_key = ANY(:chain_keys))
ORDER BY chain_key, chain_seq
"""  # noqa: S608  (EVENT_COLUMNS is a constant column list; every value is a bind parameter)
)


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def _json(value: Any) -> str:
    return canonical(value).decode()


def _event_csv(doc: dict[str, Any]) -> str:
    row = ["event"] + [
        "" if doc[c] is None else _json(doc[c]) if c in CSV_JSON else doc[c] for c in CSV_COLUMNS[1:-1]
    ]
    return _csv_line([*row, ""])


def _record_csv(kind: str, doc: dict[str, Any]) -> str:
    """A header, checkpoint or seal row: its JSON in the last column."""
    return _csv_line([kind] + [""] * (len(CSV_COLUMNS) - 2) + [_json(doc)])


async def export(
    conn: asyncpg.Connection,
    *,
    firm_id: int,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    ring: Keyring,
    chain_keys: Sequence[int] | None = None,
    scope: str = "firm",
) -> AsyncIterator[str]:
    """Yield the export line by line, then a seal: SHA-256 over every byte before it, signed with the
    keyring's current signing key, so that changing any byte (or cutting the file short) fails
    verification."""
    digest = hashlib.sha256()
    async for line in _body(conn, firm_id, since, until, fmt, ring, chain_keys, scope):
        digest.update(line.encode("utf-8"))
        yield line
    seal = {
        "kind": "seal",
        "sha256": digest.hexdigest(),
        "key_id": ring.signer.id,
        "signature": ring.private_key().sign(digest.hexdigest().encode()).hex(),
    }
    yield _record_csv("seal", seal) if fmt == "csv" else _json(seal) + "\n"


async def _body(
    conn: asyncpg.Connection,
    firm_id: int,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    ring: Keyring,
    chain_keys: Sequence[int] | None,
    scope: str,
) -> AsyncIterator[str]:
    """Header, events (by chain and position) and checkpoints, from one consistent snapshot."""
    header = {
        "kind": "export",
        "format_version": FORMAT_VERSION,
        "firm_id": firm_id,
        "scope": scope,
        "key_id": ring.signer.id,
        "public_keys": {k.id: k.public_hex for k in ring.signing},
        "checkpoints": "omitted: an advisor-scoped export" if chain_keys is not None else "included",
        "from": timestamp(since) if since else None,
        "to": timestamp(until) if until else None,
    }
    if fmt == "csv":
        yield _csv_line(CSV_COLUMNS)
        yield _record_csv("export", header)
    else:
        yield _json(header) + "\n"
    keys = list(chain_keys) if chain_keys is not None else None
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        binds = _EVENTS.args(firm_id=firm_id, since=since, until=until, chain_keys=keys)
        async for r in conn.cursor(_EVENTS.text, *binds, prefetch=2000):
            doc = event_document(r)
            yield _event_csv(doc) if fmt == "csv" else _json({"kind": "event", **doc}) + "\n"
        if keys is not None:
            return
        for cp in await checkpoints.load(conn, firm_id):
            if until is not None and cp.created_at >= until:
                continue
            yield (
                _record_csv("checkpoint", cp.as_dict())
                if fmt == "csv"
                else _json({"kind": "checkpoint", **cp.as_dict()}) + "\n"
            )
