"""Input types shared by every entrypoint's models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000), which PostgreSQL cannot store")
    return value


StoredText = Annotated[str, AfterValidator(_no_nul)]
"""A string bound for a text or JSON column: PostgreSQL rejects U+0000 in both."""
