"""Onboarding a firm from an EMPTY database with the CLI alone (issue 13): migrate, firm, advisor, users,
reference data, clients, accounts and positions, keys; then an agent reads and proposes over HTTP and the
compliance officer's own key approves, and the approval's audit event names that person."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.e2e.process import WEALTHGATE, cli, env
from tests.support import fetch, fetchval
from wealthgate.api.app import create_app
from wealthgate.settings import Settings

pytestmark = pytest.mark.e2e

SECURITIES = """symbol,name,asset_class,sector,region,risk_rating
ONBQ,Onboarding Quality Co.,equity,Industrials,North America,3
ONBB,Onboarding Bond Fund,fixed_income,Diversified,North America,2
"""
PRICES = """symbol,date,close
ONBQ,2024-03-01,50.00
ONBQ,2024-03-04,51.00
ONBB,2024-03-01,20.00
ONBB,2024-03-04,20.10
"""
ACCOUNTS = """external_id,client_external_id,name,account_type,opened_on
onb-a1,onb-c1,Ortiz Taxable,taxable,2020-01-02
"""
POSITIONS = """account_external_id,symbol,quantity,cost_basis,acquired_on,external_id
onb-a1,ONBQ,100,4000.00,2021-06-01,onb-p1
onb-a1,ONBB,200,4100.00,2021-06-01,onb-p2
"""


def clients_csv(advisor_id: str) -> str:
    return (
        "external_id,name,advisor_id,date_of_birth,risk_tolerance,investment_objective,time_horizon,"
        "liquidity_needs,annual_income,net_worth,liquid_net_worth,tax_status,investment_experience\n"
        f"onb-c1,Olga Ortiz,{advisor_id},1975-02-03,moderate,growth,long,low,150000,900000,400000,taxable,"
        "moderate\n"
    )


def run(*args: str, url: str, stdin: str | None = None) -> str:
    """A `wealthgate` command on the test's database (with `stdin` as its input); its last line of output."""
    done = subprocess.run(
        [WEALTHGATE, *args],
        env=env(DATABASE_URL=url),
        input=stdin or "",
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stderr}"
    assert done.stderr == "", done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_a_new_firm_is_onboarded_from_an_empty_database(empty_db_url: str, tmp_path: Path) -> None:
    url = empty_db_url
    run("db", "upgrade", url=url)
    firm = run("firms", "create", "--name", "Onboarding Capital", url=url)
    assert firm.isdigit()
    advisor = run(
        "advisors", "create", "--firm", firm, "--name", "Pat Lee", "--email", "pat@onboarding.test", url=url
    )
    assert advisor.isdigit()
    password = run(
        "users", "create", "--firm", firm, "--email", "Officer@Onboarding.test", "--role", "compliance",
        "--name", "Casey Officer", url=url,
    )  # fmt: skip
    assert len(password) >= 12
    assert " " not in password
    typed = run(
        "users", "create", "--firm", firm, "--email", "pat.user@onboarding.test", "--role", "advisor",
        "--advisor", advisor, "--password-stdin", url=url, stdin="a password typed once\n",
    )  # fmt: skip
    assert typed.isdigit()  # with --password-stdin the last line is the user's id
    stored = fetch(url, "SELECT email, role, advisor_id, password_hash FROM users ORDER BY id")
    assert [(u["email"], u["role"]) for u in stored] == [
        ("officer@onboarding.test", "compliance"),
        ("pat.user@onboarding.test", "advisor"),
    ]
    assert stored[1]["advisor_id"] == int(advisor)
    assert all(u["password_hash"].startswith("$argon2id$") for u in stored)
    assert password not in "".join(u["password_hash"] for u in stored)

    for kind, text in (
        ("securities", SECURITIES),
        ("prices", PRICES),
        ("clients", clients_csv(advisor)),
        ("accounts", ACCOUNTS),
        ("positions", POSITIONS),
    ):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text)
        assert "0 rejected; committed" in run("import", kind, str(path), "--firm", firm, url=url)
    client_id = fetchval(url, "SELECT id FROM clients WHERE external_id = 'onb-c1'")

    agent_key = run(
        "keys", "create", "--firm", firm, "--scope", "clients:read", "--scope", "recommendations:write",
        "--name", "onboarding agent", url=url,
    )  # fmt: skip
    review_key = run(
        "keys", "create", "--firm", firm, "--scope", "compliance:review", "--name", "casey's review key",
        "--user", "officer@onboarding.test", url=url,
    )  # fmt: skip
    assert agent_key.startswith(f"wg_{firm}_")
    assert review_key.startswith(f"wg_{firm}_")

    settings = Settings(
        database_url=url, home=tmp_path / "home", auth_cache_seconds=0, audit_checkpoint_seconds=0
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        agent = {"Authorization": f"Bearer {agent_key}"}
        context = api.get(f"/clients/{client_id}/context", headers=agent)
        assert context.status_code == 200, context.text
        assert context.json()["client"]["name"] == "Olga Ortiz"
        assert {h["symbol"] for h in context.json()["portfolio"]} == {"ONBQ", "ONBB"}

        proposed = api.post(
            "/recommendations",
            json={
                "client_id": client_id,
                "trades": [{"side": "sell", "symbol": "ONBQ", "quantity": "5"}],
                "rationale": "Trim the single equity a little.",
                "agent": {"name": "onboarding-agent"},
            },
            headers={**agent, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert proposed.status_code == 201, proposed.text
        rec = proposed.json()
        assert rec["status"] in ("proposed", "needs_review"), rec["verdict"]

        unbound = run("keys", "create", "--firm", firm, "--scope", "compliance:review", url=url)
        refused = api.post(
            f"/recommendations/{rec['id']}/approve",
            json={"comment": "looks fine"},
            headers={"Authorization": f"Bearer {unbound}"},
        )
        assert refused.status_code == 403  # a review is made by a named person

        approved = api.post(
            f"/recommendations/{rec['id']}/approve",
            json={"comment": "Trim approved."},
            headers={"Authorization": f"Bearer {review_key}"},
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["review"]["reviewer"] == "officer@onboarding.test"

    (event,) = fetch(
        url,
        "SELECT actor, details FROM audit_events WHERE action = 'recommendation.approved' AND target_id = $1",
        str(rec["id"]),
    )
    actor = json.loads(event["actor"]) if isinstance(event["actor"], str) else event["actor"]
    assert actor["email"] == "officer@onboarding.test"
    assert actor["user_id"] == fetchval(url, "SELECT id FROM users WHERE email = 'officer@onboarding.test'")
    actions = [
        r["action"]
        for r in fetch(url, "SELECT action FROM audit_events WHERE firm_id = $1 ORDER BY id", int(firm))
    ]
    assert actions[:2] == ["firm.created", "policy.published"]
    assert {"advisor.created", "user.created", "api_key.created"} <= set(actions)
    verified = cli("audit", "verify", "--firm", firm, DATABASE_URL=url)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_users_are_listed_and_disabled_from_the_cli(db_url: str) -> None:
    listed = cli("users", "list", "--firm", "1", DATABASE_URL=db_url)
    assert listed.returncode == 0, listed.stderr
    assert "compliance@demo.wealthgate.test" in listed.stdout
    assert "compliance@firm2.wealthgate.test" not in listed.stdout
    wrong_firm = cli(
        "keys", "create", "--firm", "2", "--scope", "compliance:review", "--user",
        "compliance@demo.wealthgate.test", DATABASE_URL=db_url,
    )  # fmt: skip
    assert wrong_firm.returncode == 1
    assert wrong_firm.stderr.startswith("error: firm 2 has no user with the email")
    neither = cli("users", "disable", "--firm", "1", DATABASE_URL=db_url)
    assert neither.returncode == 1
    assert neither.stderr.startswith("error: name the user")
    done = run("users", "disable", "--firm", "1", "--email", "advisor2@demo.wealthgate.test", url=db_url)
    assert done.startswith("disabled user advisor2@demo.wealthgate.test")
    assert fetchval(
        db_url, "SELECT disabled_at IS NOT NULL FROM users WHERE email = 'advisor2@demo.wealthgate.test'"
    )
    again = cli(
        "users", "disable", "--firm", "1", "--email", "advisor2@demo.wealthgate.test", DATABASE_URL=db_url
    )
    assert (again.returncode, again.stderr.strip()) == (1, "error: the user is already disabled")
    bad_role = cli(
        "users", "create", "--firm", "1", "--email", "x@y.test", "--role", "owner", DATABASE_URL=db_url
    )
    assert bad_role.returncode == 1
    assert "--role must be one of admin, compliance, advisor" in bad_role.stderr
