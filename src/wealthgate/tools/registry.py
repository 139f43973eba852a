"""A tool is defined once: name, a description written for a model, Pydantic input and output models, the
scope it needs, hints, and how it maps onto its REST twin. Every face (REST `/tools/{name}`, MCP, OpenAI and
Anthropic schemas, the SDK) is derived from this definition; the behaviour is the REST twin's own route, so a
tool's answers, scoping and errors are exactly the API's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class Call:
    """The REST request a tool call becomes."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    idempotency_key: str | None = None
    client_id: int | None = None  # for the audit trail


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    title: str
    description: str
    input: type[BaseModel]
    output: type[BaseModel]
    scope: str
    read_only: bool
    destructive: bool
    idempotent: bool
    to_call: Callable[[Any], Call]
    key_required: bool = False  # the REST twin refuses a write without an Idempotency-Key

    def call(self, arguments: BaseModel) -> Call:
        return self.to_call(arguments)


class Registry:
    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools = {t.name: t for t in tools}

    def __iter__(self) -> Any:
        return iter(self._tools.values())

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def visible_to(self, scopes: Iterable[str]) -> list[Tool]:
        """The tools a key with `scopes` may see and call."""
        held = set(scopes)
        return [t for t in self._tools.values() if t.scope in held]
