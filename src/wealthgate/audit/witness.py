"""The witness: every checkpoint, appended to a file the database cannot reach.

A database superuser can delete checkpoint rows, and then re-hash chains (with MACs they still cannot forge,
but a truncated chain needs no new MAC). The witness keeps a copy of every checkpoint outside the database:
`audit verify --witness FILE` holds the database against it. One JSON line per checkpoint, appended under an
exclusive lock with O_APPEND and fsync, so several workers and the CLI can append to one file. In production
put the directory on storage the database host cannot rewrite (docs/audit.md: object lock, WORM).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from wealthgate.errors import Unavailable


def check_outside(witness: Path, pgdata: Path) -> None:
    """A witness inside the database's own directory witnesses nothing: refuse it."""
    if witness.resolve().is_relative_to(pgdata.resolve()):
        raise Unavailable(
            f"the audit witness ({witness}) lies inside the database directory ({pgdata}): "
            "set WEALTHGATE_AUDIT_WITNESS_DIR to a directory outside it"
        )


def append(path: Path, documents: Iterable[dict[str, Any]]) -> int:
    """Append one line per document, durably; returns how many."""
    lines = b"".join(orjson.dumps({"kind": "checkpoint", **doc}) + b"\n" for doc in documents)
    if not lines:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, lines)
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock
    return lines.count(b"\n")


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The witnessed checkpoints, oldest first. A torn last line (a crash mid-append) is skipped."""
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                return
            doc = orjson.loads(raw)
            if isinstance(doc, dict) and doc.get("kind") == "checkpoint":
                yield doc
