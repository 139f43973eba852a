"""The renovation's counts (issue 12): `PYTHONPATH=src .venv/bin/python scripts/house_counts.py`.

Counts what makes the safe way only a convention: untyped dicts, reaching into `app.state`, untyped
connections, pools handed to services, operations whose success body the OpenAPI document does not describe,
and vocabularies written out more than once. Run it on an old commit (`git archive <sha> | tar -x -C dir`) to
compare.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

SRC = Path("src/wealthgate")
VOCABULARIES = {
    "transaction types": re.compile(r"""["']buy["'],\s*["']sell["'],\s*["']dividend["']"""),
    "asset classes": re.compile(r"""["']equity["'],\s*["']fixed_income["']"""),
    "symbol pattern": re.compile(r"A-Z0-9\]\[A-Z0-9"),
}


def files(under: Path = SRC, *, migrations: bool = False) -> list[Path]:
    return [p for p in under.rglob("*.py") if migrations or "migrations" not in p.parts]


def count(pattern: str, under: Path = SRC) -> int:
    rx = re.compile(pattern)
    return sum(len(rx.findall(p.read_text())) for p in files(under))


def undescribed_operations() -> list[str]:
    os.environ.setdefault("WEALTHGATE_HOME", tempfile.mkdtemp())
    from wealthgate.api.app import create_app  # noqa: PLC0415  (after WEALTHGATE_HOME: settings read it)
    from wealthgate.settings import Settings  # noqa: PLC0415

    doc = create_app(Settings()).openapi()
    comps = doc.get("components", {}).get("schemas", {})

    def bare(schema: dict[str, Any] | None) -> bool:
        if not schema:
            return True
        if "$ref" in schema:
            schema = comps[schema["$ref"].split("/")[-1]]
        return schema.get("type") == "object" and not schema.get("properties")

    missing = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            ok = [r for code, r in op["responses"].items() if code.startswith("2")]
            schemas = [c.get("schema") for r in ok for c in r.get("content", {}).values()]
            if all(bare(s) for s in (schemas or [None])):
                missing.append(f"{method.upper()} {path}")
    return missing


COUNTS = {
    "dict[str, Any]": (r"dict\[str, Any\]", SRC),
    "app.state in api/routes": (r"app\.state", SRC / "api/routes"),
    "app.state in src": (r"app\.state", SRC),
    "conn: Any": (r"conn: Any", SRC),
    "Depends(require(...)) in routes": (r"Depends\(require\(", SRC / "api/routes"),
    "services typed Connection | Pool": (r"Connection \| asyncpg\.Pool", SRC),
    "hand-numbered $n parameters": (r"\$\d+", SRC),
}


def main() -> None:
    for name, (pattern, under) in COUNTS.items():
        print(f"{name:38} {count(pattern, under)}")
    for name, rx in VOCABULARIES.items():
        where = [str(p) for p in files() if rx.search(p.read_text())]
        print(f"{name + ' written out':38} {len(where)}  {' '.join(where)}")
    missing = undescribed_operations()
    print(f"{'operations without a described body':38} {len(missing)}  {'; '.join(missing)}")


if __name__ == "__main__":
    main()
