"""Decimal helpers. Money and quantities are Decimal end to end: NUMERIC in SQL, strings in JSON."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
MONEY_PLACES = Decimal("0.0001")  # NUMERIC(20,4): amounts, fees, cash, cost basis
QUANTITY_PLACES = Decimal("0.00000001")  # NUMERIC(24,8): share quantities
PRICE_PLACES = Decimal("0.000001")  # NUMERIC(20,6): prices


def to_cents(value: Decimal) -> Decimal:
    """Round half-even to the cent, as reported market values are."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def to_money(value: Decimal) -> Decimal:
    return value.quantize(MONEY_PLACES, rounding=ROUND_HALF_EVEN)


def to_price(value: Decimal) -> Decimal:
    return value.quantize(PRICE_PLACES, rounding=ROUND_HALF_EVEN)


def plain(value: Decimal) -> str:
    """The one text form of a decimal in anything the service emits (JSON, explanations, exports): positional
    notation, never an exponent (`Decimal("1E+1")` is "10", `Decimal("1.02E+3")` is "1020"), no negative
    zero."""
    text = format(value, "f")
    return text[1:] if text.startswith("-") and value.is_zero() else text
