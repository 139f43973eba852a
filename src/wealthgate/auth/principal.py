"""The Principal: who is calling, for which firm and (optionally) which advisor's book, with which scopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int
    firm_id: int
    advisor_id: int | None
    scopes: frozenset[str]
    name: str
    owner: str

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    def actor(self) -> dict[str, Any]:
        """How this caller is named in the audit trail."""
        return {
            "type": "api_key",
            "key_id": self.key_id,
            "key_name": self.name,
            "owner": self.owner,
            "firm_id": self.firm_id,
            "advisor_id": self.advisor_id,
        }


def operator_actor(firm_id: int, who: str) -> dict[str, Any]:
    """An operator acting through the CLI rather than an API key."""
    return {"type": "operator", "owner": who, "firm_id": firm_id}
