"""A tool's models, derived from its REST twin: the input model from the route's path and query parameters and
its JSON body model, the output model from the route's `response_model`.

The input is the route's own parameters in the route's order, names, required-ness and constraints, rewritten
only where a model needs another form:

- a `date` is a `YYYY-MM-DD` string and a `Decimal` a decimal string (models write text; the route parses it);
- an optional parameter is nullable with no default (null or absent: the route's default applies, and is
  named in the description), which OpenAI's strict mode needs;
- nested objects are closed (`additionalProperties: false`) and keep their fields' own constraints;
- a query parameter keeps its Python name (`from_date`), the route's alias (`from`) is what is sent.

Beyond that, a `ToolSpec` declares its differences by name (`omit`, `rename`, `flatten`, `describe`,
`idempotency_key`); a name that matches nothing in the route is an error at import, so a renamed route
parameter cannot silently drop out of a tool.

This module reads route objects by their attributes and imports no web framework (tools/ sits below the
entrypoints); `Route` names the few attributes it reads, which FastAPI's `APIRoute` has.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Protocol, Union, get_args, get_origin

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from wealthgate.tools.registry import Binding, Tool, ToolSpec

DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DECIMAL_PATTERN = r"^\d{1,14}(\.\d{1,8})?$"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # what the API accepts in the Idempotency-Key header

Day = Annotated[str, Field(pattern=DAY_PATTERN, description="A date, YYYY-MM-DD.")]
DecimalString = Annotated[str, Field(pattern=DECIMAL_PATTERN, description="A decimal as a string.")]
IdempotencyKey = Annotated[str, Field(pattern=IDEMPOTENCY_KEY_PATTERN)]
_STRICT: dict[type, Any] = {int: StrictInt, bool: StrictBool}


class Parameter(Protocol):
    """A route parameter or body field as FastAPI keeps it (`fastapi._compat.ModelField`)."""

    @property
    def name(self) -> str: ...
    @property
    def alias(self) -> str: ...
    @property
    def field_info(self) -> FieldInfo: ...


class Dependant(Protocol):
    @property
    def path_params(self) -> Sequence[Parameter]: ...
    @property
    def query_params(self) -> Sequence[Parameter]: ...


class Route(Protocol):
    """What a tool reads from its twin (FastAPI's `APIRoute`)."""

    @property
    def name(self) -> str: ...
    @property
    def methods(self) -> set[str]: ...
    @property
    def dependant(self) -> Dependant: ...
    @property
    def body_field(self) -> Parameter | None: ...
    @property
    def response_model(self) -> Any: ...


class Arguments(BaseModel):
    """A tool's arguments: unknown ones are refused (a model's typo is a 422 naming it, never ignored)."""

    model_config = ConfigDict(extra="forbid")


class AnyObject(BaseModel):
    """The answer of a twin that declares no response model yet: any JSON object."""

    model_config = ConfigDict(extra="allow")


# ---- types as a model writes them -------------------------------------------------------------------------


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _textual(tp: Any) -> Any | None:
    """The string form a model writes for a date or a decimal (their numeric constraints do not apply to
    text: the route checks them), or None for any other type."""
    if get_origin(tp) is Annotated:
        return _textual(get_args(tp)[0])
    if tp is date:
        return Day
    if tp is Decimal:
        return DecimalString
    return None


def agent_type(tp: Any, path: str, words: Mapping[str, str]) -> Any:
    """`tp` as a tool argument: dates and decimals as text, models as closed argument models, integers and
    booleans strict (tool arguments are JSON: `"12"` is no integer and `"true"` no boolean, and a model that
    sends them is told so rather than having them read for it)."""
    plain = _textual(tp) or (_STRICT.get(tp) if isinstance(tp, type) else None)
    if plain is not None:
        return plain
    origin = get_origin(tp)
    if origin is Annotated:
        inner, *meta = get_args(tp)
        return Annotated[(agent_type(inner, path, words), *meta)]
    if _is_union(tp):
        return Union[tuple(agent_type(a, path, words) for a in get_args(tp))]  # noqa: UP007 (from a tuple)
    if origin in (list, Sequence):
        (item,) = get_args(tp)
        return list[agent_type(item, path, words)]  # type: ignore[misc]  # built at runtime
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _closed(tp, path, words)
    return tp


def _closed(model: type[BaseModel], path: str, words: Mapping[str, str]) -> type[BaseModel]:
    fields = {
        name: _field(f.annotation, f, f"{path}.{name}", words) for name, f in model.model_fields.items()
    }
    closed: type[BaseModel] = create_model(  # type: ignore[call-overload]  # fields built at runtime
        model.__name__, __base__=Arguments, __doc__=model.__doc__, **fields
    )
    return closed


def _default_words(info: FieldInfo) -> str:
    default = info.get_default(call_default_factory=True)
    if default is None or default is PydanticUndefined:
        return ""
    return f"Default: {orjson.dumps(default, default=str).decode().strip(chr(34))}."


def _field(
    annotation: Any, info: FieldInfo, path: str, words: Mapping[str, str], *, required: bool | None = None
) -> tuple[Any, Any]:
    """One argument (`path` is its dotted name): the route field's type as a model writes it, with the
    route's own constraints (none for a date or decimal written as text), required as in the route, else
    nullable. Its words: the glossary's or the spec's for `path`, else the route's."""
    typed = agent_type(annotation, path, words)
    keep = [] if _textual(_strip_none(annotation)) is not None else list(info.metadata)
    if keep:
        typed = Annotated[(typed, *keep)]
    described = words.get(path) or info.description or ""
    if info.is_required() if required is None else required:
        return typed, Field(description=described or None)
    text = " ".join(w for w in (described, _default_words(info)) if w) or None
    return typed | None, Field(None, description=text)


def _strip_none(tp: Any) -> Any:
    if _is_union(tp):
        rest = [a for a in get_args(tp) if a is not type(None)]
        return rest[0] if len(rest) == 1 else tp
    return tp


# ---- a tool from its route ---------------------------------------------------------------------------------


def _body_model(route: Route) -> type[BaseModel] | None:
    body = route.body_field
    if body is None:
        return None
    model = _strip_none(body.field_info.annotation)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"route {route.name}: a tool's twin takes a JSON object body, not {model!r}")
    return model


def derive(spec: ToolSpec, route: Route, glossary: Mapping[str, str]) -> Tool:
    """The tool `spec` declares, over `route`. `glossary` holds words for arguments many tools share
    (`client_id`, `trades.quantity`); a spec's own `describe` wins over it, and both over the route's."""
    words = {**glossary, **spec.describe}
    fields: dict[str, tuple[Any, Any]] = {}
    bindings: list[Binding] = []
    seen: set[str] = set()

    def offer(
        name: str, annotation: Any, info: FieldInfo, where: str, key: str, required: bool | None = None
    ) -> None:
        seen.add(name)
        if name in spec.omit:
            return
        argument = spec.rename.get(name, name)
        if argument in fields:
            raise ValueError(f"tool {spec.name}: two route parameters are offered as {argument!r}")
        fields[argument] = _field(annotation, info, argument, words, required=required)
        bindings.append(Binding(argument, where, key))

    for p in route.dependant.path_params:
        offer(p.name, p.field_info.annotation, p.field_info, "path", p.name)
    for p in route.dependant.query_params:
        offer(p.name, p.field_info.annotation, p.field_info, "query", p.alias)
    body = _body_model(route)
    if body is not None:
        for name, f in body.model_fields.items():
            key = f.alias or name
            inner = _strip_none(f.annotation)
            if name in spec.flatten:
                seen.add(name)
                if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
                    raise TypeError(f"tool {spec.name}: {name} is no object to flatten")
                for sub, g in inner.model_fields.items():
                    required = f.is_required() and g.is_required()
                    offer(f"{name}_{sub}", g.annotation, g, "body", f"{key}.{g.alias or sub}", required)
            else:
                offer(name, f.annotation, f, "body", key)
    if spec.idempotency_key:
        fields["idempotency_key"] = (
            IdempotencyKey | None,
            Field(None, description=words.get("idempotency_key")),
        )
        bindings.append(Binding("idempotency_key", "header", "Idempotency-Key"))
    unknown = (set(spec.omit) | set(spec.rename) | set(spec.flatten)) - seen
    unknown |= {d for d in spec.describe if d.split(".")[0] not in fields}
    if unknown:
        raise ValueError(f"tool {spec.name}: route {route.name} has no parameter {sorted(unknown)}")
    arguments: type[BaseModel] = create_model(  # type: ignore[call-overload]  # fields built at runtime
        _camel(spec.name) + "Arguments", __base__=Arguments, **fields
    )
    output = route.response_model
    if not (isinstance(output, type) and issubclass(output, BaseModel)):
        output = AnyObject
    (method,) = sorted(route.methods - {"HEAD"})
    return Tool(
        spec=spec,
        input=arguments,
        output=output,
        method=method,
        bindings=tuple(bindings),
        has_body=body is not None,
    )


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def registry_of(specs: Sequence[ToolSpec], routes: Sequence[Any], glossary: Mapping[str, str]) -> list[Tool]:
    """Every declared tool over its twin, found by name among `routes` (each name must be one route)."""
    by_name: dict[str, list[Route]] = {}
    for r in routes:
        if hasattr(r, "dependant"):
            by_name.setdefault(r.name, []).append(r)
    tools = []
    for spec in specs:
        found = by_name.get(spec.route, [])
        if len(found) != 1:
            raise LookupError(f"tool {spec.name}: {len(found)} routes are named {spec.route!r}, not one")
        tools.append(derive(spec, found[0], glossary))
    return tools
