"""Opaque keyset cursors shared by every list: `{"items": [...], "next_cursor": str | null}`."""

from __future__ import annotations

import base64
import binascii
import re

import orjson

from wealthgate.errors import Invalid

MAX_TEXT = 300  # the longest text a keyset holds (a symbol, a rank, a date); cursors are at most 300 long
_REAL = re.compile(r"-?\d{1,40}(\.\d{1,40})?([eE][-+]?\d{1,2})?")
REAL_TINY, REAL_HUGE = 1.2e-38, 3.4e38  # PostgreSQL `real` (float4): what it reads without an error


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"after": last_id})).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id to continue after; 0 for the first page. A cursor we did not issue is a 422 naming `cursor`."""
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError) as exc:
        raise Invalid("cursor is not one this API returned", field="cursor") from exc
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**63:
        raise Invalid("cursor is not one this API returned", field="cursor")
    return after


def encode_keyset(values: list[str | int]) -> str:
    """A cursor holding the sort key of the last item of a page (for orders other than by id)."""
    return base64.urlsafe_b64encode(orjson.dumps({"k": values})).decode().rstrip("=")


def _storable(value: object) -> bool:
    """A keyset value this API could have written: an id (a BIGINT) or a short text without NUL. Anything
    else would reach PostgreSQL as an out-of-range integer or an unstorable text: a 500, not a 422."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value < 2**63
    return isinstance(value, str) and len(value) <= MAX_TEXT and "\x00" not in value


def decode_keyset(cursor: str, arity: int) -> list[str | int]:
    """The sort key a cursor holds; a cursor we did not issue (or one edited by hand) is a 422 naming
    `cursor`, whatever it decodes to. Callers parse each value further (a date, a rank) with the same 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["k"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError) as exc:
        raise Invalid("cursor is not one this API returned", field="cursor") from exc
    if not isinstance(values, list) or len(values) != arity or not all(_storable(v) for v in values):
        raise Invalid("cursor is not one this API returned", field="cursor")
    return values


def real_text(value: str | int) -> str:
    """A relevance rank from a cursor, as PostgreSQL's `real` reads it back (`h.rank::text`): a plain decimal
    or exponent form within the type's range, else the cursor's 422 (never PostgreSQL's out-of-range 500)."""
    text = str(value)
    if not _REAL.fullmatch(text):
        raise Invalid("cursor is not one this API returned", field="cursor")
    magnitude = abs(float(text))
    if magnitude != 0 and not REAL_TINY <= magnitude <= REAL_HUGE:
        raise Invalid("cursor is not one this API returned", field="cursor")
    return text
