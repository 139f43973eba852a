"""Opaque keyset cursors shared by every list: `{"items": [...], "next_cursor": str | null}`."""

from __future__ import annotations

import base64
import binascii

import orjson

from wealthgate.errors import Invalid


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


def decode_keyset(cursor: str, arity: int) -> list[str | int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["k"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError) as exc:
        raise Invalid("cursor is not one this API returned", field="cursor") from exc
    if (
        not isinstance(values, list)
        or len(values) != arity
        or not all(isinstance(v, str | int) for v in values)
    ):
        raise Invalid("cursor is not one this API returned", field="cursor")
    return values
