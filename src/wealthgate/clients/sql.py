"""SQL fragments that turn NUMERIC into exact JSON strings (never JSON numbers, never floats), and the one way
a statement rounds a figure.

PostgreSQL writes a NUMERIC as text positionally (never with an exponent), so `::text` is already the
service's one decimal text form (`money.plain` on the Python side)."""

from __future__ import annotations

from decimal import Decimal


def money(expr: str) -> str:
    """A stored amount at its stored scale, 4 places ("1234.5000"): exact, and cheap on the hot path."""
    return f"({expr})::text"


def exact(expr: str) -> str:
    """A quantity or price with trailing zeros trimmed: "10", "12.345678"."""
    return f"trim_scale({expr})::text"


def rounded(expr: str, places: Decimal) -> str:
    """`expr` rounded to the places of `places` (`money.CENT`, `money.WEIGHT_PLACES`, ...) by the service's
    one rule, half away from zero: PostgreSQL's `round(numeric, n)`, which `money.rounded` matches in Python.
    The cast matters: `round` on a double precision value would round half to even (and in binary)."""
    scale = -int(places.as_tuple().exponent)
    return f"round(({expr})::numeric, {scale})"
