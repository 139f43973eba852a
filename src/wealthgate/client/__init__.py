"""The wealthgate SDK: typed agent tools over HTTP, with retries that never write twice.

    from wealthgate.client import WealthgateClient

    with WealthgateClient() as wg:  # WEALTHGATE_API_KEY, WEALTHGATE_URL (default http://127.0.0.1:8000)
        print(wg.get_client_context(1)["client"]["name"])

See docs/agents.md.
"""

from wealthgate.client.aio import AsyncWealthgateClient
from wealthgate.client.errors import (
    Conflict,
    ConnectionFailed,
    Forbidden,
    Invalid,
    MissingApiKey,
    NotFound,
    ServerError,
    Unauthorized,
    WealthgateError,
)
from wealthgate.client.retry import NO_RETRY, RetryPolicy
from wealthgate.client.sync import WealthgateClient
from wealthgate.client.tools import SchemaFormat, Trade

__all__ = [
    "NO_RETRY",
    "AsyncWealthgateClient",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "Invalid",
    "MissingApiKey",
    "NotFound",
    "RetryPolicy",
    "SchemaFormat",
    "ServerError",
    "Trade",
    "Unauthorized",
    "WealthgateClient",
    "WealthgateError",
]
