"""The compliance console in real Chromium, as the people who use it: sign-in (and a refused one), the review
queue, approving and rejecting with a comment, an advisor kept to their own book, CSRF refusal, and a
full-page screenshot of each page (in the folder the session prints, `browser-screenshots/`)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    ADMIN,
    ADVISOR1,
    ADVISOR1_CLIENT,
    ADVISOR2_CLIENT,
    BROWSER_TESTS,
    COMPLIANCE,
    Console,
    off_the_loop,
    sign_in,
)
from tests.support import fetch

pytestmark = BROWSER_TESTS


def agent_name() -> str:
    return f"browser-agent-{uuid.uuid4().hex[:8]}"


def stored(console: Console, rec_id: int) -> dict[str, Any]:
    answer = console.api("GET", f"/recommendations/{rec_id}", key=console.reader_key)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def review_event_actor(console: Console, rec_id: int, action: str) -> dict[str, Any]:
    rows = off_the_loop(
        fetch,
        console.db_url,
        "SELECT actor FROM audit_events WHERE action = $1 AND target_id = $2",
        action,
        str(rec_id),
    )
    assert len(rows) == 1, rows
    actor: dict[str, Any] = rows[0]["actor"]
    return actor


def test_sign_in_lands_on_the_queue_and_sign_out_ends_the_session(page: Page, console: Console) -> None:
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    console.shot(page, "sign-in")

    sign_in(page, COMPLIANCE)
    expect(page).to_have_url(re.compile(r"/console/queue"))
    expect(page.get_by_role("link", name="Review queue")).to_be_visible()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    page.goto("/console/queue")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))  # the session is gone, not just the page


def test_a_wrong_password_is_refused_with_a_message(page: Page, console: Console) -> None:
    sign_in(page, ADVISOR1, password="not-the-password")  # noqa: S106  (a wrong one on purpose)
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.get_by_label("Email")).to_have_value(ADVISOR1)
    console.shot(page, "sign-in-failed")
    page.goto("/console/queue")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))


def test_an_agent_proposal_waits_in_the_queue_and_is_approved_with_a_comment(
    page: Page, console: Console
) -> None:
    agent = agent_name()
    rec = console.propose(agent=agent)
    sign_in(page, COMPLIANCE)
    page.get_by_role("link", name="Review queue").click()
    row = page.get_by_role("row").filter(has_text=agent)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(rec["verdict"]["verdict"].replace("_", " "), ignore_case=True)
    console.shot(page, "queue")

    row.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/console/recommendations/{rec['id']}$"))
    expect(page.get_by_role("heading", name="Proposed trades")).to_be_visible()
    expect(page.get_by_text("WGAGG").first).to_be_visible()
    console.shot(page, "evidence")

    page.get_by_label("Comment").fill("Within the client's risk budget; approved.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text(COMPLIANCE).first).to_be_visible()
    console.shot(page, "evidence-approved")

    after = stored(console, rec["id"])
    assert after["status"] == "approved"
    assert after["review"]["reviewer"] == COMPLIANCE
    assert after["review"]["comment"] == "Within the client's risk budget; approved."
    actor = review_event_actor(console, rec["id"], "recommendation.approved")
    assert (actor["type"], actor["email"]) == ("user", COMPLIANCE)

    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("row").filter(has_text=agent)).to_have_count(0)  # decided: off the queue


def test_a_proposal_is_rejected_with_a_comment(page: Page, console: Console) -> None:
    rec = console.propose(agent=agent_name())
    sign_in(page, COMPLIANCE)
    page.goto(f"/console/recommendations/{rec['id']}")
    page.get_by_label("Comment").fill("Too much in one fund for this client.")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text(COMPLIANCE).first).to_be_visible()

    after = stored(console, rec["id"])
    assert after["status"] == "rejected"
    assert after["review"]["reviewer"] == COMPLIANCE
    assert after["review"]["comment"] == "Too much in one fund for this client."
    actor = review_event_actor(console, rec["id"], "recommendation.rejected")
    assert (actor["type"], actor["email"]) == ("user", COMPLIANCE)


def test_an_advisor_sees_their_client_and_not_another_advisors(page: Page, console: Console) -> None:
    sign_in(page, ADVISOR1)
    page.goto("/console/clients")
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    expect(page.locator(f'a[href="/console/clients/{ADVISOR2_CLIENT}"]')).to_have_count(0)
    console.shot(page, "clients")

    mine = page.goto(f"/console/clients/{ADVISOR1_CLIENT}")
    assert mine is not None
    assert mine.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alice Chen")
    console.shot(page, "client")

    theirs = page.goto(f"/console/clients/{ADVISOR2_CLIENT}")
    assert theirs is not None
    assert theirs.status == 404
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("404")).to_be_visible()
    console.shot(page, "client-not-visible")
    refused = page.locator("main").inner_text()
    missing = page.goto("/console/clients/999999")
    assert missing is not None
    assert missing.status == 404
    assert page.locator("main").inner_text() == refused  # nothing tells another's client from no client


def test_a_form_with_a_forged_csrf_token_is_refused(page: Page, console: Console) -> None:
    rec = console.propose(agent=agent_name())
    sign_in(page, COMPLIANCE)
    page.goto(f"/console/recommendations/{rec['id']}")
    page.get_by_label("Comment").fill("Forged.")
    forms = page.locator('form[action$="/approve"] input[name="csrf_token"]')
    expect(forms).to_have_count(1)
    forms.evaluate("input => { input.value = 'forged-' + input.value; }")
    with page.expect_response(re.compile(rf"/console/recommendations/{rec['id']}/approve$")) as answer:
        page.get_by_role("button", name="Approve").click()
    assert answer.value.status == 403
    expect(page.get_by_text(re.compile("expired", re.IGNORECASE)).first).to_be_visible()
    console.shot(page, "csrf-refused")
    assert stored(console, rec["id"])["status"] == rec["status"]  # nothing was decided

    # the sign-in form too: a cross-site page cannot sign someone in
    signed_out = page.context.browser.new_context(base_url=console.base)  # type: ignore[union-attr]
    try:
        fresh = signed_out.new_page()
        fresh.goto("/console/sign-in")
        fresh.locator('input[name="csrf_token"]').evaluate("input => { input.value = 'forged'; }")
        fresh.get_by_label("Email").fill(COMPLIANCE)
        fresh.get_by_label("Password").fill("wealthgate-demo")
        with fresh.expect_response(re.compile(r"/console/sign-in$")) as refused:
            fresh.get_by_role("button", name="Sign in").click()
        assert refused.value.status == 403
    finally:
        signed_out.close()


def test_compliance_pages_audit_explorer_and_replay(page: Page, console: Console) -> None:
    agent = agent_name()
    rec = console.propose(agent=agent)
    sign_in(page, COMPLIANCE)
    page.goto("/console/audit")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    console.shot(page, "audit")
    page.get_by_label("Action").fill("recommendation.proposed")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("row").filter(has_text="recommendation.proposed").first).to_be_visible()
    console.shot(page, "audit-filtered")
    page.get_by_role("row").filter(has_text=f"recommendation {rec['id']}").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/console/audit/events/\d+$"))
    expect(page.get_by_text(agent).first).to_be_visible()
    console.shot(page, "audit-event")

    page.goto(f"/console/recommendations/{rec['id']}/replay")
    expect(page.get_by_role("heading", name=f"Replay of recommendation {rec['id']}")).to_be_visible()
    expect(page.get_by_text(re.compile("identical", re.IGNORECASE)).first).to_be_visible()
    console.shot(page, "replay")


def test_admin_pages(page: Page, console: Console) -> None:
    sign_in(page, ADMIN)
    for path, heading, name in [
        ("/console/admin/users", "Users", "admin-users"),
        ("/console/admin/keys", "API keys", "admin-keys"),
        ("/console/admin/policy", "Suitability policy", "admin-policy"),
    ]:
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 200, path
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        console.shot(page, name)
    expect(page.get_by_role("link", name="Administration")).to_be_visible()
