"""SQL fragments that turn NUMERIC into exact JSON strings (never JSON numbers, never floats)."""

from __future__ import annotations


def money(expr: str) -> str:
    """A stored amount at its stored scale, 4 places ("1234.5000"): exact, and cheap on the hot path."""
    return f"({expr})::text"


def exact(expr: str) -> str:
    """A quantity or price with trailing zeros trimmed: "10", "12.345678"."""
    return f"trim_scale({expr})::text"
