"""The documentation pages work without the internet, and the OpenAPI document declares `Idempotency-Key`
wherever a route honours it (so Swagger's "Try it out" can create a recommendation)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from wealthgate.api import idempotent, openapi
from wealthgate.api.app import create_app
from wealthgate.settings import Settings

API = Path(openapi.__file__).parent
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """The app built, not started: the pages, their assets and the document touch no database."""
    return TestClient(create_app(Settings(home=tmp_path_factory.mktemp("docs-home"))))


def referenced(html: str) -> list[str]:
    """Every URL the page loads: src/href attributes and the spec URL handed to the scripts."""
    found = re.findall(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""", html)
    found += re.findall(r"""\burl:\s*["']([^"']+)["']""", html)
    return found


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_every_asset_from_the_service(app_client: TestClient, page: str) -> None:
    answer = app_client.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert re.findall(r"(?:https?:)?//[\w.-]+", html) == [], "the page names a host outside the service"
    urls = referenced(html)
    assert "/openapi.json" in urls
    assert any(u.endswith(".js") for u in urls)
    for url in urls:
        assert url.startswith("/"), url
        asset = app_client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url


def test_swagger_keeps_its_oauth2_redirect_page(app_client: TestClient) -> None:
    answer = app_client.get("/docs/oauth2-redirect")
    assert answer.status_code == 200
    assert "oauth2" in answer.text.lower()
    assert "/docs/oauth2-redirect" in app_client.get("/docs").text


def idempotency_header(operation: dict[str, Any]) -> dict[str, Any] | None:
    parameters: list[dict[str, Any]] = operation.get("parameters", [])
    named = [p for p in parameters if p["in"] == "header" and p["name"] == idempotent.HEADER]
    assert len(named) <= 1
    return named[0] if named else None


def test_creating_a_recommendation_declares_its_required_idempotency_key(app_client: TestClient) -> None:
    spec = app_client.get("/openapi.json").json()
    header = idempotency_header(spec["paths"]["/recommendations"]["post"])
    assert header is not None, "POST /recommendations must declare Idempotency-Key"
    assert header["required"] is True
    assert header["description"]
    assert header["schema"]["pattern"] == r"^[\x21-\x7e]{1,255}$"
    # the pattern states what the service accepts, no more, no less
    pattern = re.compile(header["schema"]["pattern"])
    for sample in ["a", "0b6c1d6e-5a0e-4c55-9a1c-2f0f1f0e6c11", "~" * 255, "", "a b", "x" * 256, "é", "a\tb"]:
        accepted = idempotent._KEY.fullmatch(sample) is not None
        assert (pattern.fullmatch(sample) is not None) == accepted, sample
    # the others accept it without requiring it
    assert idempotency_header(spec["paths"]["/clients/{client_id}/suitability-check"]["post"]) is not None
    optional = [p for p, required in openapi.IDEMPOTENT.items() if not required]
    assert len(optional) >= 5
    for method, path in optional:
        found = idempotency_header(spec["paths"][path][method])
        assert found is not None, f"{method.upper()} {path}"
        assert found["required"] is False


def honouring_operations(source: str) -> set[tuple[str, str]]:
    """(method, path) of each route in a module that runs under `idempotent.run` or reads the header itself,
    directly or through a module-level helper it calls."""
    tree = ast.parse(source)
    prefix = ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "APIRouter":
            for kw in node.keywords:
                if kw.arg == "prefix" and isinstance(kw.value, ast.Constant):
                    prefix = str(kw.value.value)
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)}

    def direct(function: ast.AST) -> bool:
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "run"
                and getattr(node.value, "id", None) == "idempotent"
            ):
                return True
            if isinstance(node, ast.Constant) and str(node.value).lower() == idempotent.HEADER.lower():
                return True
        return False

    def calls(function: ast.AST) -> set[str]:
        return {
            n.func.id
            for n in ast.walk(function)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions
        }

    honours = {name for name, f in functions.items() if direct(f)}
    while True:
        more = {name for name, f in functions.items() if calls(f) & honours} - honours
        if not more:
            break
        honours |= more
    found = set()
    for name in honours:
        for decorator in functions[name].decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr in HTTP_METHODS
                and decorator.args
                and isinstance(decorator.args[0], ast.Constant)
            ):
                path = re.sub(r"{(\w+):\w+}", r"{\1}", prefix + str(decorator.args[0].value))
                found.add((decorator.func.attr, path))  # as the document writes it: no `:path` converter
    return found


def test_every_operation_that_honours_the_key_declares_it() -> None:
    honoured: set[tuple[str, str]] = set()
    for module in sorted(API.rglob("*.py")):
        if module.name not in ("idempotent.py", "openapi.py"):
            honoured |= honouring_operations(module.read_text())
    assert ("post", "/recommendations") in honoured
    assert honoured == set(openapi.IDEMPOTENT), "update openapi.IDEMPOTENT to match the routes"


def test_the_idempotency_scan_can_fail() -> None:
    source = """
router = APIRouter(prefix="/things")

async def _helper(request, pool):
    return await idempotent.run(request, None, pool, None)

@router.post("/{thing_id}/poke")
async def poke(request, pool):
    return await _helper(request, pool)

@router.post("/echo/{rest:path}")
async def echo(request):
    return request.headers.get("idempotency-key")

@router.post("/plain")
async def plain(request):
    return None
"""
    assert honouring_operations(source) == {
        ("post", "/things/{thing_id}/poke"),
        ("post", "/things/echo/{rest}"),
    }
