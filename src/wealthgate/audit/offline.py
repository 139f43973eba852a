"""Verify an audit export with nothing but this file, Python 3.11+ and the `cryptography` package.

An outside party (an auditor, a regulator, the firm's own vault) can check an export without wealthgate or
its database:

    from offline import verify_export
    with open("trail.jsonl") as f:
        report = verify_export(f, public_key_hex="<the firm's published Ed25519 public key>")
    assert report["ok"], report["first_break"]

It recomputes every event's SHA-256 over its canonical JSON (sorted keys, no whitespace, UTF-8), checks each
chain's positions and links, and checks every signed checkpoint in the export against the events it covers.
This module deliberately imports nothing from wealthgate.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS_HEX = "00" * 32
CSV_COLUMNS = [
    "kind",
    "id",
    "firm_id",
    "occurred_at",
    "actor_key_id",
    "actor",
    "action",
    "target_type",
    "target_id",
    "client_id",
    "details",
    "request_id",
    "chain_key",
    "chain_seq",
    "prev_hash",
    "event_hash",
    "checkpoint",
]
HASHED = [
    "id",
    "firm_id",
    "chain_key",
    "chain_seq",
    "occurred_at",
    "actor_key_id",
    "actor",
    "action",
    "target_type",
    "target_id",
    "client_id",
    "details",
    "request_id",
    "prev_hash",
]


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_hash(event: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: event[k] for k in HASHED})).hexdigest()


def _parse_seal(line: str) -> dict[str, Any]:
    if line.startswith("{"):
        seal: dict[str, Any] = json.loads(line)
    else:
        seal = json.loads(next(csv.reader([line]))[-1])
    if seal.get("kind") != "seal":
        raise ValueError("the export does not end with its seal")
    return seal


def _seal_text(seal: dict[str, Any], as_csv: bool) -> str:
    """The exact bytes of a seal line: the file ends with it, and nothing may differ."""
    if not as_csv:
        return canonical(seal).decode("utf-8") + "\n"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(
        ["seal"] + [""] * (len(CSV_COLUMNS) - 2) + [canonical(seal).decode("utf-8")]
    )
    return out.getvalue()


def _check_seal(raw: list[str], public_key_hex: str | None) -> str | None:
    """Why the seal fails, or None: it covers every byte before it, is signed by the firm's key, and is the
    exact last line of the file."""
    if not raw:
        return "the export is empty"
    seal_line = raw.pop()
    seal = _parse_seal(seal_line)
    if seal_line != _seal_text(seal, as_csv=not seal_line.startswith("{")):
        return "the seal line was altered, or something follows it"
    digest = hashlib.sha256("".join(raw).encode("utf-8")).hexdigest()
    if seal["sha256"] != digest:
        return "the export's bytes differ from those its seal covers"
    if public_key_hex is not None:
        if not seal.get("signature"):
            return "the seal is not signed"
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(
                bytes.fromhex(seal["signature"]), digest.encode()
            )
        except InvalidSignature:
            return "the seal's signature does not verify with the public key"
    return None


def _records(lines: Iterable[str]) -> Iterable[dict[str, Any]]:
    iterator = iter(lines)
    first = next(iterator, "")
    if first.startswith("{"):
        yield json.loads(first)
        for line in iterator:
            if line.strip():
                yield json.loads(line)
        return
    reader = csv.DictReader([first, *iterator])
    for row in reader:
        if row["kind"] == "checkpoint":
            yield {"kind": "checkpoint", **json.loads(row["checkpoint"])}
        elif row["kind"] == "export":
            yield {"kind": "export", **json.loads(row["checkpoint"])}
        else:
            yield {
                "kind": "event",
                **{
                    k: (json.loads(row[k]) if row[k] != "" else None)
                    for k in CSV_COLUMNS[1:-1]
                    if k
                    not in (
                        "occurred_at",
                        "action",
                        "target_type",
                        "target_id",
                        "request_id",
                        "prev_hash",
                        "event_hash",
                    )
                },
                **{
                    k: (row[k] if row[k] != "" else None)
                    for k in (
                        "occurred_at",
                        "action",
                        "target_type",
                        "target_id",
                        "request_id",
                        "prev_hash",
                        "event_hash",
                    )
                },
            }


def _break(
    event: dict[str, Any] | None, chain: tuple[int, int], seq: int, reason: str, detail: str
) -> dict[str, Any]:
    return {
        "firm_id": chain[0],
        "chain_key": chain[1],
        "event_id": event["id"] if event else None,
        "chain_seq": seq,
        "reason": reason,
        "detail": detail,
    }


def _signature_ok(checkpoint: dict[str, Any], public_key_hex: str) -> bool:
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    document = canonical(
        {
            "firm_id": checkpoint["firm_id"],
            "created_at": checkpoint["created_at"],
            "heads": checkpoint["heads"],
            "public_key": checkpoint["public_key_fingerprint"],
        }
    )
    try:
        key.verify(bytes.fromhex(checkpoint["signature"]), document)
    except InvalidSignature:
        return False
    return True


def verify_export(lines: Iterable[str], public_key_hex: str | None = None) -> dict[str, Any]:  # noqa: PLR0911, PLR0912  (one exit per kind of break: clearest in a file auditors read)
    """Check an export (JSON lines or CSV). `public_key_hex`: the key you trust; without it the export's own
    stated key is used, which proves integrity only against accidents, not against whoever made the export."""
    body = list(lines)
    try:
        seal_line = body.pop() if body else ""
        records = list(_records(body))
        header = next((r for r in records if r.get("kind") == "export"), {})
        key = public_key_hex or header.get("public_key")
        unsealed = _check_seal([*body, seal_line], key)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        unsealed = f"the export cannot be parsed: {exc}"
    if unsealed is not None:
        problem = {"event_id": None, "reason": "edited", "detail": unsealed}
        return {"ok": False, "events": 0, "chains": 0, "checkpoints": 0, "first_break": problem}
    chains: dict[tuple[int, int], list[dict[str, Any]]] = {}
    anchors: dict[tuple[int, int], dict[int, str]] = {}
    checkpoints = [r for r in records if r.get("kind") == "checkpoint"]
    for cp in checkpoints:
        if key is None or not _signature_ok(cp, key):
            return {
                "ok": False,
                "events": 0,
                "chains": 0,
                "checkpoints": len(checkpoints),
                "first_break": _break(
                    None,
                    (cp["firm_id"], 0),
                    0,
                    "checkpoint mismatch",
                    f"checkpoint {cp['id']} does not verify with the public key",
                ),
            }
        for chain_key, head in cp["heads"].items():
            anchors.setdefault((cp["firm_id"], int(chain_key)), {})[int(head["seq"])] = head["hash"]
    for r in records:
        if r.get("kind") == "event":
            chains.setdefault((r["firm_id"], r["chain_key"]), []).append(r)
    total = 0
    for chain_id, events in sorted(chains.items()):
        events.sort(key=lambda e: (e["chain_seq"], e["id"]))
        expected = events[0]["chain_seq"]
        previous = GENESIS_HEX if expected == 1 else events[0]["prev_hash"]
        for e in events:
            seq = e["chain_seq"]
            if seq != expected:
                reason = "inserted" if seq < expected else "missing"
                return {
                    "ok": False,
                    "events": total,
                    "chains": len(chains),
                    "checkpoints": len(checkpoints),
                    "first_break": _break(e, chain_id, seq, reason, f"expected position {expected}"),
                }
            if e["prev_hash"] != previous:
                return {
                    "ok": False,
                    "events": total,
                    "chains": len(chains),
                    "checkpoints": len(checkpoints),
                    "first_break": _break(
                        e, chain_id, seq, "reordered", "it does not link to the event before"
                    ),
                }
            if event_hash(e) != e["event_hash"]:
                return {
                    "ok": False,
                    "events": total,
                    "chains": len(chains),
                    "checkpoints": len(checkpoints),
                    "first_break": _break(e, chain_id, seq, "edited", "its content does not match its hash"),
                }
            pinned = anchors.get(chain_id, {}).get(seq)
            if pinned is not None and pinned != e["event_hash"]:
                return {
                    "ok": False,
                    "events": total,
                    "chains": len(chains),
                    "checkpoints": len(checkpoints),
                    "first_break": _break(
                        e,
                        chain_id,
                        seq,
                        "checkpoint mismatch",
                        "a signed checkpoint recorded another hash here",
                    ),
                }
            previous = e["event_hash"]
            expected += 1
            total += 1
    return {
        "ok": True,
        "events": total,
        "chains": len(chains),
        "checkpoints": len(checkpoints),
        "first_break": None,
    }
