"""Data flows down: domain packages never import an entrypoint or its framework."""

from __future__ import annotations

import ast
from pathlib import Path

import wealthgate

PACKAGE = Path(wealthgate.__file__).parent
ENTRYPOINTS = {"api", "cli", "mcp", "web"}
FRAMEWORKS = {"fastapi", "starlette", "typer", "mcp", "uvicorn"}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def offending(root: Path) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in ENTRYPOINTS:
            continue
        for name in imports_of(path):
            top = name.split(".")[0]
            second = name.split(".")[1] if name.count(".") else ""
            if top in FRAMEWORKS or (top == "wealthgate" and second in ENTRYPOINTS):
                bad.append(f"{rel}: imports {name}")
    return bad


def test_domain_packages_do_not_import_entrypoints() -> None:
    assert offending(PACKAGE) == []


def test_the_rule_can_fail(tmp_path: Path) -> None:
    (tmp_path / "clients").mkdir()
    (tmp_path / "clients" / "bad.py").write_text(
        "from fastapi import HTTPException\nimport wealthgate.api.app\n"
    )
    assert len(offending(tmp_path)) == 2


MIGRATIONS = PACKAGE / "db" / "migrations" / "versions"


def importing_the_application(versions: Path) -> list[str]:
    """Migrations that import wealthgate: a migration is frozen at its revision and carries what it computes
    (a hash, a replay) in its own file, so a later change to the application cannot change an old upgrade."""
    return [
        f"{path.name}: imports {name}"
        for path in sorted(versions.glob("*.py"))
        for name in sorted(imports_of(path))
        if name.split(".")[0] == "wealthgate"
    ]


def test_no_migration_imports_the_application() -> None:
    assert len(list(MIGRATIONS.glob("*.py"))) >= 6
    assert importing_the_application(MIGRATIONS) == []


def test_the_migration_rule_can_fail(tmp_path: Path) -> None:
    (tmp_path / "0099_bad.py").write_text("from wealthgate.audit import chain\nimport alembic\n")
    assert importing_the_application(tmp_path) == ["0099_bad.py: imports wealthgate.audit"]


def importing_the_cli_root(cli: Path) -> list[str]:
    """Commands are modules under cli/ that the root (`cli/main.py`) assembles; they share `cli/common.py`
    and never import the root back, so there is no import cycle to hide behind function-local imports."""
    return [
        f"{path.name}: imports {name}"
        for path in sorted(cli.glob("*.py"))
        if path.name != "main.py"
        for name in sorted(imports_of(path))
        if name == "wealthgate.cli.main"
    ]


def test_no_cli_module_imports_the_cli_root() -> None:
    assert len(list((PACKAGE / "cli").glob("*.py"))) >= 4
    assert importing_the_cli_root(PACKAGE / "cli") == []


def test_the_cli_rule_can_fail(tmp_path: Path) -> None:
    (tmp_path / "policy.py").write_text("def f() -> None:\n    from wealthgate.cli.main import run_db\n")
    assert importing_the_cli_root(tmp_path) == ["policy.py: imports wealthgate.cli.main"]
