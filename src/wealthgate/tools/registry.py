"""A tool is declared once (`ToolSpec`: its name, words for a model, scope, effect, and the REST route that
implements it, its *twin*, named as the router names it); its input and output models are derived from that
route (`tools/derive.py`). Every face (REST `/tools/{name}`, MCP, OpenAI and Anthropic schemas, the SDK, the
CLI) reads the resulting `Registry`; a call runs the twin itself, so a tool's answers, scoping and errors are
exactly the API's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel


class Effect(Enum):
    """What calling a tool does, as the MCP hints say it: `READS` is read-only and idempotent; `WRITES`
    records something (not idempotent without a key) and never destroys anything."""

    READS = "reads"
    WRITES = "writes"


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolSpec:
    """One tool as declared beside its route. Only what differs from the route is written here:

    - `omit`: route parameters not offered to agents (the route's default applies);
    - `rename`: a route parameter offered under another name (`{"rec_id": "recommendation_id"}`);
    - `flatten`: body fields whose object is offered as `<field>_<name>` arguments (`agent` -> `agent_name`);
    - `describe`: an argument's words for a model, where the route's own are missing or written for people;
    - `idempotency_key`: the tool takes an `idempotency_key` argument that travels as the `Idempotency-Key`
      header, and its twin requires one (a call without it gets a fresh key).
    """

    route: str
    name: str
    title: str
    description: str
    scope: str
    effect: Effect = Effect.READS
    omit: tuple[str, ...] = ()
    rename: Mapping[str, str] = field(default_factory=dict)
    flatten: tuple[str, ...] = ()
    describe: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: bool = False


@dataclass(frozen=True, slots=True)
class Binding:
    """Where one argument goes in the twin's request: a `path` parameter, a `query` parameter, a `body`
    field (`key` is a dotted path inside the JSON body), or a `header`."""

    argument: str
    where: str
    key: str


@dataclass(frozen=True, slots=True)
class Call:
    """The REST request a tool call becomes; `route` is the twin's name, its path is the app's to build
    (`app.url_path_for(route, **path_params)`)."""

    method: str
    route: str
    path_params: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    idempotency_key: str | None = None
    client_id: int | None = None  # for the audit trail


@dataclass(frozen=True, kw_only=True, slots=True)
class Tool:
    """A declared tool with what its route gave it: the agent-facing input model, the output model (the
    route's `response_model`, or any object until the route declares one), the HTTP method and where each
    argument goes."""

    spec: ToolSpec
    input: type[BaseModel]
    output: type[BaseModel]
    method: str
    bindings: tuple[Binding, ...]
    has_body: bool = False  # the twin reads a JSON body (sent even when every body argument is unset)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def scope(self) -> str:
        return self.spec.scope

    @property
    def read_only(self) -> bool:
        return self.spec.effect is Effect.READS

    @property
    def destructive(self) -> bool:
        return False  # no tool deletes or overwrites anything: writes append (a note, a check, a proposal)

    @property
    def idempotent(self) -> bool:
        return self.spec.effect is Effect.READS

    @property
    def key_required(self) -> bool:
        return self.spec.idempotency_key

    def call(self, arguments: BaseModel) -> Call:
        """The twin's request for validated `arguments`: unset (None) arguments are left out, so the route's
        own defaults apply; query values are the text a URL carries (`true`, not `True`)."""
        given = arguments.model_dump(mode="json")
        path: dict[str, Any] = {}
        query: dict[str, Any] = {}
        body: dict[str, Any] = {}
        key: str | None = None
        for b in self.bindings:
            value = _without_nulls(given.get(b.argument))
            if value is None:
                continue
            if b.where == "path":
                path[b.key] = value
            elif b.where == "query":
                query[b.key] = str(value).lower() if isinstance(value, bool) else value
            elif b.where == "header":
                key = str(value)
            else:
                _put(body, b.key.split("."), value)
        client_id = given.get("client_id")
        return Call(
            self.method,
            self.spec.route,
            path,
            query,
            json=body if self.has_body else None,
            idempotency_key=key,
            client_id=client_id if isinstance(client_id, int) else None,
        )


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _put(body: dict[str, Any], keys: list[str], value: Any) -> None:
    for k in keys[:-1]:
        body = body.setdefault(k, {})
    body[keys[-1]] = value


class Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def scope(self) -> str: ...


T = TypeVar("T", bound=Named)


class Registry(Generic[T]):
    """Tools by name: the declarations (`Registry[ToolSpec]`, `tools.catalog.TOOLS`: names, words and scopes,
    what needs no server code, e.g. the SDK) or the tools derived over the routes (`Registry[Tool]`,
    `api.tool_calls.REGISTRY`)."""

    def __init__(self, tools: Iterable[T]) -> None:
        self._tools = {t.name: t for t in tools}

    def __iter__(self) -> Iterator[T]:
        return iter(self._tools.values())

    def __getitem__(self, name: str) -> T:
        return self._tools[name]

    def get(self, name: str) -> T | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def visible_to(self, scopes: Iterable[str]) -> list[T]:
        """The tools a key with `scopes` may see and call."""
        held = set(scopes)
        return [t for t in self._tools.values() if t.scope in held]
