"""The example review agent's pure parts: findings, trades, the template rationale, and the optional
OpenAI-compatible writer (used when configured, the template on any failure)."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import REPO


def load_agent() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "portfolio_review_agent", REPO / "examples" / "portfolio_review_agent.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


agent = load_agent()

DRIFT = {
    "in_band": False,
    "asset_classes": [
        {"asset_class": "equity", "target": "0.55", "actual": "0.467367", "band": "0.05", "in_band": False},
        {"asset_class": "fixed_income", "target": "0.35", "actual": "0.39", "band": "0.05", "in_band": True},
    ],
}
PROPOSAL = {
    "trades": [
        {"side": "sell", "symbol": "WGMMF", "quantity": "37495", "account_id": 1},
        {"side": "sell", "symbol": "WGMMF", "quantity": "4745", "account_id": 2},
        {"side": "buy", "symbol": "AAPL", "quantity": "551", "account_id": None},
    ],
    "projected_allocation": {"equity": "0.549903", "cash_equivalent": "0.05004"},
}
CONTEXT = {
    "client": {
        "name": "Alice Chen",
        "risk_profile": "moderate",
        "investment_objective": "growth_and_income",
        "time_horizon": "long",
    },
    "totals": {"total_value": "1151197.6500"},
}
RISK = {
    "as_of": "2018-04-11",
    "largest_position": {"symbol": "WGAGG", "weight": "0.392461"},
    "top5_weight": "0.816391",
    "annualised_volatility": "0.112076",
    "max_drawdown": "-0.066284",
}
VERDICT = {
    "verdict": "needs_review",
    "policy_version_number": 1,
    "rules": [
        {"rule": "cash_sufficient", "outcome": "pass", "explanation": "Enough cash."},
        {"rule": "sector_cap", "outcome": "needs_review", "explanation": "Tech would be 39%."},
    ],
}


def facts() -> dict[str, Any]:
    reasons = agent.findings(DRIFT, {"concentration_flags": ["cash_over_20pct"]})
    trades = agent.as_trades(PROPOSAL)
    built: dict[str, Any] = agent.facts_of(CONTEXT, RISK, reasons, trades, PROPOSAL, VERDICT)
    return built


def test_findings_and_trades() -> None:
    assert agent.findings(DRIFT, {}) == ["equity is 46.74% against a target of 55.00% (band +/-5.00%)"]
    assert agent.findings({"asset_classes": []}, {"concentration_flags": []}) == []
    assert agent.as_trades(PROPOSAL) == [
        {"side": "sell", "symbol": "WGMMF", "quantity": "42240"},
        {"side": "buy", "symbol": "AAPL", "quantity": "551"},
    ]


def test_the_template_quotes_the_figures_and_is_deterministic() -> None:
    text = agent.template_rationale(facts())
    assert text == agent.template_rationale(facts())
    for figure in ("Alice Chen", "1151197.6500", "46.74%", "WGAGG at 39.25%", "81.64%", "11.21%", "-6.63%",
                   "sell 42240 WGMMF", "buy 551 AAPL", "equity 54.99%", "concentration flag cash_over_20pct",
                   "needs_review", "version 1", "Tech would be 39%."):  # fmt: skip
        assert figure in text, figure


def completion(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    assert request.url.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert body["model"] == "local-model"
    assert "Alice Chen" in body["messages"][1]["content"]
    return httpx.Response(
        200, json={"choices": [{"message": {"content": "  Rebalance toward the model.  "}}]}
    )


def test_an_openai_compatible_endpoint_writes_the_rationale_when_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert agent.llm_rationale(facts()) is None  # not configured: the template is used
    monkeypatch.setenv("OPENAI_BASE_URL", "http://llm.test/v1/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_MODEL", "local-model")
    written = agent.llm_rationale(facts(), httpx.Client(transport=httpx.MockTransport(completion)))
    assert written == ("Rebalance toward the model.", "local-model")


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={"error": "down"}),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"choices": []}),
        httpx.Response(200, json={"choices": [{"message": {"content": "  "}}]}),
    ],
)
def test_any_failure_of_the_endpoint_falls_back_to_the_template(
    monkeypatch: pytest.MonkeyPatch, answer: httpx.Response
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://llm.test/v1")
    client = httpx.Client(transport=httpx.MockTransport(lambda request: answer))
    assert agent.llm_rationale(facts(), client) is None
