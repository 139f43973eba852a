"""The guide's agent, unchanged but for the API key header.

Run `make run` (or `wealthgate demo`), then:

    FASTAPI_WEALTH_API_KEY=<the printed key> python examples/guide_agent.py

It prints `Alice Chen`, `moderate`, then the stored audit event, e.g.
`{'status': 'stored', 'audit_event_id': 12}`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

API_URL = os.environ.get("WEALTH_API_URL", "http://127.0.0.1:8000")
# The one change from the guide: send the key (the guide already names FASTAPI_WEALTH_API_KEY).
API_KEY = os.environ.get("FASTAPI_WEALTH_API_KEY") or os.environ.get("WEALTHGATE_API_KEY", "")
HEADERS = {"Authorization": f"Bearer {API_KEY}"}


def fetch_client_context(client_id: int) -> dict[str, Any]:
    response = httpx.get(f"{API_URL}/clients/{client_id}/context", headers=HEADERS, timeout=10)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def store_recommendation(client_id: int, payload: str) -> dict[str, Any]:
    response = httpx.post(
        f"{API_URL}/audit/recommendation",
        json={"client_id": client_id, "event_type": "portfolio_recommendation", "payload": payload},
        headers=HEADERS,
        timeout=10,
    )
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


if __name__ == "__main__":
    context = fetch_client_context(1)
    print(context["client"]["name"])
    print(context["client"]["risk_profile"])
    decision = json.dumps({"action": "rebalance", "reason": "excess concentration in one equity"})
    print(store_recommendation(1, decision))
