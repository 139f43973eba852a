"""The text of a CSV file for `wealthgate import`: UTF-8, with or without the byte-order mark Excel writes.

A file in another encoding (Excel's "CSV" on Windows is often Windows-1252/Latin-1) is refused before any
row is read, naming the line and column of the first byte that is not UTF-8 and saying how to fix it, so
nothing is stored. Python's own `UnicodeDecodeError` names a byte offset in an 8 KiB buffer, not a line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from wealthgate.errors import Invalid

BOM = "\ufeff"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
HOW_TO_FIX = 'save it as UTF-8 (in Excel: "CSV UTF-8 (Comma delimited)") and import it again'


class NotUtf8(Invalid):
    """The file is not UTF-8; `line` and `column` (a header name, when known) locate the first bad byte."""

    def __init__(self, detail: str, line: int, column: str | None) -> None:
        super().__init__(detail, field=column)
        self.line = line
        self.column = column


def _column(before: str) -> tuple[int, str | None]:
    """The 1-based column at the end of `before` (the text preceding the bad byte), and its header name."""
    try:
        rows = list(csv.reader(io.StringIO(before + "x")))  # "x" stands for the bad character's field
    except csv.Error:
        return 0, None
    if not rows:
        return 0, None
    index = len(rows[-1])
    header = rows[0] if len(rows) > 1 else []
    return index, (header[index - 1].lstrip(BOM).strip() or None) if index <= len(header) else None


def decode(data: bytes) -> str:
    """The text of `data` (UTF-8, a leading byte-order mark dropped), or `NotUtf8` naming where it is not."""
    if data.startswith(_UTF16_BOMS):
        raise NotUtf8(f"line 1: the file is UTF-16, not UTF-8; {HOW_TO_FIX}", 1, None)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8-sig")
        line = before.count("\n") + 1
        index, name = _column(before)
        where = f"line {line}" + (f", column {name}" if name else f", column {index}" if index else "")
        bad = data[exc.start : exc.start + 1].hex()
        raise NotUtf8(
            f"{where}: the file is not UTF-8 (byte 0x{bad} cannot be read); {HOW_TO_FIX}; nothing stored",
            line,
            name,
        ) from None


def read_csv(path: Path) -> io.StringIO:
    """The whole file as text, ready for `csv` (newlines kept as written): the importer's one way in."""
    return io.StringIO(decode(path.read_bytes()), newline="")
