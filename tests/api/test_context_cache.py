"""The context cache (clients/context_cache.py, migration 0011): a read after any committed change to what the
document is built from never gets the old document, a kept document opens nothing to a key that may not see
the client, and every read is audited, served from the cache or not.

Each freshness case reads the client twice (the second read is a cache hit, checked), makes one kind of
change, reads again and compares with the document rendered by an app with the cache off on the same data:
the document must have changed, and be exactly the uncached one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.factories import Account, Advisor, Client, Factory, Firm, Key
from tests.support import execute, fetchval
from wealthgate.api.app import create_app
from wealthgate.clients.context_cache import RenderedContexts
from wealthgate.settings import Settings

SYMBOL_PRICES = {date(2018, 4, 10): "20", date(2018, 4, 11): "30"}


@dataclass(frozen=True)
class Book:
    firm: Firm
    advisor: Advisor
    client: Client
    account: Account
    symbol: str
    key: Key
    admin: Key


@pytest.fixture
def book(factory: Factory) -> Book:
    firm = factory.firm()
    advisor = factory.advisor(firm)
    client = factory.client(advisor, name="Cass Cache")
    account = factory.account(client, cash="1000", opened_on=date(2018, 4, 2))
    symbol = factory.security(prices=SYMBOL_PRICES)
    factory.position(account, symbol, "10", cost_basis="80", acquired_on=date(2018, 4, 3))
    factory.post(account, "deposit", "2018-04-05", amount="100")
    return Book(firm, advisor, client, account, symbol, factory.key(firm), factory.key(firm, ["admin"]))


@pytest.fixture
def uncached(settings: Settings) -> Iterator[TestClient]:
    """The same database, served with the cache off: the reference document."""
    off = settings.model_copy(update={"context_cache_entries": 0})
    with TestClient(create_app(off), raise_server_exceptions=False) as client:
        yield client


def cache_of(api: TestClient) -> RenderedContexts:
    found: RenderedContexts = api.app.state.context_cache  # type: ignore[attr-defined]
    return found


def path(book: Book, summary: bool) -> str:
    return f"/clients/{book.client.id}/context" + ("?summary=true" if summary else "")


def read(api: TestClient, book: Book, summary: bool) -> bytes:
    r = api.get(path(book, summary), headers=book.key.headers)
    assert r.status_code == 200, r.text
    return r.content


def expire_connections(api: TestClient) -> None:
    api.portal.call(api.app.state.pool.expire_connections)  # type: ignore[union-attr, attr-defined]


def change_profile(api: TestClient, factory: Factory, book: Book) -> None:
    execute(
        factory.db_url,
        "UPDATE clients SET investment_objective = 'income', risk_tolerance = 'conservative'"
        " WHERE firm_id = $1 AND id = $2",
        book.client.firm_id,
        book.client.id,
    )


def post_through_the_api(api: TestClient, factory: Factory, book: Book) -> None:
    body = {"trade_date": "2018-04-11", "type": "deposit", "amount": "250.00", "description": "top-up"}
    r = api.post(f"/accounts/{book.account.id}/transactions", json=body, headers=book.admin.headers)
    assert r.status_code == 201, r.text


def load_a_price(api: TestClient, factory: Factory, book: Book) -> None:
    factory.prices(book.symbol, {date(2018, 4, 12): "31.5"})


def change_the_security(api: TestClient, factory: Factory, book: Book) -> None:
    execute(factory.db_url, "UPDATE securities SET sector = 'Utilities' WHERE symbol = $1", book.symbol)


def change_cash(api: TestClient, factory: Factory, book: Book) -> None:
    execute(
        factory.db_url,
        "UPDATE accounts SET cash_balance = cash_balance + 1 WHERE firm_id = $1 AND id = $2",
        book.account.firm_id,
        book.account.id,
    )


def change_a_position(api: TestClient, factory: Factory, book: Book) -> None:
    execute(
        factory.db_url,
        "UPDATE positions SET quantity = quantity + 1 WHERE firm_id = $1 AND account_id = $2",
        book.account.firm_id,
        book.account.id,
    )


def change_the_model(api: TestClient, factory: Factory, book: Book) -> None:
    """The firm's weights for the client's risk level go: the summary's drift status says no_model."""
    execute(
        factory.db_url,
        "DELETE FROM model_portfolio_weights w USING model_portfolios m"
        " WHERE w.firm_id = m.firm_id AND w.model_portfolio_id = m.id AND m.firm_id = $1"
        " AND m.risk_level = 'moderate'",
        book.client.firm_id,
    )


CHANGES: dict[str, Callable[[TestClient, Factory, Book], None]] = {
    "profile": change_profile,
    "ledger posting (API)": post_through_the_api,
    "price load": load_a_price,
    "security": change_the_security,
    "account cash": change_cash,
    "position": change_a_position,
    "model portfolio": change_the_model,
}


CASES = [
    pytest.param(change, summary, id=f"{change}-{'summary' if summary else 'plain'}")
    for change in CHANGES
    for summary in (False, True)
    if summary or change != "model portfolio"  # the model portfolio shows in the summary only
]


@pytest.mark.parametrize(("change", "summary"), CASES)
def test_a_committed_change_is_never_served_stale(
    api: TestClient,
    uncached: TestClient,
    factory: Factory,
    book: Book,
    change: str,
    summary: bool,
) -> None:
    before = read(api, book, summary)
    hits = cache_of(api).hits
    assert read(api, book, summary) == before
    assert cache_of(api).hits == hits + 1  # the second read was served from the cache

    CHANGES[change](api, factory, book)

    after = read(api, book, summary)
    assert after != before
    assert after == read(uncached, book, summary)
    assert read(api, book, summary) == after  # and kept again under the new stamp


def test_a_new_day_renders_again(
    api: TestClient, uncached: TestClient, factory: Factory, db_url: str
) -> None:
    """The age depends on current_date: with nothing else changed, a read on another day is rendered anew.
    The day moves by moving the database's time zone from UTC-12 to UTC+14 (26 hours: always another date),
    for a client whose birthday is the later of the two dates."""
    name = fetchval(db_url, "SELECT current_database()")
    late = fetchval(db_url, "SELECT (now() AT TIME ZONE 'Pacific/Kiritimati')::date")
    early = fetchval(db_url, "SELECT (now() AT TIME ZONE 'Etc/GMT+12')::date")
    assert late > early
    firm = factory.firm()
    advisor = factory.advisor(firm)
    client = factory.client(advisor, name="Dee Day", date_of_birth=late.replace(year=late.year - 30))
    account = factory.account(client, cash="10")
    book = Book(firm, advisor, client, account, "", factory.key(firm), factory.key(firm, ["admin"]))

    execute(db_url, f"ALTER DATABASE \"{name}\" SET timezone = 'Etc/GMT+12'")
    for app in (api, uncached):
        expire_connections(app)
    before = read(api, book, False)
    assert read(api, book, False) == before
    assert b'"age" : 29' in before or b'"age": 29' in before

    execute(db_url, f"ALTER DATABASE \"{name}\" SET timezone = 'Pacific/Kiritimati'")
    for app in (api, uncached):
        expire_connections(app)
    after = read(api, book, False)
    assert after != before
    assert after == read(uncached, book, False)


def test_a_back_filled_price_keeps_the_document_and_the_stamp(
    api: TestClient, uncached: TestClient, factory: Factory, book: Book
) -> None:
    """An older price changes nothing the document shows: the kept document is still served, and is right."""
    before = read(api, book, True)
    factory.prices(book.symbol, {date(2017, 1, 3): "1"})
    hits = cache_of(api).hits
    assert read(api, book, True) == before == read(uncached, book, True)
    assert cache_of(api).hits == hits + 1


def test_a_kept_document_opens_nothing_to_other_keys(api: TestClient, factory: Factory, book: Book) -> None:
    """Kept for a whole-firm key; then another firm's key and a key bound to another advisor of the same
    firm are 404 exactly like a missing client, and a key bound to the client's advisor is served."""
    firm = factory.firm()
    other_firm_key = factory.key(firm)
    bound_elsewhere = factory.key(book.firm, advisor=factory.advisor(book.firm))
    own_advisor_key = factory.key(book.firm, advisor=book.advisor)
    for summary in (False, True):
        document = read(api, book, summary)
        assert read(api, book, summary) == document
        missing = api.get("/clients/999999/context", headers=book.key.headers)
        for key in (other_firm_key, bound_elsewhere):
            r = api.get(path(book, summary), headers={**key.headers, "If-None-Match": "*"})
            assert r.status_code == 404
            assert r.json()["detail"] == missing.json()["detail"]
        mine = api.get(path(book, summary), headers=own_advisor_key.headers)
        assert mine.status_code == 200
        assert mine.content == document


def test_cache_hits_and_304s_are_audited(api: TestClient, book: Book, db_url: str) -> None:
    first = api.get(path(book, False), headers=book.key.headers)
    etag = first.headers["etag"]
    hits = cache_of(api).hits
    for _ in range(3):
        assert api.get(path(book, False), headers=book.key.headers).status_code == 200
    held = api.get(path(book, False), headers={**book.key.headers, "If-None-Match": etag})
    assert held.status_code == 304
    assert cache_of(api).hits == hits + 4
    api.portal.call(api.app.state.reads.flush)  # type: ignore[union-attr, attr-defined]
    count = fetchval(
        db_url,
        "SELECT count(*) FROM audit_events WHERE action = 'client.read' AND client_id = $1",
        book.client.id,
    )
    assert count == 5


def test_the_cache_off_runs_the_full_statement_every_time(uncached: TestClient, book: Book) -> None:
    assert read(uncached, book, False) == read(uncached, book, False)
    assert cache_of(uncached).enabled is False
    assert len(cache_of(uncached)) == 0
    assert cache_of(uncached).hits == 0


def test_a_client_not_yet_kept_is_scoped_like_one_kept(api: TestClient, keys: Keys, db_url: str) -> None:
    """A read of a client with no kept document skips the stamp statement and runs the full one: that one's
    scope is then the only visibility check, and it must answer another advisor's key 404, cold and warm."""
    theirs = int(fetchval(db_url, "SELECT min(id) FROM clients WHERE firm_id = 1 AND advisor_id <> 2"))
    path = f"/clients/{theirs}/context"
    assert api.get(path, headers=Keys.auth(keys.advisor2)).status_code == 404  # cold: not kept
    assert api.get(path, headers=Keys.auth(keys.other_firm)).status_code == 404
    assert api.get(path, headers=Keys.auth(keys.agent)).status_code == 200  # now kept
    assert api.get(path, headers=Keys.auth(keys.advisor2)).status_code == 404  # warm
    assert api.get(path, headers=Keys.auth(keys.other_firm)).status_code == 404
