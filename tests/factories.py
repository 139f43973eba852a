"""Test factories: build exactly the firm, advisor, client, account, holdings and keys a test needs, through
the product's own paths, so a test depends neither on the demo book's ids nor on raw SQL edits of its state.

- Clients, accounts, securities, prices, transactions and opening positions go through the CSV import service
  (`ledger/importing.py`, `clients/importing.py`): the same validation, ledger posting (positions, lots, cash)
  and audit events as `wealthgate import`, attributed to the operator "factory". Cash enters as a `deposit`.
- Keys go through the key service (`auth/service.py`), revocation too.
- Firms and advisors have no service yet: `_insert_firm` and `_insert_advisor` are the one sanctioned raw SQL,
  until onboarding services exist (issue 13). A firm also gets the standard model portfolios and its default
  suitability policy, as the demo loader gives each demo firm, so drift and suitability work for it.

`Builder(conn)` is the async face (asyncpg); `Factory(db_url)` is the thin synchronous face for TestClient
tests (fixture `factory` in tests/conftest.py), one connection per call. Every builder returns a small frozen
dataclass with the ids; every field has a default and every default can be overridden.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

import asyncpg

from tests.support import with_conn
from wealthgate.auth.principal import operator_actor
from wealthgate.auth.service import create_key, revoke_key
from wealthgate.demo.load import load_model_portfolios
from wealthgate.ledger.importing import import_csv
from wealthgate.suitability.policies import ensure_default

T = TypeVar("T")
OPERATOR = "factory"
AGENT = ("clients:read", "recommendations:write")
PRICED_ON = date(2018, 4, 11)  # the demo calendar's last market day: the date every figure is "as of"
OPENED_ON = date(2018, 3, 1)
Figure = Decimal | str | int


@dataclass(frozen=True, slots=True)
class Firm:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Advisor:
    firm_id: int
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Client:
    firm_id: int
    id: int
    advisor_id: int
    external_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Account:
    firm_id: int
    client_id: int
    id: int
    external_id: str
    account_type: str


@dataclass(frozen=True, slots=True)
class Key:
    firm_id: int
    id: int
    advisor_id: int | None
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


class FactoryError(AssertionError):
    """The product refused what a factory was asked to build: the test's setup is wrong, not the product."""


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return ";".join(str(v) for v in value)
    return str(value)


def _csv(rows: Iterable[Mapping[str, object]]) -> list[str]:
    rows = list(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _text(v) for k, v in row.items()} for row in rows)
    return out.getvalue().splitlines(keepends=True)


# Until onboarding services exist (issue 13): the one sanctioned raw SQL of the factories.
async def _insert_firm(conn: asyncpg.Connection, name: str) -> int:
    firm_id: int = await conn.fetchval("INSERT INTO firms (name) VALUES ($1) RETURNING id", name)
    return firm_id


async def _insert_advisor(conn: asyncpg.Connection, firm_id: int, name: str, email: str) -> int:
    advisor_id: int = await conn.fetchval(
        "INSERT INTO advisors (firm_id, name, email) VALUES ($1, $2, $3) RETURNING id", firm_id, name, email
    )
    return advisor_id


class Builder:
    """The factories on one asyncpg connection (the database owner's, as the CLI operator acts)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def _import(self, firm_id: int, kind: str, rows: Iterable[Mapping[str, object]]) -> None:
        result = await import_csv(
            self.conn, kind, _csv(rows), firm_id=firm_id, operator=OPERATOR, partial=False
        )
        if result.errors or not result.committed:
            raise FactoryError(f"importing {kind} for firm {firm_id} was refused: {result.errors}")

    async def firm(self, *, name: str | None = None, models: bool = True) -> Firm:
        """A firm with the standard model portfolios (unless `models=False`) and its default policy."""
        name = name or _unique("Test firm")
        async with self.conn.transaction():
            firm_id = await _insert_firm(self.conn, name)
            if models:
                await load_model_portfolios(self.conn, [firm_id])
            await ensure_default(self.conn, firm_id, actor=operator_actor(firm_id, OPERATOR))
        return Firm(id=firm_id, name=name)

    async def advisor(
        self, firm: Firm | None = None, *, name: str | None = None, email: str | None = None
    ) -> Advisor:
        firm = firm or await self.firm()
        name = name or _unique("Advisor")
        advisor_id = await _insert_advisor(self.conn, firm.id, name, email or f"{name.lower()}@test.example")
        return Advisor(firm_id=firm.id, id=advisor_id, name=name)

    async def client(
        self,
        advisor: Advisor | None = None,
        *,
        name: str | None = None,
        external_id: str | None = None,
        email: str | None = None,
        date_of_birth: date = date(1970, 1, 1),
        risk_tolerance: str = "moderate",
        investment_objective: str = "growth",
        time_horizon: str = "long",
        liquidity_needs: str = "low",
        annual_income: Figure = "150000",
        net_worth: Figure = "2000000",
        liquid_net_worth: Figure = "1000000",
        tax_status: str = "taxable",
        marginal_tax_rate: Figure | None = None,
        investment_experience: str = "moderate",
        held_away_assets: Figure = "0",
        options_level: int = 0,
        margin_approved: bool = False,
        excluded_symbols: Iterable[str] = (),
        excluded_sectors: Iterable[str] = (),
    ) -> Client:
        """A client with a full investment profile (moderate, growth, long horizon unless told otherwise);
        without an advisor, a new firm and advisor are made for it."""
        advisor = advisor or await self.advisor()
        name = name or _unique("Client")
        external_id = external_id or _unique("client")
        row = {
            "external_id": external_id,
            "name": name,
            "email": email,
            "advisor_id": advisor.id,
            "date_of_birth": date_of_birth,
            "risk_tolerance": risk_tolerance,
            "investment_objective": investment_objective,
            "time_horizon": time_horizon,
            "liquidity_needs": liquidity_needs,
            "annual_income": annual_income,
            "net_worth": net_worth,
            "liquid_net_worth": liquid_net_worth,
            "tax_status": tax_status,
            "marginal_tax_rate": marginal_tax_rate,
            "investment_experience": investment_experience,
            "held_away_assets": held_away_assets,
            "options_level": options_level,
            "margin_approved": margin_approved,
            "excluded_symbols": list(excluded_symbols),
            "excluded_sectors": list(excluded_sectors),
        }
        await self._import(advisor.firm_id, "clients", [row])
        client_id: int = await self.conn.fetchval(
            "SELECT id FROM clients WHERE firm_id = $1 AND external_id = $2", advisor.firm_id, external_id
        )
        return Client(advisor.firm_id, client_id, advisor.id, external_id, name)

    async def account(
        self,
        client: Client | None = None,
        *,
        cash: Figure = "0",
        account_type: str = "taxable",
        name: str | None = None,
        external_id: str | None = None,
        currency: str = "USD",
        opened_on: date = OPENED_ON,
        allows_margin: bool = False,
        allows_shorting: bool = False,
    ) -> Account:
        """An account; `cash` (if not zero) enters through the ledger as a deposit on `opened_on`."""
        client = client or await self.client()
        external_id = external_id or _unique("account")
        row = {
            "external_id": external_id,
            "client_external_id": client.external_id,
            "name": name or account_type.replace("_", " ").title(),
            "account_type": account_type,
            "currency": currency,
            "allows_shorting": allows_shorting,
            "allows_margin": allows_margin,
            "opened_on": opened_on,
        }
        await self._import(client.firm_id, "accounts", [row])
        account_id: int = await self.conn.fetchval(
            "SELECT id FROM accounts WHERE firm_id = $1 AND external_id = $2", client.firm_id, external_id
        )
        account = Account(client.firm_id, client.id, account_id, external_id, account_type)
        if Decimal(cash) != 0:
            await self.post(account, "deposit" if Decimal(cash) > 0 else "withdrawal", opened_on, amount=cash)
        return account

    async def security(
        self,
        symbol: str | None = None,
        *,
        prices: Mapping[date | str, Figure] | None = None,
        name: str | None = None,
        asset_class: str = "equity",
        sector: str = "Test",
        region: str = "North America",
        risk_rating: int = 3,
        is_complex: bool = False,
        liquidity: str = "high",
    ) -> str:
        """A security (reference data, shared by every firm) and its closes (default: 10 on PRICED_ON)."""
        symbol = (symbol or "T" + uuid.uuid4().hex[:6]).upper()
        row = {
            "symbol": symbol,
            "name": name or symbol,
            "asset_class": asset_class,
            "sector": sector,
            "region": region,
            "risk_rating": risk_rating,
            "is_complex": is_complex,
            "liquidity": liquidity,
        }
        firm_id = await self._any_firm()
        await self._import(firm_id, "securities", [row])
        await self.prices(symbol, prices if prices is not None else {PRICED_ON: "10"})
        return symbol

    async def prices(self, symbol: str, closes: Mapping[date | str, Figure]) -> None:
        if closes:
            rows = [{"symbol": symbol, "date": day, "close": close} for day, close in closes.items()]
            await self._import(await self._any_firm(), "prices", rows)

    async def _any_firm(self) -> int:
        """Securities and prices belong to no firm, but the import runs as some firm's operator."""
        firm_id: int | None = await self.conn.fetchval("SELECT min(id) FROM firms")
        return firm_id if firm_id is not None else (await self.firm()).id

    async def post(
        self,
        account: Account,
        type: str,
        trade_date: date | str,
        *,
        symbol: str | None = None,
        quantity: Figure | None = None,
        price: Figure | None = None,
        amount: Figure | None = None,
        fees: Figure = "0",
        description: str | None = None,
        external_id: str | None = None,
    ) -> int:
        """Post one transaction through the ledger (positions, lots and cash follow); returns its id."""
        external_id = external_id or _unique("txn")
        row = {
            "account_id": account.id,
            "trade_date": trade_date,
            "type": type,
            "symbol": symbol,
            "quantity": quantity,
            "price": price,
            "amount": amount,
            "fees": fees,
            "description": description,
            "external_id": external_id,
        }
        await self._import(account.firm_id, "transactions", [row])
        transaction_id: int = await self.conn.fetchval(
            "SELECT id FROM transactions WHERE firm_id = $1 AND external_id = $2",
            account.firm_id,
            external_id,
        )
        return transaction_id

    async def position(
        self,
        account: Account,
        symbol: str,
        quantity: Figure,
        *,
        cost_basis: Figure = "0",
        acquired_on: date = OPENED_ON,
        external_id: str | None = None,
    ) -> None:
        """An opening position (transferred in at its cost basis, as `wealthgate import positions` does)."""
        row = {
            "account_external_id": account.external_id,
            "symbol": symbol,
            "quantity": quantity,
            "cost_basis": cost_basis,
            "acquired_on": acquired_on,
            "external_id": external_id or _unique("position"),
        }
        await self._import(account.firm_id, "positions", [row])

    async def key(
        self,
        firm: Firm | int,
        scopes: Iterable[str] = AGENT,
        *,
        advisor: Advisor | None = None,
        name: str | None = None,
    ) -> Key:
        """A key of the firm (agent scopes unless told); each key its own name and owner, so the four-eyes
        rule sees two keys as two people."""
        name = name or _unique("key")
        firm_id = firm if isinstance(firm, int) else firm.id
        advisor_id = advisor.id if advisor else None
        async with self.conn.transaction():
            created = await create_key(
                self.conn,
                firm_id=firm_id,
                scopes=list(scopes),
                name=name,
                owner=name,
                advisor_id=advisor_id,
                actor=operator_actor(firm_id, OPERATOR),
            )
        return Key(firm_id, created.key_id, advisor_id, created.secret_key)

    async def revoke(self, key: Key) -> None:
        async with self.conn.transaction():
            await revoke_key(
                self.conn, key_id=key.id, actor_for_firm=lambda firm_id: operator_actor(firm_id, OPERATOR)
            )


class Factory:
    """The factories for synchronous tests: each call runs its `Builder` method on a connection of its own."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url

    def run(self, work: Callable[[Builder], Awaitable[T]]) -> T:
        """Run async building work (several steps on one connection) from a synchronous test."""
        return with_conn(self.db_url, lambda conn: work(Builder(conn)))

    def firm(self, *, name: str | None = None, models: bool = True) -> Firm:
        return self.run(lambda b: b.firm(name=name, models=models))

    def advisor(
        self, firm: Firm | None = None, *, name: str | None = None, email: str | None = None
    ) -> Advisor:
        return self.run(lambda b: b.advisor(firm, name=name, email=email))

    def client(self, advisor: Advisor | None = None, **profile: object) -> Client:
        """See `Builder.client` for the profile fields and their defaults."""
        return self.run(lambda b: b.client(advisor, **profile))  # type: ignore[arg-type]

    def account(self, client: Client | None = None, **fields: object) -> Account:
        """See `Builder.account`: cash, account_type, opened_on, allows_margin, allows_shorting, ..."""
        return self.run(lambda b: b.account(client, **fields))  # type: ignore[arg-type]

    def security(self, symbol: str | None = None, **fields: object) -> str:
        return self.run(lambda b: b.security(symbol, **fields))  # type: ignore[arg-type]

    def prices(self, symbol: str, closes: Mapping[date | str, Figure]) -> None:
        self.run(lambda b: b.prices(symbol, closes))

    def post(self, account: Account, type: str, trade_date: date | str, **fields: object) -> int:
        return self.run(lambda b: b.post(account, type, trade_date, **fields))  # type: ignore[arg-type]

    def position(self, account: Account, symbol: str, quantity: Figure, **fields: object) -> None:
        self.run(lambda b: b.position(account, symbol, quantity, **fields))  # type: ignore[arg-type]

    def key(
        self,
        firm: Firm | int,
        scopes: Iterable[str] = AGENT,
        *,
        advisor: Advisor | None = None,
        name: str | None = None,
    ) -> Key:
        return self.run(lambda b: b.key(firm, scopes, advisor=advisor, name=name))

    def revoke(self, key: Key) -> None:
        self.run(lambda b: b.revoke(key))
