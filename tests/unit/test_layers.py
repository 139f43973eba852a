"""The house rules a reader can check: data flows down (domain packages never import an entrypoint or its
framework), migrations are frozen, routes reach the app only through typed dependencies and declare what
they answer, services take a connection, and only the scoped lookup makes a Visible* capability.

Every rule has a companion that breaks it on purpose, so a rule that could never fail is noticed."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response
from pydantic import BaseModel

import wealthgate
from wealthgate.api.deps import AgentReadConn, AgentStatementConn, Reader
from wealthgate.settings import Settings

PACKAGE = Path(wealthgate.__file__).parent
ENTRYPOINTS = {"api", "cli", "mcp", "web", "console"}
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
    # an import inside upgrade() is an import all the same
    (tmp_path / "0100_hidden.py").write_text("def upgrade() -> None:\n    import wealthgate.ledger.replay\n")
    assert importing_the_application(tmp_path) == [
        "0099_bad.py: imports wealthgate.audit",
        "0100_hidden.py: imports wealthgate.ledger.replay",
    ]


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


# ---- routes: typed dependencies, no `Any`, a declared response ---------------------------------------------
ROUTES = PACKAGE / "api" / "routes"


def nodes_of(path: Path) -> list[ast.AST]:
    """Every node of the module, in line order (so findings read top to bottom)."""
    return sorted(ast.walk(ast.parse(path.read_text())), key=lambda n: getattr(n, "lineno", 0))


def _is_app_state(node: ast.Attribute) -> bool:
    """`app.state`, `<anything>.app.state` or `request.state`: state reached around the typed dependencies."""
    if node.attr != "state":
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and owner.id in {"app", "request"}) or (
        isinstance(owner, ast.Attribute) and owner.attr == "app"
    )


def reaching_app_state(routes: Path) -> list[str]:
    """Routes take the pool, settings and recorders through `api/deps.py` (`ReadConn`, `AppSettings`, `Reads`,
    ...), never from `request.app.state`: a dependency has a type and one definition."""
    return [
        f"{path.name}:{node.lineno}: {ast.unparse(node)}"
        for path in sorted(routes.glob("*.py"))
        for node in nodes_of(path)
        if isinstance(node, ast.Attribute) and _is_app_state(node)
    ]


def test_no_route_reaches_into_app_state() -> None:
    assert len(list(ROUTES.glob("*.py"))) >= 8
    assert reaching_app_state(ROUTES) == []


def test_the_app_state_rule_can_fail(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        "async def f(request):\n    pool = request.app.state.pool\n    return request.state.principal\n"
    )
    assert reaching_app_state(tmp_path) == [
        "bad.py:2: request.app.state",
        "bad.py:3: request.state",
    ]


def _arguments(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    a = fn.args
    return [
        *a.posonlyargs,
        *a.args,
        *a.kwonlyargs,
        *([a.vararg] if a.vararg else []),
        *([a.kwarg] if a.kwarg else []),
    ]


def untyped_parameters(routes: Path) -> list[str]:
    """No parameter of a route (or of a closure inside one, the old `conn: Any`) is typed `Any`: a
    connection is `ReadConn`/`WriteConn` or `asyncpg.Connection`, a body its model."""
    return [
        f"{path.name}:{arg.lineno}: {arg.arg}: Any"
        for path in sorted(routes.glob("*.py"))
        for node in nodes_of(path)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for arg in _arguments(node)
        if arg.annotation is not None and ast.unparse(arg.annotation) in {"Any", "typing.Any"}
    ]


def test_no_route_parameter_is_typed_any() -> None:
    assert untyped_parameters(ROUTES) == []


def test_the_any_rule_can_fail(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        "from typing import Any\n"
        "async def route(body: Any) -> None:\n"
        "    async def work(conn: Any) -> None: ...\n"
    )
    assert untyped_parameters(tmp_path) == ["bad.py:2: body: Any", "bad.py:3: conn: Any"]


def _describes(schema: Any) -> bool:
    """A JSON schema that names its fields (a model, or a list/map/union of models), not a bare `object`."""
    if not isinstance(schema, dict):
        return False
    if "$ref" in schema or "properties" in schema:
        return True
    parts = [schema.get("items"), schema.get("additionalProperties")]
    parts += [*schema.get("anyOf", []), *schema.get("oneOf", []), *schema.get("allOf", [])]
    return any(_describes(part) for part in parts)


def undescribed_responses(app: FastAPI) -> list[str]:
    """Every operation says what it answers, so the OpenAPI document describes every body: its 2xx JSON
    response names a model (`response_model`, or for pre-encoded JSON a `response_class` with the model
    documented in `responses`); a file (CSV, JSON lines) declares its media types. A `dict[str, Any]`
    (declared, or taken from the return annotation) describes nothing. Read from the document FastAPI serves,
    so the check holds however routers are nested."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            success = {s: r for s, r in operation.get("responses", {}).items() if s.startswith("2")}
            if set(success) == {"204"}:
                continue
            contents = [c for r in success.values() for c in r.get("content", {}).items()]
            if not any(
                _describes(body.get("schema")) if media.endswith("json") else bool(body.get("schema"))
                for media, body in contents
            ):
                found.append(f"{method.upper()} {path}")
    return found


def test_every_route_declares_its_response(tmp_path: Path) -> None:
    from wealthgate.api.app import create_app  # here, so the static rules above run even if the app breaks

    app = create_app(Settings(home=tmp_path))  # built, not started: no database is touched
    assert sum(len(ops) for ops in app.openapi()["paths"].values()) >= 25
    assert undescribed_responses(app) == []


class Out(BaseModel):
    ok: bool


def test_the_response_rule_can_fail() -> None:
    app = FastAPI()

    @app.get("/typed", response_model=Out)
    async def typed() -> Out:
        return Out(ok=True)

    @app.get("/listed")
    async def listed() -> list[Out]:
        return []

    @app.get("/documented", response_class=Response, responses={200: {"model": Out}})
    async def documented() -> Response:
        return Response(b'{"ok":true}', media_type="application/json")

    csv = {"text/csv": {"schema": {"type": "string"}}}

    @app.get("/file", response_class=Response, responses={200: {"content": csv}})
    async def file() -> Response:
        return Response(b"ok\ntrue\n", media_type="text/csv")

    @app.get("/bare")
    async def bare() -> dict[str, Any]:
        return {"ok": True}

    @app.post("/nothing")
    async def nothing() -> Response:
        return Response(b"{}", media_type="application/json")

    assert undescribed_responses(app) == ["GET /bare", "POST /nothing"]


# ---- services take a connection; only jobs that own their transactions take the pool ----------------------
DOMAIN_PACKAGES = (
    "clients",
    "ledger",
    "portfolios",
    "suitability",
    "recommendations",
    "audit",
    "market",
    "auth",
    "idempotency",
    "people",
    "firms",
)
# (module, function) pairs that must own a pool, each for the reason given
OWNS_A_POOL = {
    # the read recorder's flusher writes batches in transactions of its own, after the requests it records
    ("audit/reads.py", "__init__"),
    # the checkpoint timer: a background job, one advisory-locked connection per tick
    ("audit/timer.py", "make_checkpoints_once"),
    ("audit/timer.py", "checkpoint_timer"),
    # an Idempotency-Key is claimed and released in transactions of their own: the claim must be visible to a
    # concurrent retry before the request's unit of work commits, and a release must survive its rollback
    ("idempotency/store.py", "claim"),
    ("idempotency/store.py", "release"),
    # authentication runs before the request has a connection, and a cache hit needs none at all
    ("auth/authenticate.py", "authenticate"),
    ("auth/authenticate.py", "authenticate_parsed"),
    ("auth/backoff.py", "authenticate_guarded"),
    # a back-off's audit event: the refused request has no unit of work, and its 401 must not roll it back
    ("auth/backoff.py", "_report"),
}
_POOL = re.compile(r"\bPool\b")


def taking_a_pool(package: Path, domains: tuple[str, ...] = DOMAIN_PACKAGES) -> list[str]:
    """Functions of the domain packages with a parameter typed `asyncpg.Pool` (alone or in a union), other
    than the allowed owners: a service runs on the caller's connection, inside the caller's snapshot or unit
    of work, so every figure of one response comes from one moment."""
    found = []
    for domain in domains:
        for path in sorted((package / domain).rglob("*.py")):
            rel = path.relative_to(package).as_posix()
            for node in nodes_of(path):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if (rel, node.name) in OWNS_A_POOL:
                    continue
                for arg in _arguments(node):
                    typed = ast.unparse(arg.annotation) if arg.annotation else ""
                    if _POOL.search(typed):
                        found.append(f"{rel}:{node.lineno}: {node.name}({arg.arg}: {typed})")
    return found


def test_services_take_a_connection_not_a_pool() -> None:
    assert taking_a_pool(PACKAGE) == []


def test_the_pool_rule_can_fail(tmp_path: Path) -> None:
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "bad.py").write_text(
        "import asyncpg\n"
        "async def load(conn: asyncpg.Connection | asyncpg.Pool) -> None: ...\n"
        "async def fine(conn: asyncpg.Connection) -> None: ...\n"
    )
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "timer.py").write_text(
        "async def checkpoint_timer(pool: asyncpg.Pool) -> None: ...\n"
    )
    assert taking_a_pool(tmp_path, ("ledger", "audit")) == [
        "ledger/bad.py:2: load(conn: asyncpg.Connection | asyncpg.Pool)"
    ]


# ---- capabilities: only the scoped lookup makes a Visible* value -----------------------------------------
def capability_classes(package: Path) -> dict[str, str]:
    """Every class named `Visible*`, and every subclass of one (`LockedRecommendation`), with the module that
    defines it (the only one that may construct it)."""
    classes = [
        (node, path.relative_to(package).as_posix())
        for path in sorted(package.rglob("*.py"))
        for node in nodes_of(path)
        if isinstance(node, ast.ClassDef)
    ]
    found = {node.name: rel for node, rel in classes if node.name.startswith("Visible")}
    grown = True
    while grown:
        subclasses = {
            node.name: rel
            for node, rel in classes
            if node.name not in found and any(ast.unparse(b).split(".")[-1] in found for b in node.bases)
        }
        found |= subclasses
        grown = bool(subclasses)
    return found


def forging_capabilities(package: Path) -> list[str]:
    """Calls of a `Visible*` class outside its own module: a capability is proof of a scoped lookup
    (`clients.visibility.find`/`find_with`, `ledger.accounts.lock`), so nothing else may make one."""
    classes = capability_classes(package)
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        for node in nodes_of(path):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in classes and classes[name] != rel:
                found.append(f"{rel}:{node.lineno}: {name}(...)")
    return found


def test_capabilities_are_made_only_by_their_scoped_lookup() -> None:
    assert {"VisibleClient", "VisibleAccount", "VisibleRecommendation"} <= capability_classes(PACKAGE).keys()
    assert capability_classes(PACKAGE)["VisibleClient"] == "clients/visibility.py"
    assert forging_capabilities(PACKAGE) == []


def test_the_capability_rule_can_fail(tmp_path: Path) -> None:
    (tmp_path / "clients").mkdir()
    (tmp_path / "clients" / "visibility.py").write_text(
        "class VisibleClient: ...\ndef find() -> VisibleClient:\n    return VisibleClient()\n"
    )
    (tmp_path / "clients" / "locked.py").write_text(
        "from clients.visibility import VisibleClient\nclass LockedClient(VisibleClient): ...\n"
    )
    (tmp_path / "clients" / "shortcut.py").write_text(
        "from clients import visibility, locked\nc = visibility.VisibleClient()\nd = locked.LockedClient()\n"
    )
    assert forging_capabilities(tmp_path) == [
        "clients/shortcut.py:2: VisibleClient(...)",
        "clients/shortcut.py:3: LockedClient(...)",
    ]


def replica_reads_before_their_caller(app: FastAPI) -> list[str]:
    """Routes whose replica-routed read connection (`AgentReadConn`) is solved before the caller's principal:
    it would not know whose writes to wait for (it then falls back to the primary, safe but never on a
    replica). FastAPI solves a route's dependencies in the order of its parameters."""
    from fastapi.routing import APIRoute

    from wealthgate.api.deps import _agent_read_conn, _agent_statement_conn

    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        calls = [d.call for d in route.dependant.dependencies]
        agent = next((c for c in calls if c in (_agent_read_conn, _agent_statement_conn)), None)
        if agent is None:
            continue
        principal_at = [
            i for i, c in enumerate(calls) if getattr(c, "__qualname__", "").startswith("require.")
        ]
        if not principal_at or principal_at[0] > calls.index(agent):
            found.append(f"{sorted(route.methods)[0]} {route.path}")
    return found


def test_replica_reads_know_their_caller_first(tmp_path: Path) -> None:
    from wealthgate.api.app import create_app

    app = create_app(Settings(home=tmp_path))
    assert replica_reads_before_their_caller(app) == []


def test_the_replica_read_rule_can_fail() -> None:
    app = FastAPI()

    @app.get("/late", response_model=Out)
    async def late(conn: AgentReadConn, principal: Reader) -> Out:
        return Out(ok=True)

    @app.get("/early", response_model=Out)
    async def early(principal: Reader, conn: AgentReadConn) -> Out:
        return Out(ok=True)

    @app.get("/late-statement", response_model=Out)
    async def late_statement(conn: AgentStatementConn, principal: Reader) -> Out:
        return Out(ok=True)

    assert replica_reads_before_their_caller(app) == ["GET /late", "GET /late-statement"]
