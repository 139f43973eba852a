"""Input types shared by every entrypoint's models."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000), which PostgreSQL cannot store")
    return value


StoredText = Annotated[str, AfterValidator(_no_nul)]
"""A string bound for a text or JSON column: PostgreSQL rejects U+0000 in both."""


def _decimal_text(value: object) -> object:
    """Figures travel as JSON strings ("12.50") or integers; a JSON float would already have lost digits."""
    if isinstance(value, bool | float):
        raise ValueError('send decimal figures as strings, e.g. "12.50"')
    if isinstance(value, str | int):
        try:
            parsed = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError("not a decimal number") from exc
        if not parsed.is_finite():
            raise ValueError("must be a finite number")
        return parsed
    return value


DecimalText = Annotated[Decimal, BeforeValidator(_decimal_text), Field(strict=False, allow_inf_nan=False)]
"""A decimal given as a JSON string (or integer); never a float, NaN or Infinity."""
