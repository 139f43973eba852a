"""What the audit trail learns from the request being served, without threading it through every call.

The request-id middleware sets `CLIENT_REQUEST_ID` (the caller's own `X-Request-ID`, kept beside the
server's id, never instead of it); event writers read it when the caller passes none.
"""

from __future__ import annotations

from contextvars import ContextVar

CLIENT_REQUEST_ID: ContextVar[str | None] = ContextVar("wealthgate_client_request_id", default=None)
