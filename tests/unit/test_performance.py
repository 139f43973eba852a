"""Time- and money-weighted returns: by hand, and by property against independent references: a simulated
market whose daily moves are known (TWR must give back exactly their product, whatever the client's flows)
and a textbook XIRR (bisection on the net present value, on whole days)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

from hypothesis import assume, given
from hypothesis import strategies as st

from wealthgate.portfolios.daily import TOTAL, valuations
from wealthgate.portfolios.performance import Day, months_before, mwr, returns, twr

D = Decimal
T0 = date(2018, 1, 1)
SIX = D("0.000001")
ZERO = D(0)


def day(on: date, value: Decimal, start_flow: Decimal = ZERO, end_flow: Decimal = ZERO) -> Day:
    """A valued day; `start_flow` comes in at the start of the day, `end_flow` goes or comes at its close."""
    return Day(on, value, start_flow=start_flow, end_flow=end_flow)


def reference_xirr(flows: Sequence[tuple[date, Decimal]]) -> tuple[Decimal | None, Decimal]:
    """Textbook XIRR: the rate r with sum CF_i / (1 + r)^((d_i - d_0) / 365) = 0 (money in negative, out
    positive), found by bisection. Written on the daily rate g, (1 + r) = (1 + g)^365, so every exponent is a
    whole number of days. Returns (r, or None for a period under 365 days; the return over the period).
    Assumes one sign change of the net present value between g = -1 and large g (money in, then out)."""
    first = min(d for d, _ in flows)
    span = (max(d for d, _ in flows) - first).days
    with localcontext() as ctx:
        ctx.prec = 60

        def npv(g: Decimal) -> Decimal:
            return sum((cf / (1 + g) ** (d - first).days for d, cf in flows), D(0))

        low, high = D("-0.99999999999"), D(1)
        while npv(high) > 0:
            high *= 2
        assert npv(low) > 0, "no root above -100 %"
        while high - low > D("1e-40"):
            mid = (low + high) / 2
            if npv(mid) > 0:
                low = mid
            else:
                high = mid
        g = (low + high) / 2
        return ((1 + g) ** 365 - 1 if span >= 365 else None), (1 + g) ** span - 1


def test_twr_by_hand() -> None:
    # day 1: 100 -> 110 (+10%); day 2: deposit 50 at the start, ends at 170: 170 / 160 - 1 = +6.25%
    series = [Day(T0, D(100)), Day(T0 + timedelta(1), D(110)), Day(T0 + timedelta(2), D(170), D(50))]
    assert twr(series) == D("0.168750")  # 1.1 x 1.0625 - 1


def test_mwr_by_hand() -> None:
    # 1,000 grows to 1,100 over exactly one year with no flows: IRR 10%
    series = [Day(T0, D(1000)), Day(T0 + timedelta(365), D(1100))]
    assert mwr(series) == (D("0.100000"), D("0.100000"))
    assert mwr([*series[:1], Day(T0 + timedelta(30), D(1010))])[0] is None  # under a year: not annualised
    # a deposit of 1,000 at the close of day 73 and an end of 2,200 on day 365
    with_flow = [
        Day(T0, D(1000)),
        day(T0 + timedelta(73), D(2000), end_flow=D(1000)),
        Day(T0 + timedelta(365), D(2200)),
    ]
    annual, _ = mwr(with_flow)
    assert annual is not None
    # check the root: 1000 (1+r) + 1000 (1+r)^(292/365) = 2200
    r = annual
    lhs = D(1000) * (1 + r) + D(1000) * (1 + r) ** (D(292) / D(365))
    assert abs(lhs - D(2200)) < D("0.01")
    # the same deposit at the start of day 73 is invested from the close before it (day 0 here)
    early = [Day(T0, D(1000)), day(T0 + timedelta(73), D(2000), D(1000)), Day(T0 + timedelta(365), D(2200))]
    assert mwr(early)[0] == D("0.100000")


def test_no_history_no_figures() -> None:
    assert returns([]) is None
    assert twr([Day(T0, D(0)), Day(T0 + timedelta(1), D(0))]) is None


growth = st.lists(st.decimals(min_value=D("0.90"), max_value=D("1.10"), places=4), min_size=1, max_size=60)


@given(growth)
def test_without_flows_twr_equals_the_value_ratio_and_mwr_agrees(factors: list[Decimal]) -> None:
    value = D(1000)
    series = [Day(T0, value)]
    for i, f in enumerate(factors, start=1):
        value = value * f
        series.append(Day(T0 + timedelta(i), value))
    # the house rounding rule: half away from zero (e.g. 0.0343025 -> 0.034303)
    expected = (series[-1].value / series[0].value - 1).quantize(D("0.000001"), rounding=ROUND_HALF_UP)
    assert twr(series) == expected
    _, period = mwr(series)
    assert period is not None
    assert abs(period - expected) <= D("0.000002")


@given(growth, st.integers(1, 59), st.decimals(min_value=D("1"), max_value=D("5000"), places=2))
def test_a_deposit_does_not_count_as_return(factors: list[Decimal], at: int, deposit: Decimal) -> None:
    """The same market moves give the same TWR whether or not the client deposits along the way."""
    plain, with_deposit = [Day(T0, D(1000))], [Day(T0, D(1000))]
    for i, f in enumerate(factors, start=1):
        flow = deposit if i == min(at, len(factors)) else D(0)
        plain.append(Day(T0 + timedelta(i), plain[-1].value * f))
        with_deposit.append(Day(T0 + timedelta(i), (with_deposit[-1].value + flow) * f, flow))
    a, b = twr(plain), twr(with_deposit)
    assert a is not None
    assert b is not None
    assert abs(a - b) <= D("0.000002")


def test_a_full_liquidation_day_counts_and_an_empty_day_restarts_on_a_deposit() -> None:
    """50,000 gains 2 % and all 51,000 is withdrawn at the close; the account is empty a day; then 10,000 is
    deposited and earns 5 %: 1.02 x 1.05 - 1 = 7.1 %."""
    series = [
        Day(T0, D(50_000)),
        day(T0 + timedelta(1), D(0), end_flow=D(-51_000)),
        Day(T0 + timedelta(2), D(0)),
        day(T0 + timedelta(3), D(10_500), start_flow=D(10_000)),
    ]
    assert twr(series) == D("0.071000")


def test_a_day_from_zero_with_a_deposit_is_measured() -> None:
    series = [Day(T0, D(0)), day(T0 + timedelta(1), D(1_030), start_flow=D(1_000))]
    assert twr(series) == D("0.030000")
    assert mwr(series) == (None, D("0.030000"))


# One day of a simulated market: its move, a deposit at the start of the day, and at the close either a
# transfer in (+) or a withdrawal of a share of the value (-1: all of it).
market_day = st.tuples(
    st.decimals(min_value=D("0.2"), max_value=D("3"), places=4),
    st.one_of(st.just(D(0)), st.decimals(min_value=D("0.01"), max_value=D("50000"), places=2)),
    st.one_of(
        st.just(D(0)),
        st.just(D(-1)),
        st.decimals(min_value=D("-1"), max_value=D("-0.001"), places=3),
        st.decimals(min_value=D("0.01"), max_value=D("50000"), places=2),
    ),
    st.integers(1, 4),  # calendar days since the previous valuation
)


def simulate(
    start: Decimal, days: list[tuple[Decimal, Decimal, Decimal, int]]
) -> tuple[list[Day], Decimal | None, list[tuple[date, Decimal]]]:
    """Valuations of a book that moves with the market; the product of the moves it was exposed to (None if
    it never was); and the investor's dated cash flows by the stated convention: a deposit at the start of a
    day is in from the close before it, a flow at the close is on its day."""
    series, exposed, on = [Day(T0, start)], None, T0
    flows = [(T0, -start)]
    with localcontext() as ctx:
        ctx.prec = 60
        for move, deposit, at_close, gap in days:
            previous, on = on, on + timedelta(gap)
            invested = series[-1].value + deposit
            if invested > 0:
                exposed = (exposed or D(1)) * move
            grown = invested * move
            end_flow = grown * at_close if at_close < 0 else at_close
            series.append(day(on, grown + end_flow, deposit, end_flow))
            flows += [(previous, -deposit), (on, -end_flow)]
    return series, exposed, [*flows, (on, series[-1].value)]


@given(st.sampled_from([D(0), D(1000), D("250000.00")]), st.lists(market_day, min_size=1, max_size=40))
def test_twr_gives_back_the_market_whatever_the_flows(
    start: Decimal, days: list[tuple[Decimal, Decimal, Decimal, int]]
) -> None:
    """Same-day sales and withdrawals, full liquidations, deposits into an empty book, transfers in: the TWR
    is the product of the market's moves over the days with capital at work, and nothing else."""
    series, exposed, _ = simulate(start, days)
    result = twr(series)
    if exposed is None:
        assert result is None
    else:
        assert result is not None
        assert abs(result - (exposed - 1).quantize(SIX)) <= SIX


@given(
    st.decimals(min_value=D("0.001"), max_value=D("50"), places=3),
    st.sampled_from([D("0.01"), D(1), D("1000000")]),
)
def test_mwr_answers_any_one_day_move(move: Decimal, start: Decimal) -> None:
    """From -99.9 % to +4,900 % in a day: the money-weighted return is the move (no flows)."""
    series = [Day(T0, start), Day(T0 + timedelta(1), start * move)]
    assert mwr(series) == (None, (move - 1).quantize(SIX))
    assert twr(series) == (move - 1).quantize(SIX)


@given(st.lists(market_day, min_size=1, max_size=25))
def test_mwr_agrees_with_a_textbook_xirr_when_money_only_comes_in(
    days: list[tuple[Decimal, Decimal, Decimal, int]],
) -> None:
    """Deposits and transfers in only: the NPV has a single root, which both must find."""
    inflows = [(move, deposit, abs(at_close), gap) for move, deposit, at_close, gap in days]
    series, _, flows = simulate(D(1000), inflows)
    expected_annual, expected_period = reference_xirr(flows)
    annual, period = mwr(series)
    assert period is not None
    assert abs(period - expected_period.quantize(SIX)) <= SIX
    assert (annual is None) == (expected_annual is None)


@given(st.lists(market_day, min_size=1, max_size=25))
def test_mwr_is_a_root_of_the_textbook_npv(days: list[tuple[Decimal, Decimal, Decimal, int]]) -> None:
    """Any flows (several roots are possible): the rate given solves the textbook equation to its last digit,
    i.e. the NPV changes sign within one unit of the sixth place around it."""
    series, _, flows = simulate(D(1000), days)
    _, period = mwr(series)
    assert period is not None
    assume(period > SIX - 1)  # within a millionth of -100 %, six places cannot tell the root apart
    first, span = series[0].on, (series[-1].on - series[0].on).days

    def npv(rate: Decimal) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = 60
            daily = (1 + rate) ** (D(1) / span)
            return sum((cf / daily ** (d - first).days for d, cf in flows), D(0))

    assert npv(period - SIX) * npv(period + SIX) <= 0


def test_mwr_of_a_huge_return_is_exact_to_the_sixth_place() -> None:
    """Found by hypothesis: 1,000 in, 2,061.80 out the next day, nothing left 37 days on. The growth factor is
    2.0618 a day, so the period return is 2.0618^37 - 1 (about 4 * 10^11): the sixth place of so large
    a figure needs the root to 18 significant digits of the return itself, not of its logarithm."""
    series = [
        Day(T0, D(1000)),
        Day(T0 + timedelta(1), D(0), end_flow=D("-2061.80")),
        Day(T0 + timedelta(37), D(0)),
    ]
    with localcontext() as ctx:
        ctx.prec = 60
        expected = (D("2.0618") ** 37 - 1).quantize(SIX, rounding=ROUND_HALF_UP)
    assert mwr(series) == (None, expected)


def test_period_windows_are_calendar_months_end_of_month_aware() -> None:
    assert months_before(date(2018, 4, 11), 1) == date(2018, 3, 11)
    assert months_before(date(2018, 4, 11), 3) == date(2018, 1, 11)
    assert months_before(date(2018, 4, 11), 12) == date(2017, 4, 11)
    assert months_before(date(2018, 3, 30), 1) == date(2018, 2, 28)  # no 30 February: its last day
    assert months_before(date(2018, 4, 30), 1) == date(2018, 3, 31)  # month end to month end
    assert months_before(date(2018, 2, 28), 12) == date(2017, 2, 28)
    assert months_before(date(2017, 2, 28), 12) == date(2016, 2, 29)
    assert months_before(date(2016, 2, 29), 12) == date(2015, 2, 28)
    assert months_before(date(2018, 1, 15), 3) == date(2017, 10, 15)


def row(n: int, on: date, account: int, kind: str, **kw: object) -> dict[str, object]:
    """A `transactions` row as the loader reads it."""
    base: dict[str, object] = {"symbol": None, "quantity": None, "price": None, "amount": D(0), "fees": D(0)}
    return {**base, "id": n, "account_id": account, "trade_date": on, "type": kind, "reverses_id": None, **kw}


def test_the_loader_nets_transfers_between_the_clients_own_accounts() -> None:
    """10 X (close 50) move from account 1 to account 2: an outflow of 500 for one, an inflow for the other,
    nothing for the client."""
    d = [T0, T0 + timedelta(1)]
    rows = [
        row(1, d[0], 1, "transfer", symbol="X", quantity=D(30), price=D(1)),
        row(2, d[1], 1, "transfer", symbol="X", quantity=D(-10)),
        row(3, d[1], 2, "transfer", symbol="X", quantity=D(10)),
    ]
    days = valuations(rows, [1, 2], d, {"X": {d[0]: D(40), d[1]: D(50)}})
    assert days[1][1] == Day(d[1], D(1000), end_flow=D(-500))
    assert days[2][1] == Day(d[1], D(500), end_flow=D(500))
    assert days[TOTAL][1] == Day(d[1], D(1500))
    assert days[TOTAL][0] == Day(d[0], D(1200), end_flow=D(1200))  # the opening transfer in, at the close


def test_the_loader_marks_a_security_without_a_close_at_its_trade_price() -> None:
    """Bought at 10 before its first close (12): the purchase is no loss, the first close a gain of 20 %."""
    d = [T0, T0 + timedelta(1), T0 + timedelta(2)]
    rows = [
        row(1, d[0], 1, "deposit", amount=D(1000)),
        row(2, d[1], 1, "buy", symbol="Y", quantity=D(100), price=D(10), amount=D(-1000)),
        row(3, d[1], 1, "deposit", amount=D(5)),
        row(4, d[1], 1, "deposit", amount=D(-5), reverses_id=3),  # a reversed pair counts nowhere
    ]
    days = valuations(rows, [1], d, {"Z": {x: D(1) for x in d}, "Y": {d[2]: D(12)}})
    assert [x.value for x in days[TOTAL]] == [D(1000), D(1000), D(1200)]
    assert twr(days[TOTAL]) == D("0.200000")


transfer_day = st.tuples(
    st.integers(1, 400),  # the close, in cents... x 1/100
    st.sampled_from(["in", "out", "move", "none"]),
    st.integers(1, 2),  # account
    st.integers(1, 50),  # quantity
)


@given(st.integers(1, 50), st.lists(transfer_day, min_size=1, max_size=30))
def test_a_book_moved_only_by_transfers_has_the_price_return(
    opening: int, days: list[tuple[int, str, int, int]]
) -> None:
    """Shares of one security moved in, out and between two accounts by transfers only: every account's TWR
    and the client's is the security's price return over the days it held some, and nothing of the
    transfers."""
    calendar, closes = [T0], {T0: D(1)}
    rows = [row(0, T0, 1, "transfer", symbol="X", quantity=D(opening), price=D(3))]
    held = {1: opening, 2: 0}
    exposed: dict[int, Decimal | None] = {1: None, 2: None, TOTAL: None}
    for n, (cents, kind, account, quantity) in enumerate(days, start=1):
        on = T0 + timedelta(n)
        calendar.append(on)
        closes[on] = D(cents) / 100
        move = closes[on] / closes[on - timedelta(1)]
        for key, before in ((1, held[1]), (2, held[2]), (TOTAL, held[1] + held[2])):
            if before > 0:
                exposed[key] = (exposed[key] or D(1)) * move
        other = 3 - account
        if kind == "in":
            rows.append(row(n, on, account, "transfer", symbol="X", quantity=D(quantity)))
            held[account] += quantity
        elif kind in ("out", "move") and held[account] > 0:
            q = min(quantity, held[account])
            rows.append(row(2 * n, on, account, "transfer", symbol="X", quantity=D(-q)))
            held[account] -= q
            if kind == "move":
                rows.append(row(2 * n + 1, on, other, "transfer", symbol="X", quantity=D(q)))
                held[other] += q
    series = valuations(rows, [1, 2], calendar, {"X": closes})
    for key, product in exposed.items():
        result = twr(series[key])
        assert (result is None) == (product is None)
        if product is not None and result is not None:
            assert abs(result - (product - 1).quantize(SIX)) <= SIX
