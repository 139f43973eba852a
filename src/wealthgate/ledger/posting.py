"""Posting to the ledger: the one way transactions enter, applied to positions and cash in the same
transaction as their audit event.

- The account must be visible to the caller: posting takes a `VisibleAccount` (ledger/accounts.py), which only
  the scoped lookup makes and which locks the account row, so postings to one account are serialised (no two
  sales can both spend the same shares).
- Amounts must agree with the trade: a buy moves -(round(quantity x price, 2) + fees), a sale
  round(quantity x price, 2) - fees; deposits, dividends and interest are positive, withdrawals and fees
  negative. Omit `amount` on a trade and it is computed.
- The position of the (account, symbol) touched is re-derived by replaying that slice of the ledger in
  trade-date order, so back-dated entries get the right average cost, and a sale that would take the
  holding below zero at any point is refused unless the account allows shorting. Its open FIFO lots (the
  `lots` table) are re-derived from the same replay.
- Cash never goes below zero unless the account allows margin (`accounts.allows_margin`): the account's cash
  at the end of every day from the posting's trade date on (a running sum of amounts in trade-date order, so a
  back-dated withdrawal cannot overdraw a day that has passed) must stay at or above zero, or the posting (a
  reversal too) is refused, naming the field the caller would change, and nothing is stored. Within a day the
  order of entries is not known, so a day is judged on its closing cash. Cash that comes in is never refused,
  so an account overdrawn before this rule can always be brought back.
- Nothing is edited: a correction is a reversing entry (`reverse`) that names the original.
- An `external_id` seen before returns the transaction already posted (a retried feed is not a double
  posting); the same id with different content is a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.db.sql import Sql
from wealthgate.errors import Conflict, Invalid, NotFound, RuleViolation
from wealthgate.ledger import lots
from wealthgate.ledger.accounts import VisibleAccount
from wealthgate.ledger.replay import Book, Entry, effective
from wealthgate.ledger.schemas import PositionAfter, PostedTransaction, PostingOut
from wealthgate.money import plain, to_cents, trimmed
from wealthgate.vocabulary import TYPES_WITH_SYMBOL

__all__ = ["Conflict", "Invalid", "NewTransaction", "NotFound", "Posted", "RuleViolation", "post", "reverse"]

_INSERT = Sql(
    """
INSERT INTO transactions (firm_id, client_id, account_id, trade_date, type, symbol, quantity, price, amount,
                          fees, description, external_id, reverses_id)
VALUES (:firm_id, :client_id, :account_id, :trade_date, :type, :symbol, :quantity, :price, :amount,
        :fees, :description, :external_id, :reverses_id)
RETURNING id
"""
)
_SLICE = Sql(
    """
SELECT id, account_id, type, symbol, quantity, price, amount, fees, reverses_id, trade_date
FROM transactions WHERE firm_id = :firm_id AND account_id = :account_id AND symbol = :symbol
ORDER BY trade_date, id
"""
)
_UPSERT_POSITION = Sql(
    """
INSERT INTO positions (firm_id, client_id, account_id, symbol, quantity, cost_basis, updated_at)
VALUES (:firm_id, :client_id, :account_id, :symbol, :quantity, :cost_basis, now())
ON CONFLICT (firm_id, account_id, symbol) DO UPDATE
SET quantity = excluded.quantity, cost_basis = excluded.cost_basis, updated_at = now()
"""
)
_DELETE_POSITION = Sql(
    "DELETE FROM positions WHERE firm_id = :firm_id AND account_id = :account_id AND symbol = :symbol"
)
_MOVE_CASH = Sql(
    """
UPDATE accounts SET cash_balance = cash_balance + :amount WHERE firm_id = :firm_id AND id = :account_id
RETURNING cash_balance
"""
)
_CASH = Sql("SELECT cash_balance FROM accounts WHERE firm_id = :firm_id AND id = :account_id")
# The first day from :since on whose closing cash is below zero: running sums over every day, then filtered.
_OVERDRAWN = Sql(
    """
SELECT trade_date, balance FROM (
    SELECT trade_date, sum(sum(amount)) OVER (ORDER BY trade_date) AS balance
    FROM transactions WHERE firm_id = :firm_id AND account_id = :account_id
    GROUP BY trade_date
) days
WHERE trade_date >= :since AND balance < 0
ORDER BY trade_date LIMIT 1
"""
)
_BY_EXTERNAL_ID = Sql("SELECT * FROM transactions WHERE firm_id = :firm_id AND external_id = :external_id")
_BY_ID = Sql("SELECT * FROM transactions WHERE firm_id = :firm_id AND account_id = :account_id AND id = :id")
_REVERSAL_OF = Sql("SELECT 1 FROM transactions WHERE firm_id = :firm_id AND reverses_id = :id")
_SECURITY_EXISTS = Sql("SELECT 1 FROM securities WHERE symbol = :symbol")

TRADES = ("buy", "sell")
NEEDS_SYMBOL = TYPES_WITH_SYMBOL
POSITIVE = ("deposit", "dividend", "interest")
NEGATIVE = ("withdrawal", "fee")


@dataclass(frozen=True, slots=True)
class NewTransaction:
    trade_date: date
    type: str
    symbol: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    amount: Decimal | None = None
    fees: Decimal = Decimal(0)
    description: str | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class Posted:
    transaction: PostedTransaction
    position: PositionAfter | None
    cash: Decimal
    created: bool  # False when the external id had been posted before: nothing new was written

    def out(self) -> PostingOut:
        """The answer of the posting routes."""
        return PostingOut(
            transaction=self.transaction, position=self.position, cash=plain(self.cash), created=self.created
        )


def expected_amount(t: NewTransaction) -> Decimal:
    """The cash effect a well-formed transaction must carry."""
    if t.type in TRADES:
        if t.quantity is None or t.price is None:
            raise Invalid(
                f"a {t.type} needs quantity and price", field="quantity" if t.quantity is None else "price"
            )
        gross = to_cents(t.quantity * t.price)
        return -(gross + t.fees) if t.type == "buy" else gross - t.fees
    if t.amount is None:
        raise Invalid(f"a {t.type} needs an amount", field="amount")
    return t.amount


def validate(t: NewTransaction) -> Decimal:
    if t.type in NEEDS_SYMBOL and not t.symbol:
        raise Invalid(f"a {t.type} needs a symbol", field="symbol")
    if t.type in TRADES and (t.quantity is None or t.quantity <= 0):
        raise Invalid("quantity must be positive", field="quantity")
    if t.type == "transfer" and (t.quantity is None or t.quantity == 0):
        raise Invalid("a transfer needs a signed quantity (+ in, - out)", field="quantity")
    if t.price is not None and t.price < 0:
        raise Invalid("price must not be negative", field="price")
    if t.fees < 0:
        raise Invalid("fees must not be negative", field="fees")
    amount = expected_amount(t)
    if t.amount is not None and t.amount != amount:
        raise Invalid(
            f"amount must be {plain(amount)} for this {t.type} (quantity x price, fees, sign)", field="amount"
        )
    if t.type in POSITIVE and amount <= 0:
        raise Invalid(f"a {t.type} moves cash in: amount must be positive", field="amount")
    if t.type in NEGATIVE and amount >= 0:
        raise Invalid(f"a {t.type} moves cash out: amount must be negative", field="amount")
    return amount


def posted_document(r: asyncpg.Record | None) -> PostedTransaction:
    """A `transactions` row read back after it was written, as the API shows it."""
    if r is None:  # read back inside the same transaction that wrote it
        raise RuntimeError("a posted transaction could not be read back")
    return PostedTransaction(
        id=r["id"],
        account_id=r["account_id"],
        client_id=r["client_id"],
        trade_date=r["trade_date"],
        type=r["type"],
        symbol=r["symbol"],
        quantity=None if r["quantity"] is None else trimmed(r["quantity"]),
        price=None if r["price"] is None else trimmed(r["price"]),
        amount=plain(r["amount"]),
        fees=plain(r["fees"]),
        description=r["description"],
        external_id=r["external_id"],
        reverses_id=r["reverses_id"],
    )


async def rederive_position(
    conn: asyncpg.Connection, account: VisibleAccount, symbol: str
) -> PositionAfter | None:
    rows = await _SLICE.fetch(conn, **account.ids, symbol=symbol)
    book = Book()
    for e in effective(Entry.from_row(r) for r in rows):  # a reversed pair counts nowhere, as in replay
        book.apply(e)
        held = book.holdings.get((account.account_id, symbol))
        if held is not None and held.quantity < 0 and not account.allows_shorting:
            on = e.trade_date.isoformat() if e.trade_date else "some date"
            raise RuleViolation(
                f"this would sell more {symbol} than the account holds on {on}", field="quantity"
            )
    holding = book.holdings.get((account.account_id, symbol))
    await lots.rederive(conn, account, symbol, holding)
    if holding is None or holding.quantity == 0:
        await _DELETE_POSITION.execute(conn, **account.ids, symbol=symbol)
        return None
    await _UPSERT_POSITION.execute(
        conn,
        **account.ids,
        client_id=account.client_id,
        symbol=symbol,
        quantity=holding.quantity,
        cost_basis=holding.cost_basis,
    )
    return PositionAfter(
        symbol=symbol, quantity=trimmed(holding.quantity), cost_basis=plain(holding.cost_basis)
    )


def cash_field(t: NewTransaction) -> str:
    """The field a caller would change to spend less: a buy's quantity, a sale's fees (only fees beyond the
    proceeds take cash), otherwise the amount."""
    return {"buy": "quantity", "sell": "fees"}.get(t.type, "amount")


async def _keep_cash(
    conn: asyncpg.Connection, account: VisibleAccount, since: date, amount: Decimal, field: str
) -> None:
    """Refuse a posting that takes an account without margin below zero cash on any day from `since` on."""
    if amount >= 0 or account.allows_margin:
        return
    low = await _OVERDRAWN.fetchrow(conn, **account.ids, since=since)
    if low is not None:
        raise RuleViolation(
            f"this would overdraw account {account.account_id}: its cash would be {plain(low['balance'])}"
            f" at the end of {low['trade_date'].isoformat()}, and the account does not allow margin",
            field=field,
        )


async def _enter(
    conn: asyncpg.Connection,
    account: VisibleAccount,
    t: NewTransaction,
    amount: Decimal,
    *,
    reverses_id: int | None,
    cash_field: str,
) -> tuple[int, Decimal, PositionAfter | None, PostedTransaction]:
    """Store `t` with its checked `amount`, move the cash, keep it above zero, re-derive the position: the
    id, the new cash, the position and the stored transaction."""
    txn_id: int = await _INSERT.fetchval(
        conn,
        **account.ids,
        client_id=account.client_id,
        trade_date=t.trade_date,
        type=t.type,
        symbol=t.symbol,
        quantity=t.quantity,
        price=t.price,
        amount=amount,
        fees=t.fees,
        description=t.description,
        external_id=t.external_id,
        reverses_id=reverses_id,
    )
    cash: Decimal = await _MOVE_CASH.fetchval(conn, **account.ids, amount=amount)
    await _keep_cash(conn, account, t.trade_date, amount, cash_field)
    position = await rederive_position(conn, account, t.symbol) if t.symbol else None
    document = posted_document(await _BY_ID.fetchrow(conn, **account.ids, id=txn_id))
    return txn_id, cash, position, document


def replayed(
    seen: Mapping[str, Any] | asyncpg.Record, account_id: int, t: NewTransaction, amount: Decimal
) -> None:
    """An external id posted before: the same transaction again is a replay (nothing new); other content
    under that id is a 409 naming `external_id`."""
    same = (seen["account_id"], seen["trade_date"], seen["type"], seen["symbol"], seen["amount"]) == (
        account_id,
        t.trade_date,
        t.type,
        t.symbol,
        amount,
    )
    if not same:
        raise Conflict(f"external_id {t.external_id} was posted with other content", field="external_id")


async def post(
    conn: asyncpg.Connection,
    account: VisibleAccount,
    t: NewTransaction,
    *,
    actor: dict[str, Any],
    request_id: str | None,
) -> Posted:
    """Post `t` to `account`; `actor` names who acted in the audit trail (a key, or an operator's import)."""
    amount = validate(t)
    if t.external_id is not None:
        seen = await _BY_EXTERNAL_ID.fetchrow(conn, firm_id=account.firm_id, external_id=t.external_id)
        if seen is not None:
            replayed(seen, account.account_id, t, amount)
            cash_now: Decimal = await _CASH.fetchval(conn, **account.ids)
            return Posted(posted_document(seen), None, cash_now, created=False)
    if t.symbol is not None and not await _SECURITY_EXISTS.fetchval(conn, symbol=t.symbol):
        raise Invalid(f"unknown security {t.symbol}", field="symbol")
    txn_id, cash, position, document = await _enter(
        conn, account, t, amount, reverses_id=None, cash_field=cash_field(t)
    )
    await record(
        conn,
        firm_id=account.firm_id,
        actor=actor,
        action="transaction.posted",
        target_type="transaction",
        target_id=txn_id,
        client_id=account.client_id,
        details=document.model_dump(mode="json"),
        request_id=request_id,
    )
    return Posted(document, position, cash, created=True)


async def reverse(
    conn: asyncpg.Connection,
    account: VisibleAccount,
    transaction_id: int,
    *,
    actor: dict[str, Any],
    description: str | None,
    request_id: str | None,
) -> Posted:
    """Post the entry that cancels `transaction_id` (same account); a transaction is reversed at most once."""
    original = await _BY_ID.fetchrow(conn, **account.ids, id=transaction_id)
    if original is None:
        raise NotFound("Transaction not found")
    if original["reverses_id"] is not None:
        raise Conflict("a reversal cannot itself be reversed; post a new transaction", field="transaction_id")
    if await _REVERSAL_OF.fetchval(conn, firm_id=account.firm_id, id=transaction_id):
        raise Conflict(f"transaction {transaction_id} is already reversed", field="transaction_id")
    mirror = NewTransaction(
        trade_date=original["trade_date"],
        type=original["type"],
        symbol=original["symbol"],
        quantity=original["quantity"],
        price=original["price"],
        amount=original["amount"],
        fees=original["fees"],
        description=description or f"Reversal of transaction {transaction_id}",
    )
    txn_id, cash, position, document = await _enter(
        conn, account, mirror, -original["amount"], reverses_id=transaction_id, cash_field="transaction_id"
    )
    await record(
        conn,
        firm_id=account.firm_id,
        actor=actor,
        action="transaction.reversed",
        target_type="transaction",
        target_id=txn_id,
        client_id=account.client_id,
        details={**document.model_dump(mode="json"), "original": transaction_id},
        request_id=request_id,
    )
    return Posted(document, position, cash, created=True)
