"""Verify an audit export with nothing but this file, Python 3.11+ and the `cryptography` package.

An outside party (an auditor, a regulator, the firm's own vault) can check an export without wealthgate or
its database:

    from offline import verify_export
    with open("trail.jsonl") as f:
        report = verify_export(f, public_keys={"<key id>": "<the firm's published Ed25519 public key, hex>"})
    assert report["ok"], report["first_break"]

(`wealthgate audit keys list --public` prints the firm's public keys by id.) It recomputes every event's
SHA-256 over its canonical JSON (sorted keys, no whitespace, UTF-8) in the event's hash format, checks each
chain's positions and links, every signed checkpoint (signature by key id, link to the previous one) against
the events it covers, and the seal: a signed SHA-256 over every byte of the export. Event MACs need the
firm's secret MAC key and are checked by `wealthgate audit verify`, not here. This module deliberately
imports nothing from wealthgate.

Hash formats: 1 covers `HASHED`; 2 adds `hash_version` and `client_request_id`. Checkpoint formats: 1
signs `{firm_id, created_at, heads, public_key}`; 2 signs
`{format, firm_id, id, created_at, key_id, previous, heads}`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
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
    "hash_version",
    "client_request_id",
    "mac_key_id",
    "mac",
    "checkpoint",
]
CSV_JSON = {
    "id",
    "firm_id",
    "actor_key_id",
    "actor",
    "client_id",
    "details",
    "chain_key",
    "chain_seq",
    "hash_version",
}
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


class Broken(Exception):
    def __init__(self, reason: str, detail: str, **where: Any) -> None:
        super().__init__(detail)
        self.found = {"firm_id": None, "chain_key": None, "event_id": None, "chain_seq": None, **where}
        self.found.update(reason=reason, detail=detail)


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_hash(event: Mapping[str, Any]) -> str:
    version = event.get("hash_version") or 1
    body = {k: event[k] for k in HASHED}
    if version == 2:
        body.update(hash_version=2, client_request_id=event.get("client_request_id"))
    elif version != 1:
        raise ValueError(f"unknown hash format {version}")
    return hashlib.sha256(canonical(body)).hexdigest()


def key_id(public_key_hex: str) -> str:
    """A signing key's id: the first 128 bits of SHA-256 over the raw public key, in hex."""
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:32]


def _verifies(keys: Mapping[str, str], kid: str | None, signature_hex: str | None, message: bytes) -> bool:
    public = keys.get(kid or "")
    if public is None or not signature_hex or key_id(public) != kid:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(
            bytes.fromhex(signature_hex), message
        )
    except InvalidSignature:
        return False
    return True


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def _parse_seal(line: str) -> dict[str, Any]:
    seal: dict[str, Any] = json.loads(line if line.startswith("{") else next(csv.reader([line]))[-1])
    if seal.get("kind") != "seal":
        raise ValueError("the export does not end with its seal")
    return seal


def _seal_text(seal: dict[str, Any], as_csv: bool) -> str:
    """The exact bytes of a seal line: the file ends with it, and nothing may differ."""
    text = canonical(seal).decode("utf-8")
    return _csv_line(["seal"] + [""] * (len(CSV_COLUMNS) - 2) + [text]) if as_csv else text + "\n"


def _check_seal(body: list[str], seal_line: str, keys: Mapping[str, str]) -> None:
    """The seal covers every byte before it, is signed by a trusted key, and is the exact last line."""
    seal = _parse_seal(seal_line)
    if seal_line != _seal_text(seal, as_csv=not seal_line.startswith("{")):
        raise Broken("edited", "the seal line was altered, or something follows it")
    digest = hashlib.sha256("".join(body).encode("utf-8")).hexdigest()
    if seal["sha256"] != digest:
        raise Broken("edited", "the export's bytes differ from those its seal covers")
    if not _verifies(keys, seal.get("key_id"), seal.get("signature"), digest.encode()):
        raise Broken("edited", f"the seal is not signed by a trusted key (its key: {seal.get('key_id')})")


def _records(lines: list[str]) -> Iterable[dict[str, Any]]:
    if lines and lines[0].startswith("{"):
        yield from (json.loads(line) for line in lines if line.strip())
        return
    for row in csv.DictReader(lines):
        if row["kind"] in ("checkpoint", "export"):
            yield {"kind": row["kind"], **json.loads(row["checkpoint"])}
            continue
        event: dict[str, Any] = {"kind": "event"}
        for column in CSV_COLUMNS[1:-1]:
            value = row.get(column) or ""
            event[column] = None if value == "" else json.loads(value) if column in CSV_JSON else value
        yield event


def checkpoint_document(cp: Mapping[str, Any]) -> bytes:
    """The bytes a checkpoint's signature covers, in its format."""
    if cp.get("format", 1) == 1:
        return canonical(
            {
                "firm_id": cp["firm_id"],
                "created_at": cp["created_at"],
                "heads": cp["heads"],
                "public_key": cp["key_id"],
            }
        )
    return canonical(
        {k: cp[k] for k in ("format", "firm_id", "id", "created_at", "key_id", "previous", "heads")}
    )


def _check_checkpoints(
    checkpoints: list[dict[str, Any]], keys: Mapping[str, str]
) -> dict[tuple[int, int], dict[int, str]]:
    anchors: dict[tuple[int, int], dict[int, str]] = {}
    previous: dict[int, dict[str, Any]] = {}
    for cp in sorted(checkpoints, key=lambda c: (c["firm_id"], c["id"])):
        where = {"firm_id": cp["firm_id"], "checkpoint_id": cp["id"]}
        cp.setdefault("key_id", cp.get("public_key_fingerprint"))  # format-1 exports
        if not _verifies(keys, cp["key_id"], cp["signature"], checkpoint_document(cp)):
            detail = f"checkpoint {cp['id']} does not verify with a trusted key (its key: {cp['key_id']})"
            raise Broken("checkpoint mismatch", detail, **where)
        before = previous.get(cp["firm_id"])
        link = hashlib.sha256(checkpoint_document(before)).hexdigest() if before else None
        if cp.get("format", 1) >= 2 and cp.get("previous") != link:
            raise Broken(
                "checkpoint missing", f"checkpoint {cp['id']} does not link to the one before it", **where
            )
        previous[cp["firm_id"]] = cp
        for chain_key, head in cp["heads"].items():
            anchors.setdefault((cp["firm_id"], int(chain_key)), {})[int(head["seq"])] = head["hash"]
    return anchors


def _check_chain(chain: tuple[int, int], events: list[dict[str, Any]], pins: Mapping[int, str]) -> None:
    events.sort(key=lambda e: (e["chain_seq"], e["id"]))
    expected = events[0]["chain_seq"]
    previous = GENESIS_HEX if expected == 1 else events[0]["prev_hash"]
    for e in events:
        seq = e["chain_seq"]
        where = {"firm_id": chain[0], "chain_key": chain[1], "event_id": e["id"], "chain_seq": seq}
        if seq != expected:
            raise Broken(
                "inserted" if seq < expected else "missing", f"expected position {expected}", **where
            )
        if e["prev_hash"] != previous:
            raise Broken("reordered", "it does not link to the event before", **where)
        if event_hash(e) != e["event_hash"]:
            raise Broken("edited", "its content does not match its hash", **where)
        if pins.get(seq, e["event_hash"]) != e["event_hash"]:
            raise Broken("checkpoint mismatch", "a signed checkpoint recorded another hash here", **where)
        previous = e["event_hash"]
        expected += 1


def verify_export(
    lines: Iterable[str], public_key_hex: str | None = None, public_keys: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Check an export (JSON lines or CSV) against the keys you trust: `public_keys` (id -> hex) or one
    `public_key_hex`. Without either, the export's own stated keys are used, which proves integrity only
    against accidents, not against whoever made the export."""
    raw = list(lines)
    report: dict[str, Any] = {"ok": False, "events": 0, "chains": 0, "checkpoints": 0, "first_break": None}
    try:
        if not raw:
            raise Broken("edited", "the export is empty")
        body, seal_line = raw[:-1], raw[-1]
        records = list(_records(body))
        header = next((r for r in records if r.get("kind") == "export"), {})
        trusted = dict(public_keys or {})
        if public_key_hex:
            trusted[key_id(public_key_hex)] = public_key_hex
        if not trusted:
            trusted = dict(header.get("public_keys") or {})
            if header.get("public_key"):  # format-1 exports
                trusted[key_id(header["public_key"])] = header["public_key"]
        _check_seal(body, seal_line, trusted)
        checkpoints = [r for r in records if r.get("kind") == "checkpoint"]
        report["checkpoints"] = len(checkpoints)
        anchors = _check_checkpoints(checkpoints, trusted)
        chains: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for r in records:
            if r.get("kind") == "event":
                chains.setdefault((r["firm_id"], r["chain_key"]), []).append(r)
        report["chains"] = len(chains)
        for chain, events in sorted(chains.items()):
            _check_chain(chain, events, anchors.get(chain, {}))
            report["events"] += len(events)
    except Broken as exc:
        report["first_break"] = exc.found
        return report
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        report["first_break"] = Broken("edited", f"the export cannot be parsed: {exc}").found
        return report
    report["ok"] = True
    return report
