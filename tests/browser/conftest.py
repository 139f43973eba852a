"""Browser tests: the console in real Chromium (Debian's package, driven by Playwright for Python).

One `wealthgate serve` process on a private copy of the demo book and one headless browser serve the whole
session; each test gets a fresh browser context (no cookies). Screenshots are kept under pytest's temp dir in
`browser-screenshots/` (its path is printed when the session starts). Every request a page makes must go to
the service itself: anything else is blocked and fails the test, and so does a script error on a page.

Chromium comes from `make test` (apt-get as root on Debian) or `WEALTHGATE_TEST_CHROMIUM`; its absence fails
the tests with that message, it never skips them.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, Route, sync_playwright
from psycopg import sql

from tests.conftest import AGENT, _admin, _create_empty
from tests.e2e.process import Server, free_port
from tests.support import make_key, with_conn
from wealthgate.people import users

T = TypeVar("T")
CHROMIUM = os.environ.get("WEALTHGATE_TEST_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "wealthgate-demo"  # noqa: S105  (the demo book's published password)
ADMIN = "admin@demo.wealthgate.test"
COMPLIANCE = "compliance@demo.wealthgate.test"
ADVISOR1 = "advisor1@demo.wealthgate.test"
ADVISOR2 = "advisor2@demo.wealthgate.test"
# The demo book's people (firm, email, name, role, advisor), as the shared contract names them.
DEMO_USERS = (
    (1, ADMIN, "Harbor Point admin", "admin", None),
    (1, COMPLIANCE, "Harbor Point compliance", "compliance", None),
    (1, ADVISOR1, "Maya Patel", "advisor", 1),
    (1, ADVISOR2, "James Okafor", "advisor", 2),
    (2, "compliance@firm2.wealthgate.test", "Summit Ridge compliance", "compliance", None),
)
ADVISOR1_CLIENT = 1  # Alice Chen, advisor 1's client
ADVISOR2_CLIENT = 21  # advisor 2's client
TIMEOUT_MS = 15_000

# `make test` runs tests/browser in a pytest process of its own, without xdist: one server, one browser. The
# group keeps them on one worker should someone run them with `-n` (pytest-dev/pytest-xdist#1386 aside).
BROWSER_TESTS = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def announce(config: pytest.Config, line: str) -> None:
    """Write past output capture to the terminal (under xdist, a worker's stderr is the terminal)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        sys.stderr.write(f"\n{line}\n")
        sys.stderr.flush()


def off_the_loop(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run database helpers (which call `asyncio.run`) in a thread of their own: Playwright's sync API keeps
    an event loop running in the test's thread while it is started."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work, *args, **kwargs).result()


@dataclass
class Console:
    """The running service: its base URL, its database, an agent key of firm 1 and the screenshot folder."""

    base: str
    db_url: str
    agent_key: str
    reader_key: str
    shots: Path
    taken: list[Path] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def shot(self, page: Page, name: str) -> Path:
        """A full-page PNG named after the page (workers share the folder: names are unique per test)."""
        path = self.shots / f"{name}.png"
        assert path not in self.taken, f"two screenshots named {name}"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path

    def api(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.agent_key}", **kwargs.pop("headers", {})}
        return httpx.request(method, self.url(path), headers=headers, timeout=30, **kwargs)

    def propose(self, client_id: int = ADVISOR1_CLIENT, agent: str = "browser-test-agent") -> dict[str, Any]:
        """A recommendation proposed by the agent key through the API, waiting for a person."""
        body = {
            "client_id": client_id,
            "trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}],
            "rationale": "Add a little fixed income to lower the portfolio's risk.",
            "agent": {"name": agent, "model": "test-model"},
        }
        answer = self.api(
            "POST", "/recommendations", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created


@pytest.fixture(scope="session")
def browser_db_url(pg_server_url: str, template_db: str, worker: str) -> Iterator[str]:
    """A copy of the demo book for the session's server; the demo users are added if the book lacks them."""
    name = f"wg_browser_{worker}"
    url = _create_empty(pg_server_url, name, template_db)

    async def ensure_users(conn: asyncpg.Connection) -> None:
        for firm, email, person, role, advisor in DEMO_USERS:
            if await users.by_email(conn, email) is None:
                async with conn.transaction():
                    await users.create_user(
                        conn,
                        firm_id=firm,
                        email=email,
                        name=person,
                        role=role,
                        advisor_id=advisor,
                        password=PASSWORD,
                        actor={"type": "operator", "owner": "pytest", "firm_id": firm},
                    )

    off_the_loop(with_conn, url, ensure_users)
    yield url
    _admin(pg_server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    """`browser-screenshots/` in the run's temp dir (beside the xdist workers' folders); kept afterwards."""
    base = tmp_path_factory.getbasetemp()
    if base.name.startswith("popen-gw"):
        base = base.parent
    folder = base / "browser-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    announce(pytestconfig, f"browser screenshots: {folder}")
    return folder


@pytest.fixture(scope="session")
def console(browser_db_url: str, screenshots: Path) -> Iterator[Console]:
    """`wealthgate serve` on a free port, cookies `Secure` as in production (Chromium keeps them on
    http://127.0.0.1)."""
    port = free_port()
    server = Server(
        "serve",
        "--port",
        str(port),
        "--no-access-log",
        DATABASE_URL=browser_db_url,
        WEALTHGATE_AUTH_CACHE_SECONDS="0",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        server.wait_healthy(base)
        yield Console(
            base=base,
            db_url=browser_db_url,
            agent_key=off_the_loop(make_key, browser_db_url, 1, AGENT, name="browser-agent"),
            reader_key=off_the_loop(make_key, browser_db_url, 1, ["clients:read"], name="browser-reader"),
            shots=screenshots,
        )
    finally:
        assert server.stop() == 0, "".join(server.output)


@pytest.fixture(scope="session")
def playwright(console: Console) -> Iterator[Playwright]:
    """Started after the server and its database (whose set-up calls `asyncio.run`, which cannot run while
    Playwright's sync API holds its event loop in this thread)."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM}: run `make test` (as root on Debian it runs "
            "`apt-get install -y chromium`), or set WEALTHGATE_TEST_CHROMIUM to a Chromium binary",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
    yield browser
    browser.close()


@dataclass
class Guard:
    """What a page did that it must not: ask a host other than the service, or throw a script error."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def context(browser: Browser, console: Console) -> Iterator[BrowserContext]:
    guard = Guard()
    ours = urlsplit(console.base).netloc

    def only_ours(route: Route, request: Request) -> None:
        if urlsplit(request.url).scheme in ("data", "blob") or urlsplit(request.url).netloc == ours:
            route.continue_()
        else:
            guard.outside.append(request.url)
            route.abort()

    ctx = browser.new_context(base_url=console.base, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.route("**/*", only_ours)
    ctx.on("weberror", lambda error: guard.errors.append(str(error.error)))
    yield ctx
    ctx.close()
    assert guard.outside == [], f"pages asked for something outside the service: {guard.outside}"
    assert guard.errors == [], f"script errors on the pages: {guard.errors}"


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Through the sign-in form, as a person would: labelled fields and the named button."""
    page.goto("/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
