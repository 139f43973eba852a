"""A bad setting as an operator reads it: the environment variable, what it accepts, what it got.

pydantic reports `1 validation error for Settings / db_pool_max / Input should be a valid integer ...`: the
field's name, not the variable the operator set, and no range. `explain` turns each error into one line such
as `WEALTHGATE_DB_POOL_MAX: must be an integer between 1 and 50 (got 'abc')`, using the field's own type and
bounds (so a new setting explains itself) and the variable actually set when a setting has several names
(`DATABASE_URL` or `WEALTHGATE_DATABASE_URL`). Secret values are never echoed.
"""

from __future__ import annotations

import os
import re
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import AliasChoices, BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo

# What a setting takes when its type alone does not say it well.
HINTS = {
    "rate_limit_storage": (
        "a `limits` storage URI whose client is installed, such as async+redis://host:6379 (docs/limits.md)"
    ),
    "mcp_allowed_origins": (
        'a JSON list of origins or comma-separated origins, e.g. ["https://a.example"] or'
        " https://a.example,https://b.example"
    ),
}
LONGEST_ECHO = 60  # characters of a bad value repeated in the message


class SettingsError(Exception):
    """One or more settings are invalid; `problems` holds one line per bad variable, safe to print."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def variable(model: type[BaseModel], name: str) -> str:
    """The environment variable an operator sets for field `name`: the alias in use (or the first one), else
    the model's prefix and the name in capitals."""
    field = model.model_fields.get(name)
    alias = field.validation_alias if field is not None else None
    if isinstance(alias, AliasChoices):
        choices = [c for c in alias.choices if isinstance(c, str)]
        present = {k.upper() for k in os.environ}
        return next((c for c in choices if c.upper() in present), choices[0] if choices else name.upper())
    if isinstance(alias, str):
        return alias
    prefix = str(model.model_config.get("env_prefix", ""))
    return (prefix + name).upper()


def _field_name(model: type[BaseModel], loc: str) -> str:
    """The field pydantic's error is about: `loc` is its name, or its first alias (whichever one was set)."""
    if loc in model.model_fields:
        return loc
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        if any(isinstance(c, str) and c.upper() == loc.upper() for c in choices):
            return name
    return loc


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds(field: FieldInfo) -> str:
    low = high = ""
    for m in field.metadata:
        if isinstance(m, annotated_types.Ge):
            low = f"at least {_number(m.ge)}"
        elif isinstance(m, annotated_types.Gt):
            low = f"greater than {_number(m.gt)}"
        elif isinstance(m, annotated_types.Le):
            high = f"at most {_number(m.le)}"
        elif isinstance(m, annotated_types.Lt):
            high = f"less than {_number(m.lt)}"
    if low.startswith("at least") and high.startswith("at most"):
        return f"between {low.removeprefix('at least ')} and {high.removeprefix('at most ')}"
    return " and ".join(b for b in (low, high) if b)


def _plain_type(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `| None`, and whether None (an unset variable) is allowed."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), len(args) < len(get_args(annotation))
    return annotation, False


_TYPE_WORDS: dict[Any, str] = {
    bool: "true or false (also 1/0, yes/no, on/off)",
    int: "an integer",
    float: "a number",
    Path: "a file system path",
}


def allowed(model: type[BaseModel], name: str) -> str | None:
    """What field `name` accepts, in words ("an integer between 1 and 50", "one of auto, json, text")."""
    if name in HINTS:
        return HINTS[name]
    field = model.model_fields.get(name)
    if field is None:
        return None
    kind, _optional = _plain_type(field.annotation)
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(kind))
    words = _TYPE_WORDS.get(kind)
    bounds = _bounds(field)
    return f"{words} {bounds}" if words and bounds else words


def _secret(model: type[BaseModel], name: str) -> bool:
    field = model.model_fields.get(name)
    if field is None:
        return True  # unknown: say nothing of its value
    kind, _ = _plain_type(field.annotation)
    return kind is SecretStr or any(part in name for part in ("url", "secret", "keyring", "storage"))


def _echo(value: object) -> str:
    text = repr(value)
    return text if len(text) <= LONGEST_ECHO else text[: LONGEST_ECHO - 3] + "..."


def _reason(error: Any) -> str:
    """pydantic's own words, for a check the type does not describe (a validator's refusal)."""
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def explain(model: type[BaseModel], exc: ValidationError) -> SettingsError:
    """One line per bad variable: `NAME: must be WHAT (got 'VALUE')`."""
    problems: list[str] = []
    seen: set[str] = set()
    for error in exc.errors():
        loc = str((error.get("loc") or ("?",))[0])
        name = _field_name(model, loc)
        if name in seen:  # a union type reports each branch; one line per variable is enough
            continue
        seen.add(name)
        what = allowed(model, name)
        line = f"{variable(model, name)}: " + (f"must be {what}" if what else _reason(error))
        if not _secret(model, name) and "input" in error:
            line += f" (got {_echo(error['input'])})"
        problems.append(line)
    return SettingsError(problems)


_FIELD_IN_MESSAGE = re.compile(r'field "([^"]+)"')


def explain_source(model: type[BaseModel], exc: Exception) -> SettingsError:
    """pydantic-settings' own refusal (a value it could not decode before validation, such as bad JSON for
    a list): the same one line, without the value."""
    found = _FIELD_IN_MESSAGE.search(str(exc))
    if found is None:
        return SettingsError([f"a setting could not be read: {str(exc).splitlines()[0]}"])
    name = found.group(1)
    what = allowed(model, name) or "a valid value"
    return SettingsError([f"{variable(model, name)}: must be {what}"])
