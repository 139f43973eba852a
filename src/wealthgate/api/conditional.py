"""Conditional reads (RFC 9110 section 13): a strong `ETag` on a JSON document, and `304 Not Modified` when
the caller already holds it (`If-None-Match`).

The tag is the SHA-256 of the exact bytes sent, so it changes whenever any figure, holding or price in the
document does and never otherwise: two reads get one tag only when they would get the same bytes. The route
still builds the document and records the read before this runs, so a 304 is an audited read like a 200; what
it saves is the transfer and the agent's re-reading of a document it already has.

`Cache-Control: private, no-cache`: a client's own cache may keep the document but must revalidate it on
every use; shared caches must not store it (client data).
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import Response

CACHE_CONTROL = "private, no-cache"


def etag_of(body: bytes) -> str:
    """A strong entity tag: the first 128 bits of the body's SHA-256, quoted."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names `etag`: `*`, or a list of tags compared weakly (a `W/` prefix is ignored,
    as RFC 9110 asks for this header)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


IF_NONE_MATCH_MAX = 2000  # characters: room for dozens of tags
IfNoneMatch = Annotated[
    str | None,
    Header(
        max_length=IF_NONE_MATCH_MAX,
        description="ETags of documents you hold (from an earlier answer's `ETag`): 304 if one is current.",
    ),
]
ETAG_HEADER = {
    "ETag": {"description": "A strong tag of this document's exact bytes", "schema": {"type": "string"}}
}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: `If-None-Match` names the current ETag (still an audited read)"}
}


def json_document(body: bytes, if_none_match: str | None) -> Response:
    """`body` as JSON with its ETag, or an empty 304 carrying the same ETag when the caller holds it."""
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
