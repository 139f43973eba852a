"""Decimal helpers. Money and quantities are Decimal end to end: NUMERIC in SQL, strings in JSON.

The one rounding rule, for money and weights alike: to the nearest unit of the last place kept, a tie going
away from zero (10.125 -> 10.13, -10.125 -> -10.13, a weight of 0.0078125 -> 0.007813). It is what
PostgreSQL's `round(numeric, n)` does, so a figure rounded in SQL (`clients/sql.py` `rounded`) and the same
figure rounded here agree to the last digit, and it is what statements usually show. Every Python rounding of
a figure goes through `rounded` (or the named rounders below); a bare `quantize` would use the context's
default, half to even, and break the rule on ties.

The one text form of a decimal is `plain`: positional, never an exponent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ROUNDING = ROUND_HALF_UP  # in Python's decimal module, HALF_UP means ties away from zero (both signs)

CENT = Decimal("0.01")  # market values, trade values
MONEY_PLACES = Decimal("0.0001")  # NUMERIC(20,4): amounts, fees, cash, cost basis
QUANTITY_PLACES = Decimal("0.00000001")  # NUMERIC(24,8): share quantities
PRICE_PLACES = Decimal("0.000001")  # NUMERIC(20,6): prices
WEIGHT_PLACES = Decimal("0.000001")  # weights: shares of total value


def rounded(value: Decimal, places: Decimal) -> Decimal:
    """`value` to the places of `places` (e.g. `CENT`) by the one rule: half away from zero."""
    return value.quantize(places, rounding=ROUNDING)


def to_cents(value: Decimal) -> Decimal:
    """To the cent, as market values and trade values are reported."""
    return rounded(value, CENT)


def to_money(value: Decimal) -> Decimal:
    return rounded(value, MONEY_PLACES)


def to_price(value: Decimal) -> Decimal:
    return rounded(value, PRICE_PLACES)


def to_weight(value: Decimal) -> Decimal:
    """A share of total value as shown (6 places). Judge bands and limits on the exact share, not on this."""
    return rounded(value, WEIGHT_PLACES)


def plain(value: Decimal) -> str:
    """The one text form of a decimal in anything the service emits (JSON, explanations, exports): positional
    notation, never an exponent (`Decimal("1E+1")` is "10", `Decimal("1.02E+3")` is "1020"), no negative
    zero."""
    text = format(value, "f")
    return text[1:] if text.startswith("-") and value.is_zero() else text


def trimmed(value: Decimal) -> str:
    """A quantity or price as SQL's `trim_scale(x)::text` writes it: trailing zeros dropped ("10", "12.5")."""
    return plain(value.normalize())
