"""The Principal: who is calling, for which firm and (optionally) which advisor's book, with which scopes.

A caller is an API key (`key_id`), a person signed in to the console (`user_id`, no key), or a key that acts
for a person (both). Where a decision must name a human (a review), it names `user_id`/`user_email`, never the
free-text `owner` a key carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int | None  # None for a person signed in to the console
    firm_id: int
    advisor_id: int | None
    scopes: frozenset[str]
    name: str
    owner: str
    user_id: int | None = None  # the person: a console session, or a key bound to a user
    user_email: str | None = None

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    def actor(self) -> dict[str, Any]:
        """How this caller is named in the audit trail."""
        if self.key_id is None:
            return {
                "type": "user",
                "user_id": self.user_id,
                "email": self.user_email,
                "name": self.name,
                "firm_id": self.firm_id,
                "advisor_id": self.advisor_id,
            }
        named = {
            "type": "api_key",
            "key_id": self.key_id,
            "key_name": self.name,
            "owner": self.owner,
            "firm_id": self.firm_id,
            "advisor_id": self.advisor_id,
        }
        if self.user_id is not None:
            named |= {"user_id": self.user_id, "email": self.user_email}
        return named


def operator_actor(firm_id: int, who: str) -> dict[str, Any]:
    """An operator acting through the CLI rather than an API key."""
    return {"type": "operator", "owner": who, "firm_id": firm_id}
