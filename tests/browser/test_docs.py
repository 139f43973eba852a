"""The API documentation in a real browser, with nothing from outside the service (the `context` fixture
blocks and reports any other host): Swagger UI renders and its "Try it out" creates a recommendation with the
Idempotency-Key the document declares; ReDoc renders."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import BROWSER_TESTS, Console

pytestmark = BROWSER_TESTS


def test_swagger_try_it_out_creates_a_recommendation(page: Page, console: Console) -> None:
    page.goto("/docs")
    expect(page.get_by_role("heading", name=re.compile("wealthgate"))).to_be_visible()

    page.get_by_role("button", name="Authorize").first.click()
    page.get_by_label("auth-bearer-value").fill(console.agent_key)
    page.get_by_role("button", name="Apply credentials").first.click()
    page.get_by_role("button", name="Close").first.click()

    operation = page.locator("#operations-recommendations-propose_recommendation")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    header = operation.locator('tr[data-param-name="Idempotency-Key"]')
    expect(header.locator(".parameter__name")).to_have_class(re.compile(r"\brequired\b"))
    operation.get_by_role("textbox", name="Idempotency-Key").fill(str(uuid.uuid4()))
    body = (
        '{"client_id": 1, "trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1"}], '
        '"rationale": "Tried out in Swagger UI.", "agent": {"name": "swagger", "model": null}}'
    )
    operation.locator("textarea.body-param__text").fill(body)
    console.shot(page, "docs-swagger")
    operation.get_by_role("button", name="Execute").click()
    response = operation.locator(".live-responses-table .response").first
    expect(response.locator(".response-col_status")).to_contain_text("201")
    created = re.search(r'"id":\s*(\d+)', response.inner_text())
    assert created is not None
    stored = console.api("GET", f"/recommendations/{created.group(1)}", key=console.reader_key)
    assert stored.json()["rationale"] == "Tried out in Swagger UI."


@pytest.mark.parametrize("path", ["/redoc"])
def test_redoc_renders(page: Page, console: Console, path: str) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", name=re.compile("wealthgate"))).to_be_visible()
    expect(page.get_by_text("Idempotency-Key").first).to_be_attached()
    console.shot(page, "docs-redoc")
