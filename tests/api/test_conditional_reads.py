"""Conditional reads of the context and the portfolio: a strong ETag of the exact bytes, 304 while the caller
holds the current document, a new document (and tag) after any committed change, and every read audited,
304s included."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from fastapi.testclient import TestClient

from tests.factories import Factory
from tests.support import fetchval
from wealthgate.api.conditional import matches

PATHS = ["/clients/{id}/context", "/clients/{id}/portfolio"]


def read_events(db_url: str, client_id: int) -> int:
    return int(
        fetchval(
            db_url,
            "SELECT count(*) FROM audit_events WHERE action = 'client.read' AND client_id = $1",
            client_id,
        )
    )


def flush(api: TestClient) -> None:
    api.portal.call(api.app.state.reads.flush)  # type: ignore[union-attr, attr-defined]


@pytest.mark.parametrize("template", PATHS)
def test_a_held_document_is_304_until_a_change_commits(
    api: TestClient, factory: Factory, db_url: str, template: str
) -> None:
    symbol = factory.security("ETGA", prices={date(2018, 4, 10): "20", date(2018, 4, 11): "30"})
    client = factory.client(name="Eve Tag")
    account = factory.account(client, cash="1000", opened_on=date(2018, 4, 2))
    factory.position(account, symbol, "10", cost_basis="80", acquired_on=date(2018, 4, 3))
    key = factory.key(client.firm_id)
    path = template.format(id=client.id)

    first = api.get(path, headers=key.headers)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    # strong, and the tag of exactly the bytes sent
    assert etag == f'"{hashlib.sha256(first.content).hexdigest()[:32]}"'
    assert first.headers["cache-control"] == "private, no-cache"
    assert api.get(path, headers=key.headers).headers["etag"] == etag  # nothing changed: the same tag

    held = api.get(path, headers={**key.headers, "If-None-Match": etag})
    assert held.status_code == 304
    assert held.content == b""
    assert held.headers["etag"] == etag
    flush(api)
    assert read_events(db_url, client.id) == 3  # the 304 is a read like the others

    factory.post(account, "deposit", "2018-04-11", amount="250")  # a committed change to the client's book
    changed = api.get(path, headers={**key.headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json() != first.json()


@pytest.mark.parametrize("template", PATHS)
def test_conditional_reads_stay_scoped(api: TestClient, factory: Factory, template: str) -> None:
    """A tag learned elsewhere opens nothing: another firm's client is 404 with or without If-None-Match."""
    client = factory.client(name="Tess Tag")
    factory.account(client, cash="10")
    mine = factory.key(client.firm_id)
    etag = api.get(template.format(id=client.id), headers=mine.headers).headers["etag"]
    other_firm = factory.firm(name="Elsewhere")
    theirs = factory.key(other_firm)
    r = api.get(template.format(id=client.id), headers={**theirs.headers, "If-None-Match": etag})
    assert r.status_code == 404


def test_if_none_match_is_compared_weakly_and_accepts_lists_and_star() -> None:
    tag = '"abc"'
    assert matches('"abc"', tag)
    assert matches('W/"abc"', tag)
    assert matches('"x", W/"abc" , "y"', tag)
    assert matches("*", tag)
    assert not matches('"abcd"', tag)
    assert not matches("", tag)
    assert not matches(None, tag)
