"""Tokens for forms: a fresh unguessable token, and a comparison that takes the same time however many
characters match (so a forger learns nothing from how fast a wrong token is refused)."""

from __future__ import annotations

import hmac
import secrets


def new_token() -> str:
    """32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    """Are both tokens present and equal? Constant-time in their contents; a missing one never matches."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())
