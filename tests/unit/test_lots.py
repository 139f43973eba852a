"""FIFO lots in ledger replay, property-tested against a closed form and against average cost, and by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from wealthgate.ledger.replay import Entry, Holding, replay
from wealthgate.money import to_money

D = Decimal
START = date(2018, 1, 2)
qty = st.decimals(min_value=D("0.00000001"), max_value=D("5000"), places=8)
price = st.decimals(min_value=D("0"), max_value=D("5000"), places=6)
fees = st.sampled_from([D(0), D("4.95"), D("0.01")])
# a transfer in is costed at quantity x price; these keep that product to 4 places, so a test can add it up
transfer_qty = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)
transfer_price = st.decimals(min_value=D("0"), max_value=D("500"), places=2)


@st.composite
def histories(draw: st.DrawFn, *, transfers_out: bool = True, exact_transfers: bool = True) -> list[Entry]:
    """Valid long-only histories in ledger order (trade date, then id): never remove more than is held.
    With `exact_transfers` a transfer in's quantity x price has at most 4 places (no rounding to model)."""
    entries: list[Entry] = []
    held: dict[tuple[int, str], Decimal] = {}
    day = START
    kinds = ["buy", "sell", "transfer_in", "deposit"] + (["transfer_out"] if transfers_out else [])
    for n in range(1, draw(st.integers(0, 40)) + 1):
        day += timedelta(days=draw(st.integers(0, 3)))
        account = draw(st.integers(1, 2))
        symbol = draw(st.sampled_from(["AAA", "BBB"]))
        key = (account, symbol)
        kind = draw(st.sampled_from(kinds))
        e: Entry | None = None
        if kind == "deposit":
            e = Entry(account, "deposit", None, None, None, D(100), id=n, trade_date=day)
        elif kind == "buy":
            q, p, f = draw(qty), draw(price), draw(fees)
            amount = -((q * p).quantize(D("0.01")) + f)
            e = Entry(account, "buy", symbol, q, p, amount, f, id=n, trade_date=day)
            held[key] = held.get(key, D(0)) + q
        elif kind == "transfer_in":
            q, p = (draw(transfer_qty), draw(transfer_price)) if exact_transfers else (draw(qty), draw(price))
            e = Entry(account, "transfer", symbol, q, p, D(0), id=n, trade_date=day)
            held[key] = held.get(key, D(0)) + q
        elif held.get(key, D(0)) > 0:
            q = min(draw(qty), held[key])
            if draw(st.booleans()):
                q = held[key]  # sell out now and then
            if kind == "sell":
                p, f = draw(price), draw(fees)
                amount = (q * p).quantize(D("0.01")) - f
                e = Entry(account, "sell", symbol, q, p, amount, f, id=n, trade_date=day)
            else:
                e = Entry(account, "transfer", symbol, -q, None, D(0), id=n, trade_date=day)
            held[key] -= q
        if e is not None:
            entries.append(e)
    return entries


def slice_of(entries: list[Entry], key: tuple[int, str]) -> list[Entry]:
    return [e for e in entries if (e.account_id, e.symbol) == key and e.quantity is not None]


def acquisition_cost(e: Entry) -> Decimal:
    return -e.amount if e.type == "buy" else (e.quantity or D(0)) * (e.price or D(0))


def expected_lots(entries: list[Entry]) -> list[tuple[int | None, date | None, Decimal, Decimal]]:
    """The closed form of FIFO for a long-only slice: the units removed are the first R acquired, so a lot
    acquired after C units keeps clamp(C + q - R, 0, q) of its q, and its open cost is its cost pro rata."""
    removed = sum((e.quantity or D(0) for e in entries if e.type == "sell"), D(0)) - sum(
        (e.quantity or D(0) for e in entries if e.type == "transfer" and (e.quantity or 0) < 0), D(0)
    )
    out = []
    acquired = D(0)
    for e in entries:
        if e.type == "buy" or (e.type == "transfer" and (e.quantity or 0) > 0):
            q = e.quantity or D(0)
            open_q = min(max(acquired + q - removed, D(0)), q)
            acquired += q
            if open_q > 0:
                out.append((e.id, e.trade_date, open_q, to_money(acquisition_cost(e) * open_q / q)))
    return out


def lots_of(h: Holding) -> list[tuple[int | None, date | None, Decimal, Decimal]]:
    return [(lot.opened_by, lot.acquired_on, lot.open_quantity, lot.open_cost) for lot in h.lots]


@given(histories())
def test_open_lots_are_the_oldest_units_not_yet_removed(entries: list[Entry]) -> None:
    book = replay(entries)
    for key, h in book.holdings.items():
        assert lots_of(h) == expected_lots(slice_of(entries, key))
        assert sum((lot.open_quantity for lot in h.lots), D(0)) == h.quantity
        assert [(lot.acquired_on, lot.opened_by) for lot in h.lots] == sorted(
            (lot.acquired_on, lot.opened_by) for lot in h.lots
        )
        for lot in h.lots:
            assert 0 < lot.open_quantity <= lot.quantity
            assert 0 <= lot.open_cost <= lot.cost
        if h.quantity == 0:
            assert h.lots == []
            assert h.fifo_cost_basis == 0


@given(histories(transfers_out=False))
def test_both_methods_split_the_same_total_between_realized_and_open_cost(entries: list[Entry]) -> None:
    """Proceeds less costs is what a holding has gained or lost so far in cash: realized gain less the cost
    still open, whichever method decides which cost left with each sale. (A transfer out carries cost away
    unrealized, a different amount by each method, so these histories have none.)"""
    book = replay(entries)
    for key, h in book.holdings.items():
        trades = slice_of(entries, key)
        net = sum((e.amount for e in trades), D(0)) - sum(
            (acquisition_cost(e) for e in trades if e.type == "transfer"), D(0)
        )
        assert h.realized_gain - h.cost_basis == net
        assert h.fifo_realized_gain - h.fifo_cost_basis == net


@given(histories(transfers_out=False, exact_transfers=False))
def test_both_methods_start_from_the_same_cost_whatever_the_rounding(entries: list[Entry]) -> None:
    book = replay(entries)
    for h in book.holdings.values():
        assert h.fifo_realized_gain - h.fifo_cost_basis == h.realized_gain - h.cost_basis


@given(histories(transfers_out=False), st.data())
def test_selling_everything_closes_every_lot_and_the_methods_agree(
    entries: list[Entry], data: st.DataObject
) -> None:
    book = replay(entries)
    day = max((e.trade_date for e in entries if e.trade_date), default=START)
    closing = [
        Entry(
            a, "sell", s, h.quantity, p, (h.quantity * p).quantize(D("0.01")), id=10_000 + k, trade_date=day
        )
        for k, ((a, s), h) in enumerate(sorted(book.open_holdings().items()))
        for p in [data.draw(price)]
    ]
    closed = replay([*entries, *closing])
    assert closed.open_holdings() == {}
    for h in closed.holdings.values():
        assert (h.lots, h.cost_basis, h.fifo_cost_basis) == ([], 0, 0)
        assert h.fifo_realized_gain == h.realized_gain


@given(histories(), st.data())
def test_a_reversed_entry_leaves_the_lots_as_if_it_never_happened(
    entries: list[Entry], data: st.DataObject
) -> None:
    if not entries:
        return
    k = data.draw(st.integers(0, len(entries) - 1))
    original = entries[k]
    reversal = replace(original, id=len(entries) + 1, amount=-original.amount, reverses_id=original.id)
    with_reversal = replay([*entries[: k + 1], reversal, *entries[k + 1 :]])
    without = replay(entries[:k] + entries[k + 1 :])
    assert {k: lots_of(h) for k, h in with_reversal.open_holdings().items()} == {
        k: lots_of(h) for k, h in without.open_holdings().items()
    }


def buy(n: int, q: int, p: int, fee: str = "0", day: int = 1) -> Entry:
    amount = -(D(q) * D(p) + D(fee))
    return Entry(1, "buy", "AAA", D(q), D(p), amount, D(fee), id=n, trade_date=date(2018, 4, day))


def sell(n: int, q: int, p: int, fee: str = "0", day: int = 3) -> Entry:
    amount = D(q) * D(p) - D(fee)
    return Entry(1, "sell", "AAA", D(q), D(p), amount, D(fee), id=n, trade_date=date(2018, 4, day))


def test_fifo_by_hand() -> None:
    """Buy 10 @ 100 and 10 @ 120, sell 15 @ 130 (1,950). FIFO sells all of the first lot (1,000) and half of
    the second (600): realized 350, left 5 @ 120 costing 600. Average cost is 110: realized 1,950 - 1,650 =
    300, left 5 costing 550. Either way realized less open cost is -250 (-1,000 - 1,200 + 1,950)."""
    h = replay([buy(1, 10, 100, day=1), buy(2, 10, 120, day=2), sell(3, 15, 130)]).holdings[(1, "AAA")]
    assert (h.fifo_realized_gain, h.fifo_cost_basis) == (D(350), D(600))
    assert lots_of(h) == [(2, date(2018, 4, 2), D(5), D(600))]
    assert (h.lots[0].quantity, h.lots[0].cost) == (D(10), D(1200))
    assert (h.realized_gain, h.cost_basis) == (D(300), D(550))


def test_fifo_by_hand_with_fees() -> None:
    """The same with 5.00 fees on each buy and 6.00 on the sale: lots cost 1,005 and 1,205; the sale brings
    1,944. FIFO removes 1,005 + 602.50: realized 336.50, left 5 costing 602.50. Average cost 2,210 / 20:
    removes 1,657.50, realized 286.50, left 552.50. Realized less open cost: -266 both ways."""
    h = replay([buy(1, 10, 100, "5", day=1), buy(2, 10, 120, "5", day=2), sell(3, 15, 130, "6")]).holdings[
        (1, "AAA")
    ]
    assert (h.fifo_realized_gain, h.fifo_cost_basis) == (D("336.50"), D("602.50"))
    assert lots_of(h) == [(2, date(2018, 4, 2), D(5), D("602.5000"))]
    assert (h.realized_gain, h.cost_basis) == (D("286.50"), D("552.50"))


def test_a_lot_consumed_in_thirds_keeps_its_cost_to_the_last_ten_thousandth() -> None:
    """3 bought for 30.01 (fee 0.01), sold one at a time at 10: the open cost is always 30.01 x open / 3 to
    4 places (20.0067, then 10.0033), so the sales remove 10.0033, 10.0034 and 10.0033: 30.01 in all."""
    entries = [buy(1, 3, 10, "0.01"), sell(2, 1, 10), sell(3, 1, 10, day=4)]
    h = replay(entries).holdings[(1, "AAA")]
    assert lots_of(h) == [(1, date(2018, 4, 1), D(1), D("10.0033"))]
    assert h.fifo_realized_gain == D(20) - D("20.0067")
    h = replay([*entries, sell(4, 1, 10, day=5)]).holdings[(1, "AAA")]
    assert (h.lots, h.fifo_realized_gain) == ([], D(30) - D("30.01"))


def test_a_transfer_in_opens_a_lot_and_a_transfer_out_takes_the_oldest() -> None:
    """10 transferred in at 50 (cost 500) on 1 April, 10 bought at 60 on 2 April; 12 transferred out take
    the transferred lot and 2 of the bought one: 480 left open, nothing realized."""
    entries = [
        Entry(1, "transfer", "AAA", D(10), D(50), D(0), id=1, trade_date=date(2018, 4, 1)),
        buy(2, 10, 60, day=2),
        Entry(1, "transfer", "AAA", D(-12), None, D(0), id=3, trade_date=date(2018, 4, 3)),
    ]
    h = replay(entries).holdings[(1, "AAA")]
    assert lots_of(h) == [(2, date(2018, 4, 2), D(8), D(480))]
    assert h.fifo_realized_gain == 0
    assert (h.quantity, h.cost_basis) == (D(8), D(440))  # average: 1,100 x 8 / 20


def test_a_transfer_in_costs_what_average_cost_added_for_it() -> None:
    """Average cost rounds its running total half-even: 0.0001 held plus 0.00005 transferred in is 0.0002,
    though 0.00005 alone would round to 0.0000. The lot costs the 0.0001 added, so the methods agree."""
    entries = [
        buy(1, 1, 0, "0.0001"),
        Entry(1, "transfer", "AAA", D(1), D("0.00005"), D(0), id=2, trade_date=date(2018, 4, 2)),
    ]
    h = replay(entries).holdings[(1, "AAA")]
    assert h.cost_basis == h.fifo_cost_basis == D("0.0002")
    assert [lot.cost for lot in h.lots] == [D("0.0001"), D("0.0001")]


def test_a_short_holds_no_lots_and_the_covering_buy_opens_one_for_the_rest() -> None:
    """Where shorting is allowed: 5 sold short hold no lot and realize nothing under FIFO; 8 bought at 11
    (88) cover the 5 and open a lot of 3 costing 88 x 3 / 8 = 33."""
    book = replay([sell(1, 5, 10, day=1)])
    h = book.holdings[(1, "AAA")]
    assert (h.quantity, h.lots, h.fifo_realized_gain) == (D(-5), [], 0)
    h = replay([sell(1, 5, 10, day=1), buy(2, 8, 11, day=2)]).holdings[(1, "AAA")]
    assert lots_of(h) == [(2, date(2018, 4, 2), D(3), D(33))]
