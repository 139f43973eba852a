"""Where the SDK finds its key and the service: the argument, else the environment, else the default."""

from __future__ import annotations

import os

from wealthgate.client.errors import MissingApiKey

KEY_VARIABLES = ("WEALTHGATE_API_KEY", "FASTAPI_WEALTH_API_KEY")  # the second is the guide's name
URL_VARIABLE = "WEALTHGATE_URL"
DEFAULT_URL = "http://127.0.0.1:8000"


def resolve_key(api_key: str | None) -> str:
    if api_key:
        return api_key
    for name in KEY_VARIABLES:
        if found := os.environ.get(name, "").strip():
            return found
    raise MissingApiKey(
        "no API key: pass api_key=..., or set WEALTHGATE_API_KEY (or the guide's FASTAPI_WEALTH_API_KEY); "
        "`make run` prints a demo key"
    )


def resolve_url(base_url: str | None) -> str:
    return (base_url or os.environ.get(URL_VARIABLE, "").strip() or DEFAULT_URL).rstrip("/")
