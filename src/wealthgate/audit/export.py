"""Exporting a firm's audit trail with its checkpoints, as JSON lines or CSV (see audit/offline.py)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from wealthgate.audit import checkpoints
from wealthgate.audit.chain import canonical, timestamp
from wealthgate.audit.offline import CSV_COLUMNS
from wealthgate.audit.queries import EVENT_COLUMNS, event_document
from wealthgate.audit.signing import public_bytes

FORMATS = ("jsonl", "csv")
_EVENTS = f"""
SELECT {EVENT_COLUMNS} FROM audit_events
WHERE firm_id = $1
  AND ($2::timestamptz IS NULL OR occurred_at >= $2)
  AND ($3::timestamptz IS NULL OR occurred_at < $3)
ORDER BY chain_key, chain_seq
"""


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def _json(value: Any) -> str:
    return canonical(value).decode()


def _event_csv(doc: dict[str, Any]) -> str:
    as_json = {"id", "firm_id", "actor_key_id", "actor", "client_id", "details", "chain_key", "chain_seq"}
    row = ["event"] + [
        (_json(doc[c]) if doc[c] is not None else "")
        if c in as_json
        else (doc[c] if doc[c] is not None else "")
        for c in CSV_COLUMNS[1:-1]
    ]
    return _csv_line([*row, ""])


async def export(
    conn: asyncpg.Connection,
    *,
    firm_id: int,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    signing_key: Ed25519PrivateKey | None,
) -> AsyncIterator[str]:
    """Yield the export line by line, then a seal: SHA-256 over every byte before it, signed when a key is
    configured, so that changing any byte (or cutting the file short) fails verification."""
    digest = hashlib.sha256()
    async for line in _body(
        conn, firm_id=firm_id, since=since, until=until, fmt=fmt, signing_key=signing_key
    ):
        digest.update(line.encode("utf-8"))
        yield line
    seal = {
        "kind": "seal",
        "sha256": digest.hexdigest(),
        "signature": signing_key.sign(digest.hexdigest().encode()).hex() if signing_key else None,
    }
    yield (
        _csv_line(["seal"] + [""] * (len(CSV_COLUMNS) - 2) + [_json(seal)])
        if fmt == "csv"
        else _json(seal) + "\n"
    )


async def _body(
    conn: asyncpg.Connection,
    *,
    firm_id: int,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    signing_key: Ed25519PrivateKey | None,
) -> AsyncIterator[str]:
    """Header, events (by chain and position) and checkpoints, from one consistent snapshot."""
    public_key_hex = public_bytes(signing_key.public_key()).hex() if signing_key else None
    header = {
        "kind": "export",
        "format_version": 1,
        "firm_id": firm_id,
        "public_key": public_key_hex,
        "from": timestamp(since) if since else None,
        "to": timestamp(until) if until else None,
    }
    if fmt == "csv":
        yield _csv_line(CSV_COLUMNS)
        yield _csv_line(["export"] + [""] * (len(CSV_COLUMNS) - 2) + [_json(header)])
    else:
        yield _json(header) + "\n"
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for r in conn.cursor(_EVENTS, firm_id, since, until, prefetch=2000):
            doc = event_document(r)
            yield _event_csv(doc) if fmt == "csv" else _json({"kind": "event", **doc}) + "\n"
        for cp in await checkpoints.load(conn, firm_id):
            if until is not None and cp.created_at >= until:
                continue
            doc = {"kind": "checkpoint", **cp.as_dict()}
            if fmt == "csv":
                yield _csv_line(["checkpoint"] + [""] * (len(CSV_COLUMNS) - 2) + [_json(cp.as_dict())])
            else:
                yield _json(doc) + "\n"
