"""One decimal text form: no figure anywhere in what the service emits is written with an exponent ("1E+1",
"1.02E+3", "0E-8"), whatever the figure and however it was sent.

The walk takes every GET route from the app's own OpenAPI document (a new route is walked without being
listed here; one whose path parameters the walk cannot fill fails the test), after posts that make figures
whose Python `str` has an exponent: whole quantities ("10", "1000": `normalize()` gives 1E+1, 1E+3), tiny
ones ("0.000001", "0.00000001"), zeros at eight places (0E-8)."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Keys
from tests.factories import Factory
from tests.support import execute, make_key
from wealthgate.client.tools import args_of
from wealthgate.vocabulary import SCOPES

D = Decimal
# A whole string that is a decimal with an exponent, and one inside a sentence ("needs 2.62E+3 of cash").
# Inside text the exponent's sign is required (Python always writes it) and the number must stand alone,
# so hex digests, base64 cursors and uuids never match.
WHOLE = re.compile(r"^-?\d+(\.\d+)?[eE][+-]?\d+$")
INSIDE = re.compile(r"(?<![\w.+/-])-?\d+(\.\d+)?[eE][+-]\d+(?![\w./+-])")


def exponents(value: Any, where: str = "$") -> list[str]:
    """Every place in a JSON document where a figure is written with an exponent."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += exponents(k, f"{where}.<key>") + exponents(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += exponents(v, f"{where}[{i}]")
    elif isinstance(value, str):
        if WHOLE.match(value) or INSIDE.search(value):
            found.append(f"{where}: {value!r}")
    elif isinstance(value, float) and "e" in repr(value).lower():
        found.append(f"{where}: {value!r} (a JSON number)")
    return found


def test_the_patterns_catch_what_str_writes() -> None:
    assert exponents({"quantity": str(D("10.00000000").normalize())})
    assert exponents({"q": str(D("1020").normalize())})
    assert exponents({"zero": str(D("0E-8"))})
    assert exponents({"explanation": f"The trades need {D('2.62E+3')} of cash net"})
    assert exponents([1e-05])
    clean = {
        "q": "1020",
        "hash": "sha256:12e4" + "0" * 60,
        "cursor": "eyJrIjpbIjNFLTEiXX0-3E-1_x",
        "id": "123e-4567-89ab",
        "t": "2018-04-12T10:00:00+00:00",
    }
    assert exponents(clean) == []


def answer(response: Any) -> Any:
    """The JSON of a response; JSON lines and CSV (the audit export) as a list of their rows."""
    if not response.url.path.endswith("/audit/export"):
        return response.json()
    if "csv" in response.headers.get("content-type", ""):
        return list(csv.reader(io.StringIO(response.text)))
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


class Walk:
    def __init__(self, api: TestClient, keys: Keys, db_url: str) -> None:
        self.api = api
        self.keys = keys
        self.everything = make_key(db_url, 1, list(SCOPES), name="walker")
        self.seen: list[str] = []
        self.paths: list[str] = []

    def look(self, response: Any, label: str) -> Any:
        assert response.status_code < 500, (label, response.text)
        body = answer(response)
        self.seen += [f"{label} {hit}" for hit in exponents(body)]
        self.paths.append(label)
        return body

    def post(self, path: str, body: Any, key: str | None = None) -> Any:
        headers = {**Keys.auth(key or self.everything), "Idempotency-Key": str(uuid.uuid4())}
        return self.look(self.api.post(path, json=body, headers=headers), f"POST {path}")

    def get(self, path: str, key: str | None = None, **params: Any) -> Any:
        response = self.api.get(path, params=params, headers=Keys.auth(key or self.everything))
        assert response.status_code == 200, (path, params, response.text)  # walked with real ids
        return self.look(response, f"GET {path}")


def make_figures(w: Walk) -> int:
    """Posts whose figures `str` would write with an exponent; returns a recommendation's id."""
    keys = w.keys
    for body in (
        {"trade_date": "2018-04-12", "type": "deposit", "amount": "1000"},
        {"trade_date": "2018-04-12", "type": "buy", "symbol": "AAPL", "quantity": "10", "price": "100"},
        {"trade_date": "2018-04-12", "type": "buy", "symbol": "SPY", "quantity": "0.000001", "price": "10"},
        {
            "trade_date": "2018-04-12",
            "type": "buy",
            "symbol": "SPY",
            "quantity": "0.00000001",
            "price": "1000",
        },
        {
            "trade_date": "2018-04-12",
            "type": "transfer",
            "symbol": "WGAGG",
            "quantity": "1000",
            "amount": "0",
        },
        {"trade_date": "2018-04-12", "type": "sell", "symbol": "AAPL", "quantity": "10", "price": "100"},
    ):
        w.post("/accounts/1/transactions", body, keys.admin)
    bought = w.post(
        "/accounts/1/transactions",
        {"trade_date": "2018-04-12", "type": "buy", "symbol": "JPM", "quantity": "1000", "price": "1"},
        keys.admin,
    )
    w.post(f"/accounts/1/transactions/{bought['transaction']['id']}/reverse", {}, keys.admin)
    trades = [
        {"side": "buy", "symbol": "WGAGG", "quantity": "10"},
        {"side": "buy", "symbol": "SPY", "amount": "1000"},
        {"side": "sell", "symbol": "AAPL", "quantity": "0.000001"},
        {"side": "buy", "symbol": "AAPL", "quantity": "1000"},
        {"side": "sell", "symbol": "JPM", "quantity": "1000000"},  # more than held: "holds 1020 ..."
    ]
    for client in (1, 8):
        w.post(f"/clients/{client}/suitability-check", {"trades": trades}, keys.agent)
        w.post(
            f"/clients/{client}/rebalance-proposal", {"cash_reserve": "1000", "min_trade": "10"}, keys.agent
        )
    w.post("/clients/1/rebalance-proposal", {"cash_reserve": "0.000001"}, keys.agent)  # refused: 4 places
    rec = w.post(
        "/recommendations",
        {
            "client_id": 1,
            "trades": trades[:2],
            "rationale": "walk",
            "agent": {"name": "walker", "model": None},
        },
        keys.agent,
    )
    other = w.post(
        "/recommendations",
        {
            "client_id": 1,
            "trades": trades[2:],
            "rationale": "walk",
            "agent": {"name": "walker", "model": None},
        },
        keys.agent,
    )
    w.post(f"/recommendations/{rec['id']}/approve", {"comment": "fine"}, keys.compliance)
    w.post(f"/recommendations/{other['id']}/reject", {"comment": "no"}, keys.compliance)
    w.post("/audit/recommendation", {"client_id": 1, "event_type": "walk", "payload": "ten"}, keys.agent)
    policy = w.get("/policy")
    put = w.api.put(
        "/policy", json={"content": policy["content"], "note": "same"}, headers=Keys.auth(keys.admin)
    )
    w.look(put, "PUT /policy")
    return int(rec["id"])


QUERIES: dict[str, list[dict[str, Any]]] = {
    "/clients/{client_id}/context": [{}, {"summary": "true"}],
    "/clients/{client_id}/portfolio": [{"lots": "true"}, {"as_of": "2018-04-12", "lots": "true"}],
    "/clients/{client_id}/allocation": [{}, {"as_of": "2017-06-30"}],
    "/clients/{client_id}/transactions": [{}, {"min_amount": "1000"}, {"symbol": "SPY"}],
    "/audit/export": [{"format": "jsonl"}, {"format": "csv"}],
    "/tools": [{"format": f} for f in ("wealthgate", "openai", "anthropic", "mcp")],
    "/securities": [{}, {"q": "WG"}],
}


def test_no_route_writes_a_figure_with_an_exponent(api: TestClient, keys: Keys, db_url: str) -> None:
    execute(db_url, "UPDATE accounts SET allows_margin = true WHERE firm_id = 1 AND id = 1")
    w = Walk(api, keys, db_url)
    rec = make_figures(w)
    values = {"client_id": [1, 8, 3], "rec_id": [rec], "version": [1]}
    walked = 0
    for path, methods in api.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if "get" not in methods or "application/json" not in methods["get"]["responses"]["200"]["content"]:
            continue  # figures are JSON; /metrics is Prometheus text (its numbers are floats by that format)
        names = re.findall(r"{(\w+)}", path)
        assert all(n in values for n in names), f"the walk cannot fill {path}: add its ids to `values`"
        fills: list[dict[str, Any]] = [{}]
        for n in names:
            fills = [{**f, n: v} for f in fills for v in values[n]]
        for fill in fills:
            for params in QUERIES.get(path, [{}]):
                w.get(path.format(**fill), **params)
                walked += 1
    assert walked >= 30
    # The tools face: every tool the registry lists, called with figures like the ones above.
    arguments = {
        "list_clients": {},
        "get_client_context": {"client_id": 1, "summary": True},
        "get_portfolio": {"client_id": 1, "lots": True},
        "get_allocation": {"client_id": 1},
        "get_risk": {"client_id": 1},
        "get_drift": {"client_id": 1},
        "get_performance": {"client_id": 1},
        "propose_rebalance": {"client_id": 1, "cash_reserve": "1000", "min_trade": "10"},
        "search_transactions": {"client_id": 1, "symbol": "SPY"},
        "search_securities": {"q": "S"},
        "check_suitability": {"client_id": 1, "trades": [{"side": "buy", "symbol": "SPY", "quantity": "10"}]},
        "propose_recommendation": {
            "client_id": 1,
            "trades": [{"side": "buy", "symbol": "WGAGG", "quantity": "1000"}],
            "rationale": "walk",
            "agent_name": "walker",
        },
        "get_recommendation": {"recommendation_id": rec},
        "record_note": {"client_id": 1, "event_type": "walk", "payload": "ten"},
    }
    listed = {t["name"] for t in w.get("/tools")["tools"]}
    assert listed == set(arguments), "a new tool: give the walk its arguments"
    for name, args in arguments.items():
        w.post(f"/tools/{name}", args)
    assert w.seen == [], "\n".join(w.seen)


quantities = st.one_of(
    st.sampled_from(["10", "1000", "100000", "0.000001", "0.00000001", "1E+3", "2.5E+1", "120.50000000"]),
    st.decimals(min_value=D("0.00000001"), max_value=D("100000"), places=8).map(str),
    st.integers(1, 10**5).map(lambda n: str(n * 10 ** (n % 4))),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quantities)
def test_any_quantity_comes_back_without_an_exponent(factory: Factory, api: TestClient, text: str) -> None:
    """Whatever quantity is posted, checked or proposed, every answer that shows it writes it positionally,
    and the figure is the one sent."""
    account = factory.account(allows_margin=True)  # a purchase of any size is posted
    admin, agent = factory.key(account.firm_id, ["admin"]).secret, factory.key(account.firm_id).secret
    w = Walk.__new__(Walk)
    w.api, w.seen, w.paths = api, [], []
    w.everything = admin
    posted = w.post(
        f"/accounts/{account.id}/transactions",
        {"trade_date": "2018-04-12", "type": "buy", "symbol": "WGAGG", "quantity": text, "price": "0.01"},
        admin,
    )
    assert D(posted["transaction"]["quantity"]) == D(text)
    assert D(posted["position"]["quantity"]) == D(text)  # the account held no WGAGG before
    client = account.client_id
    w.post(
        f"/clients/{client}/suitability-check",
        {"trades": [{"side": "buy", "symbol": "WGAGG", "quantity": text}]},
        agent,
    )
    portfolio = w.get(f"/clients/{client}/portfolio", agent)
    assert [D(h["quantity"]) for h in portfolio["holdings"]] == [D(text)]
    w.get(f"/clients/{client}/context", agent)
    w.get(f"/clients/{client}/transactions", agent, symbol="WGAGG")
    assert w.seen == [], "\n".join(w.seen)


def test_the_sdk_sends_decimals_positionally() -> None:
    sent = args_of(
        client_id=1, cash_reserve=D("1E+3"), trades=[{"side": "buy", "symbol": "X", "quantity": D("0E-8")}]
    )
    assert json.dumps(sent) == (
        '{"client_id": 1, "cash_reserve": "1000",'
        ' "trades": [{"side": "buy", "symbol": "X", "quantity": "0.00000000"}]}'
    )
