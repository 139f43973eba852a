"""Capabilities: values that prove a check was made, because only the module making the check can make them.

A capability (`VisibleClient`, `VisibleAccount`, `VisibleRecommendation`) is a frozen dataclass with an
init-only `_proof` argument that its `__post_init__` hands to its module's `Seal`. Only that module holds the
seal, so a value made anywhere else fails at construction, and `dataclasses.replace(visible, client_id=...)`
fails too: the proof is init-only, never stored, so `replace` cannot copy it.
"""

from __future__ import annotations


class Seal:
    """The mark a capability's own module passes when it makes one (and nobody else can)."""

    __slots__ = ("maker", "what")

    def __init__(self, what: str, maker: str) -> None:
        self.what = what
        self.maker = maker

    def check(self, proof: object) -> None:
        if proof is not self:
            raise TypeError(f"a {self.what} is made only by {self.maker}")
