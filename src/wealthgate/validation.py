"""Input types shared by every entrypoint's models, each validated exactly as its JSON Schema says (the
OpenAPI document is a contract a generator can trust: what the schema allows is accepted, what it refuses is
a 422 naming the field, never a 500 and never stored).

- `StoredText`: a string bound for a text or JSON column, without NUL (PostgreSQL refuses U+0000);
- `Day`: a calendar date written `YYYY-MM-DD` between 1900-01-01 and 2200-12-31 (no `0` read as 1970-01-01,
  no 0001-01-01 or 9999-12-31 stored as -infinity/infinity);
- `Moment`: an RFC 3339 time with its offset (or a `Day`, read as its midnight UTC), years as for `Day`;
- `DecimalRule`: a decimal written as a JSON string (or an integer) with a bounded number of digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

NO_NUL_PATTERN = r"^[^\x00]*$"
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)
YEARS = r"(19\d\d|2[01]\d\d|2200)"  # FIRST_DAY.year to LAST_DAY.year, as a pattern
DAY_PATTERN = rf"^{YEARS}-\d\d-\d\d$"
MOMENT_PATTERN = rf"^{YEARS}-\d\d-\d\d[Tt]"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000), which PostgreSQL cannot store")
    return value


class _SaysNoNul:
    """Adds the no-NUL pattern to a string's JSON Schema (its other keywords, e.g. lengths, stay)."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.setdefault("pattern", NO_NUL_PATTERN)
        return schema


StoredText = Annotated[str, AfterValidator(_no_nul), _SaysNoNul()]
"""A string bound for a text or JSON column: PostgreSQL rejects U+0000 in both."""


# ---- dates and times ---------------------------------------------------------------------------------------


def _in_range(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return day


def _day(value: object) -> date:
    """A `YYYY-MM-DD` text (or a `date` from Python callers) within the sane range; never a number."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return _in_range(value)
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD, e.g. 2024-01-31")
    try:
        parsed = date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"is not a calendar date ({exc})") from None
    return _in_range(parsed)


def _moment(value: object) -> datetime:
    """An RFC 3339 time with its offset, or a `YYYY-MM-DD` day (its midnight UTC)."""
    if isinstance(value, datetime):
        _in_range(value.date())
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and _DAY.fullmatch(value):
        return datetime.combine(_day(value), datetime.min.time(), UTC)
    found = _MOMENT.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError(
            "must be an RFC 3339 time with its offset (2024-01-31T09:30:00Z) or a date YYYY-MM-DD"
        )
    day, clock, fraction, offset = found.groups()
    written = f"{day}T{clock}{'.' + fraction[:6].ljust(6, '0') if fraction else ''}"
    written += "+00:00" if offset in ("Z", "z") else offset
    try:
        parsed = datetime.fromisoformat(written)
    except ValueError as exc:
        raise ValueError(f"is not a valid time ({exc})") from None
    _in_range(parsed.date())
    return parsed


Day = Annotated[
    date,
    BeforeValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN}),
]
"""A calendar date, `YYYY-MM-DD`, 1900-01-01 to 2200-12-31."""

Moment = Annotated[
    datetime,
    BeforeValidator(_moment),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time", "pattern": MOMENT_PATTERN},
                {"type": "string", "format": "date", "pattern": DAY_PATTERN},
            ]
        }
    ),
]
"""A point in time: RFC 3339 with its offset, or a day (its midnight UTC); years 1900 to 2200."""


# ---- decimals ----------------------------------------------------------------------------------------------

Sign = Literal["any", "non-negative", "positive"]


def _decimal_pattern(whole: int, places: int, sign: Sign) -> str:
    """The decimal strings accepted, exactly: positional (no leading zeros, at most `whole` digits before the
    point and `places` after), or the scientific form Python writes (`1E+3`, `2.5E+1`, `1.5E-7`) where its
    value keeps within the same digits (a one-digit mantissa, exponents to +9 or down to -places)."""
    fraction = rf"(\.\d{{1,{places}}})?"
    if sign == "positive":
        # at least one digit that is not zero: a whole part from 1, or 0.<zeros><a non-zero digit>...
        small = "|".join(rf"0\.0{{{i}}}[1-9]\d{{0,{places - 1 - i}}}" for i in range(places))
        positional = rf"[1-9]\d{{0,{whole - 1}}}{fraction}|{small}"
    else:
        positional = rf"(0|[1-9]\d{{0,{whole - 1}}}){fraction}"
    ups = rf"[1-9](\.\d{{1,{places}}})?[eE]\+?[0-{min(whole - 1, 9)}]"
    downs = [
        rf"[1-9](\.\d{{1,{places - e}}})?[eE]-{e}" if e < places else rf"[1-9][eE]-{e}"
        for e in range(1, places + 1)
    ]
    minus = "-?" if sign == "any" else ""
    return rf"^{minus}({positional}|{'|'.join([ups, *downs])})$"


@dataclass(frozen=True, slots=True)
class DecimalRule:
    """A decimal sent as a JSON string (`"12.50"`) or an integer: at most `digits` digits of which `places`
    after the point, no exponent, no leading zeros, no float, NaN or Infinity. The JSON Schema states exactly
    that (a pattern, or an integer range), so a generator's valid values are all accepted. Used as the
    metadata of `Annotated[Decimal, DecimalRule(20, 4)]`."""

    digits: int
    places: int
    sign: Sign = "any"

    @property
    def pattern(self) -> str:
        return _decimal_pattern(self.digits - self.places, self.places, self.sign)

    @property
    def integers(self) -> tuple[int, int]:
        """The JSON integers accepted: up to 15 digits, which a reader of doubles (a generator, a client)
        keeps exact."""
        high = 10 ** min(self.digits - self.places, 15) - 1
        return {"any": -high, "non-negative": 0, "positive": 1}[self.sign], high

    def told(self) -> str:
        words = {"any": "", "non-negative": ", not negative", "positive": ", greater than zero"}[self.sign]
        whole = self.digits - self.places
        return f"send a decimal string of at most {whole} digits before the point, {self.places} after{words}"

    def check(self, value: object) -> object:
        if isinstance(value, bool | float):
            raise ValueError('send decimal figures as strings, e.g. "12.50"')
        if isinstance(value, int):
            low, high = self.integers
            if not low <= value <= high:
                raise ValueError(f"{self.told()}; as a JSON integer, {low} to {high}")
            return Decimal(value)
        if isinstance(value, str):
            if not re.fullmatch(self.pattern, value):
                raise ValueError(f'{self.told()}, e.g. "12.50"')
            return Decimal(value)
        if isinstance(value, Decimal):  # Python callers building a model
            if not value.is_finite():
                raise ValueError("must be a finite number")
            return value
        raise ValueError('send decimal figures as strings, e.g. "12.50"')

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        low, high = self.integers
        return {
            "anyOf": [
                {"type": "string", "pattern": self.pattern},
                {"type": "integer", "minimum": low, "maximum": high},
            ]
        }


DecimalText = Annotated[Decimal, DecimalRule(28, 10)]
"""A decimal given as a JSON string (or integer); never a float, NaN or Infinity."""
