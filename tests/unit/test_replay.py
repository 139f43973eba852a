"""Ledger replay, property-tested: cash is the sum of amounts; quantities the signed sum of trades."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from wealthgate.ledger.replay import Entry, replay

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
qty = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("5000"), places=8)
price = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("5000"), places=6)


@st.composite
def histories(draw: st.DrawFn) -> list[Entry]:
    """Valid histories: never sell more than is held."""
    entries: list[Entry] = []
    held: dict[tuple[int, str], Decimal] = {}
    for _ in range(draw(st.integers(0, 40))):
        account = draw(st.integers(1, 3))
        symbol = draw(st.sampled_from(["AAA", "BBB", "CCC"]))
        kind = draw(st.sampled_from(["buy", "sell", "deposit", "fee", "dividend"]))
        if kind == "deposit":
            entries.append(Entry(account, "deposit", None, None, None, draw(money)))
        elif kind == "fee":
            entries.append(Entry(account, "fee", None, None, None, -draw(money)))
        elif kind == "dividend":
            entries.append(Entry(account, "dividend", symbol, None, None, draw(money)))
        elif kind == "buy":
            q, p, f = draw(qty), draw(price), draw(st.sampled_from([Decimal(0), Decimal("4.95")]))
            entries.append(Entry(account, "buy", symbol, q, p, -((q * p).quantize(Decimal("0.01")) + f), f))
            held[(account, symbol)] = held.get((account, symbol), Decimal(0)) + q
        elif held.get((account, symbol), Decimal(0)) > 0:
            q = min(draw(qty), held[(account, symbol)])
            p = draw(price)
            entries.append(Entry(account, "sell", symbol, q, p, (q * p).quantize(Decimal("0.01"))))
            held[(account, symbol)] -= q
    return entries


@given(histories())
def test_replay_equals_the_ledger_sums(entries: list[Entry]) -> None:
    book = replay(entries)
    for account in {e.account_id for e in entries}:
        assert book.cash[account] == sum((e.amount for e in entries if e.account_id == account), Decimal(0))
    for (account, symbol), h in book.holdings.items():
        signed = sum(
            (e.quantity or 0) * (1 if e.type == "buy" else -1)
            for e in entries
            if e.account_id == account and e.symbol == symbol and e.type in ("buy", "sell")
        )
        assert h.quantity == signed
        assert h.quantity >= 0
        assert h.cost_basis >= 0
        if h.quantity == 0:
            assert h.cost_basis == 0


@given(histories())
def test_replay_is_order_preserving_and_repeatable(entries: list[Entry]) -> None:
    assert replay(entries) == replay(list(entries))


def test_average_cost_on_a_partial_sale() -> None:
    book = replay(
        [
            Entry(1, "buy", "AAA", Decimal(10), Decimal(10), Decimal(-105), Decimal(5)),
            Entry(1, "sell", "AAA", Decimal(4), Decimal(12), Decimal(48)),
        ]
    )
    h = book.holdings[(1, "AAA")]
    assert (h.quantity, h.cost_basis) == (Decimal(6), Decimal("63.0000"))
    assert h.realized_gain == Decimal(48) - Decimal(42)  # 4 sold for 48; their average cost was 42
    assert book.cash[1] == Decimal(-57)


@given(histories(), st.data())
def test_a_reversed_entry_is_as_if_it_never_happened(entries: list[Entry], data: st.DataObject) -> None:
    numbered = [replace(e, id=i + 1) for i, e in enumerate(entries)]
    if not numbered:
        return
    k = data.draw(st.integers(0, len(numbered) - 1))
    original = numbered[k]
    reversal = replace(original, id=len(numbered) + 1, amount=-original.amount, reverses_id=original.id)
    with_reversal = replay([*numbered, reversal])
    without = replay(numbered[:k] + numbered[k + 1 :])
    assert with_reversal.open_holdings() == without.open_holdings()
    for account, cash in without.cash.items():
        assert with_reversal.cash.get(account, Decimal(0)) == cash


@given(histories())
def test_realized_plus_unrealized_is_the_whole_gain(entries: list[Entry]) -> None:
    """At any price, what was gained on sales plus what is gained on the rest equals proceeds plus value
    less everything paid: the average-cost split loses nothing."""
    book = replay(entries)
    price = Decimal("7.5")
    for (account, symbol), h in book.holdings.items():
        trades = [
            e for e in entries if e.account_id == account and e.symbol == symbol and e.type in ("buy", "sell")
        ]
        cash_flow = sum((e.amount for e in trades), Decimal(0))  # buys negative, sales positive
        unrealized = h.quantity * price - h.cost_basis
        assert abs(h.realized_gain + unrealized - (cash_flow + h.quantity * price)) <= Decimal("0.0001") * (
            1 + len(trades)
        )
