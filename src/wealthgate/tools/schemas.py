"""The registry as function-calling schemas: wealthgate's own list, OpenAI (strict), Anthropic and MCP.

All four are derived from each tool's Pydantic models (its twin route's, see derive.py). OpenAI's strict
mode needs every property required, `additionalProperties: false` on every object, optional values expressed
as a union with null, no defaults and no `$ref`; `strict()` rewrites a JSON Schema that way (and a test
checks every tool).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, Literal

from wealthgate.tools.registry import Tool

FORMATS = ("wealthgate", "openai", "anthropic", "mcp")
# keywords OpenAI strict mode accepts; the server still validates everything else (lengths, for one)
STRICT_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "description",
    "pattern",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
}


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            target = defs[schema["$ref"].rsplit("/", 1)[-1]]
            merged = {**_inline(target, defs), **{k: v for k, v in schema.items() if k != "$ref"}}
            return _inline(merged, defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def plain(model: type[Any], mode: Literal["validation", "serialization"] = "validation") -> dict[str, Any]:
    """The model's JSON Schema with `$ref`s inlined and titles dropped (they repeat the property names); an
    input is described as it is validated, an output (`mode="serialization"`) as it is written."""
    raw = model.model_json_schema(mode=mode)
    dropped: dict[str, Any] = _drop(_inline(raw, raw.get("$defs", {})), {"title"})
    return dropped


def _drop(schema: Any, keys: set[str]) -> Any:
    if isinstance(schema, dict):
        # property names are data, not keywords: a property called "title" stays
        return {
            k: ({p: _drop(s, keys) for p, s in v.items()} if k == "properties" else _drop(v, keys))
            for k, v in schema.items()
            if k not in keys
        }
    if isinstance(schema, list):
        return [_drop(v, keys) for v in schema]
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    options = schema.get("anyOf")
    if options is not None and any(o.get("type") == "null" for o in options):
        return schema
    described = {k: v for k, v in schema.items() if k == "description"}
    inner = {k: v for k, v in schema.items() if k != "description"}
    return {"anyOf": [inner, {"type": "null"}], **described}


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a plain JSON Schema for OpenAI strict mode."""
    node = {k: copy.deepcopy(v) for k, v in schema.items() if k in STRICT_KEYWORDS}
    if "anyOf" in node:
        node["anyOf"] = [strict(o) for o in node["anyOf"]]
    if "items" in node:
        node["items"] = strict(node["items"])
    if node.get("type") == "object" or "properties" in node:
        props = node.get("properties", {})
        required = set(node.get("required", []))
        node["properties"] = {
            name: strict(s) if name in required else _nullable(strict(s)) for name, s in props.items()
        }
        node["required"] = list(props)
        node["additionalProperties"] = False
    return node


def hints_of(t: Tool) -> dict[str, Any]:
    return {
        "title": t.title,
        "readOnlyHint": t.read_only,
        "destructiveHint": t.destructive,
        "idempotentHint": t.idempotent,
        "openWorldHint": False,
    }


def render(tools: Iterable[Tool], fmt: str) -> list[dict[str, Any]]:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out = []
    for t in tools:
        if fmt == "openai":
            out.append(
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": strict(plain(t.input)),
                        "strict": True,
                    },
                }
            )
        elif fmt == "anthropic":
            out.append({"name": t.name, "description": t.description, "input_schema": plain(t.input)})
        elif fmt == "mcp":
            out.append(
                {
                    "name": t.name,
                    "title": t.title,
                    "description": t.description,
                    "inputSchema": plain(t.input),
                    "outputSchema": plain(t.output, "serialization"),
                    "annotations": hints_of(t),
                }
            )
        else:
            out.append(
                {
                    "name": t.name,
                    "title": t.title,
                    "description": t.description,
                    "scope": t.scope,
                    "hints": {
                        "read_only": t.read_only,
                        "destructive": t.destructive,
                        "idempotent": t.idempotent,
                    },
                    "input_schema": plain(t.input),
                    "output_schema": plain(t.output, "serialization"),
                }
            )
    return out
