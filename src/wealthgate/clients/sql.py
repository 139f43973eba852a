"""SQL fragments that turn NUMERIC into exact JSON strings (never JSON numbers, never floats)."""

from __future__ import annotations


def money(expr: str) -> str:
    """Cents when the value is whole cents ("1234.50"), else every stored digit ("0.1234")."""
    return f"(CASE WHEN {expr} = round({expr}, 2) THEN round({expr}, 2) ELSE trim_scale({expr}) END)::text"


def exact(expr: str) -> str:
    """A quantity or price with trailing zeros trimmed: "10", "12.345678"."""
    return f"trim_scale({expr})::text"
