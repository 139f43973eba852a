"""Running sums by day: where does a running balance first go below zero, in O(log days) per change.

Posting one transaction checks its account's cash at the end of every day from its trade date on, and the
replay of its (account, symbol) for a point below zero (ledger/posting.py); done once per posting that is a
scan of the account's history, so an import of N rows into one account cost N^2. A bulk import keeps each
account's daily cash and each holding's quantities here instead: a sparse segment tree over day numbers
(`date.toordinal()`), each node holding the sum of its days and the lowest running sum inside them, so adding
a value and asking for the first day below zero both walk one path of `DEPTH` nodes.

A day holds either its closing value only (`closing=True`, cash: the rule judges a day on its closing cash)
or every point in arrival order (quantities: a sale then a buy on one day dips in between), later arrivals
after earlier ones, as later transaction ids sort after earlier ones on one trade date.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DEPTH = 22  # 2**22 days: date.max.toordinal() is 3,652,059
SIZE = 1 << DEPTH
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Node:
    total: Decimal  # the sum of every value in the node's days
    lowest: Decimal  # the lowest running sum within the node's days, counted from the node's first day


Undo = list[tuple[int, Node | None]]


class RunningSums:
    """Values on days; `first_below(since)` is the first day from `since` on whose running sum (everything
    before it, plus its own values up to its lowest point) is below zero, and that running sum."""

    def __init__(self, *, closing: bool) -> None:
        self.closing = closing
        self._nodes: dict[int, Node] = {}

    def add(self, day: int, value: Decimal) -> Undo:
        """Add `value` on `day` (after what the day holds); returns what `undo` needs to take it back."""
        index = SIZE + day
        leaf = self._nodes.get(index)
        undo: Undo = [(index, leaf)]
        total = (leaf.total if leaf else ZERO) + value
        lowest = total if self.closing or leaf is None else min(leaf.lowest, total)
        self._nodes[index] = Node(total, lowest)
        index //= 2
        while index:
            undo.append((index, self._nodes.get(index)))
            left, right = self._nodes.get(2 * index), self._nodes.get(2 * index + 1)
            if left is not None and right is not None:
                self._nodes[index] = Node(
                    left.total + right.total, min(left.lowest, left.total + right.lowest)
                )
            else:  # an empty half holds no day: the node is its other half
                self._nodes[index] = left or right  # type: ignore[assignment]
            index //= 2
        return undo

    def undo(self, undo: Undo) -> None:
        """Take back one `add` (the latest one not yet taken back)."""
        for index, node in undo:
            if node is None:
                self._nodes.pop(index, None)
            else:
                self._nodes[index] = node

    def first_below(self, since: int = 0) -> tuple[int, Decimal] | None:
        """The first day >= `since` whose lowest running sum is below zero, with that running sum."""
        return self._first(1, 0, SIZE, since, ZERO)

    def _first(self, index: int, lo: int, hi: int, since: int, before: Decimal) -> tuple[int, Decimal] | None:
        """Search node `index` (days lo..hi-1, `before` the sum of every day before lo). One path is walked:
        a node wholly from `since` on is skipped when its lowest point is not below zero."""
        node = self._nodes.get(index)
        if node is None or hi <= since:
            return None
        if lo >= since and before + node.lowest >= 0:
            return None
        if hi - lo == 1:
            return lo, before + node.lowest
        mid = (lo + hi) // 2
        found = self._first(2 * index, lo, mid, since, before)
        if found is not None:
            return found
        left = self._nodes.get(2 * index)
        return self._first(2 * index + 1, mid, hi, since, before + (left.total if left else ZERO))
