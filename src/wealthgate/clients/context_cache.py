"""Rendered agent contexts kept by each worker, served again while nothing they are built from has changed.

What "nothing has changed" means is decided by the database, not guessed here: migration 0011's triggers bump
a stamp in the same transaction as any change the document depends on (the client's row, accounts, positions
and transactions; the firm's model portfolios; securities and prices), and the document depends on the date
(`age`) too. A `Stamp` is those four values as one snapshot sees them. An entry is served only to a read whose
own snapshot shows the stamp the document was rendered under, so the bytes served are the bytes the statement
would build in that snapshot: a read after a committed change sees a new stamp and renders again. Nothing is
ever invalidated, and no clock is involved.

One entry per (firm, client, summary or not): a newer rendering replaces the older (an older snapshot storing
after a newer one only costs the newer a miss, never a stale answer). Least recently used entries go first
beyond `entries` documents or `max_bytes` of them (a document's size follows its client's holdings, so a
count alone would not bound the memory: a 20-holding client's document is 8.7 kB, so by that rate 4,096
documents of 500-holding clients would be several hundred MB, an estimate, not a measurement); a document
larger than `max_bytes` is not kept. Either bound 0 turns the cache off (every read runs the full statement,
as before the cache).

Each worker is one event loop, so the mapping needs no lock. Visibility is never cached: every read checks it
first, with the statement that reads the stamp.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any, NamedTuple

__all__ = ["ContextKey", "RenderedContexts", "Stamp"]


class Stamp(NamedTuple):
    """What one snapshot says a client's context is built from (clients/queries.py STAMP_COLUMNS)."""

    version: int  # the client's (its row, accounts, positions, transactions)
    models: int | None  # the firm's model portfolios (None: untouched since migration 0011 and no firm row)
    shared: int  # securities and prices, for every firm
    today: date  # the transaction's current_date: the client's age

    @classmethod
    def read(cls, row: Any) -> Stamp | None:
        """The stamp of a row with STAMP_COLUMNS, or None when it cannot vouch for a document (a client
        without a version row, or no shared epoch: the rows 0011 keeps were removed by hand)."""
        version, models, shared, today = row["version"], row["models"], row["shared"], row["today"]
        if version is None or shared is None:
            return None
        return cls(version, models, shared, today)


class ContextKey(NamedTuple):
    firm_id: int
    client_id: int
    summary: bool


class RenderedContexts:
    """A bounded LRU of rendered context documents, each under the stamp it was rendered at."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self._documents: OrderedDict[ContextKey, tuple[Stamp, bytes]] = OrderedDict()
        self.bytes = 0  # of the documents kept
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.entries > 0 and self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._documents)

    def holds(self, key: ContextKey) -> bool:
        """Whether a document of `key` is kept, under whatever stamp (a read of one that is not kept need not
        ask for the stamp first: it would miss whatever the stamp says). Counts the miss it announces."""
        if key in self._documents:
            return True
        self.misses += 1
        return False

    def get(self, key: ContextKey, stamp: Stamp) -> bytes | None:
        """The document rendered under exactly `stamp`, if kept."""
        found = self._documents.get(key)
        if found is None or found[0] != stamp:
            self.misses += 1
            return None
        self._documents.move_to_end(key)
        self.hits += 1
        return found[1]

    def put(self, key: ContextKey, stamp: Stamp, document: bytes) -> None:
        """Keep `document` as rendered under `stamp`, replacing what `key` held; evict the least recently used
        beyond `entries` documents or `max_bytes`. A document larger than `max_bytes` is not kept."""
        if not self.enabled:
            return
        replaced = self._documents.pop(key, None)
        if replaced is not None:
            self.bytes -= len(replaced[1])
        if len(document) > self.max_bytes:
            return
        self._documents[key] = (stamp, document)
        self.bytes += len(document)
        while len(self._documents) > self.entries or self.bytes > self.max_bytes:
            _, (_, evicted) = self._documents.popitem(last=False)
            self.bytes -= len(evicted)
