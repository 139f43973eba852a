"""Returns and risk through the API, on books posted through the ledger route, against independent references:
GIPS-style sub-period linking (values taken at each external flow, not daily), a textbook XIRR, and volatility
written from its definition on the raw prices."""

from __future__ import annotations

import math
import statistics
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.factories import Account, Factory, Key
from tests.support import fetch, fetchval
from tests.unit.test_performance import reference_xirr

D = Decimal
SIX = D("0.000001")

# TSTF's closes, one per market day of early April 2018 (the demo calendar).
CLOSES = {
    "2018-04-02": "100",
    "2018-04-03": "104",
    "2018-04-04": "101",
    "2018-04-05": "110",
    "2018-04-06": "108",
    "2018-04-09": "112",
    "2018-04-10": "109",
    "2018-04-11": "111",
}


def _new_client(factory: Factory, name: str) -> tuple[Account, Key, Key]:
    """A moderate client of a new firm with one empty taxable account opened 1 March 2018: the account, the
    firm's admin key (to post) and its agent key (to read)."""
    account = factory.account(factory.client(name=name), name=name, opened_on=date(2018, 3, 1))
    return account, factory.key(account.firm_id, ["admin"]), factory.key(account.firm_id)


def _post(api: TestClient, admin: Key, account: Account, body: dict[str, Any]) -> None:
    r = api.post(f"/accounts/{account.id}/transactions", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text


def _performance(api: TestClient, agent: Key, account: Account, **params: str) -> Any:
    r = api.get(f"/clients/{account.client_id}/performance", params=params, headers=agent.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _ratio(x: Fraction) -> str:
    return str((D(x.numerator) / D(x.denominator)).quantize(SIX))


def test_transfer_in_and_same_day_sell_and_withdraw(api: TestClient, factory: Factory) -> None:
    """2 April: deposit 1,000; 100 TSTF transferred in (recorded at its cost, 50; the close is 100): 11,000.
    4 April: sell 90 at 101 (9,090) and withdraw 10,000: 90 cash and 10 TSTF at 101, 1,100 at the close.
    6 April: 50 TSTF transferred in, worth 5,400 at the close of 108. 11 April: sell all 60 at 111 (6,660)
    and withdraw the whole 6,750: the account ends at zero."""
    factory.security("TSTF", sector="Test", region="Test", prices=CLOSES)
    account, admin, agent = _new_client(factory, "Flow Book")
    transfer = {"type": "transfer", "symbol": "TSTF", "amount": "0"}
    postings = [
        {"trade_date": "2018-04-02", "type": "deposit", "amount": "1000"},
        {**transfer, "trade_date": "2018-04-02", "quantity": "100", "price": "50"},
        {"trade_date": "2018-04-04", "type": "sell", "symbol": "TSTF", "quantity": "90", "price": "101"},
        {"trade_date": "2018-04-04", "type": "withdrawal", "amount": "-10000"},
        {**transfer, "trade_date": "2018-04-06", "quantity": "50", "price": "80"},
        {"trade_date": "2018-04-11", "type": "sell", "symbol": "TSTF", "quantity": "60", "price": "111"},
        {"trade_date": "2018-04-11", "type": "withdrawal", "amount": "-6750"},
    ]
    for body in postings:
        _post(api, admin, account, body)

    # GIPS sub-period linking: a sub-period ends at each external flow, valued just before it, and the next
    # begins just after it. Withdrawals and transfers happen at the close of their day (docs/methodology.md).
    #   2 Apr close: 11,000     ->  4 Apr close, before the 10,000 withdrawal: 1,100 + 10,000 = 11,100
    #   just after it: 1,100    ->  6 Apr close, before the 50 TSTF come in: 90 + 10 x 108 = 1,170
    #   just after: 6,570       ->  11 Apr close, before the 6,750 withdrawal: 0 + 6,750
    subperiods = [(11_000, 11_100), (1_100, 1_170), (1_170 + 5_400, 6_750)]
    growth = math.prod((Fraction(end, begin) for begin, end in subperiods), start=Fraction(1))
    twr = _ratio(growth - 1)
    # XIRR: the start value and the transfer in are invested (-), the withdrawals received (+), on their days.
    flows = [
        (date(2018, 4, 2), D(-11_000)),
        (date(2018, 4, 4), D(10_000)),
        (date(2018, 4, 6), D(-5_400)),
        (date(2018, 4, 11), D(6_750)),
    ]
    _, mwr = reference_xirr(flows)

    p = _performance(api, agent, account)
    total = p["period"]["total"]
    assert (total["from"], total["to"], total["start_value"], total["end_value"]) == (
        "2018-04-02",
        "2018-04-11",
        "11000.00",
        "0.00",
    )
    assert (total["twr"], total["mwr"], total["mwr_annualised"]) == (twr, str(mwr.quantize(SIX)), None)
    assert (total["inflows"], total["outflows"], total["net_external_flows"]) == (
        "5400.00",
        "-16750.00",
        "-11350.00",
    )
    assert p["period"]["accounts"][str(account.id)] == total
    assert p["windows"]["since_inception"] == total

    # Over the single day of the sale and withdrawal: 11,100 / 11,400 - 1, not 1,100 / (11,400 - 10,000) - 1.
    day = _performance(api, agent, account, **{"from": "2018-04-03", "to": "2018-04-04"})["period"]["total"]
    assert day["twr"] == day["mwr"] == _ratio(Fraction(11_100, 11_400) - 1) == "-0.026316"
    # Over the day of the transfer in: the 5,400 is capital, not gain: (6,570 - 5,400) / 1,190 - 1.
    day = _performance(api, agent, account, **{"from": "2018-04-05", "to": "2018-04-06"})["period"]["total"]
    assert day["twr"] == day["mwr"] == _ratio(Fraction(1_170, 1_190) - 1) == "-0.016807"
    # The liquidation day counts: 6,750 / 6,630 - 1.
    day = _performance(api, agent, account, **{"from": "2018-04-10", "to": "2018-04-11"})["period"]["total"]
    assert day["twr"] == day["mwr"] == _ratio(Fraction(6_750, 6_630) - 1) == "0.018100"


def test_a_large_one_day_move_has_a_money_weighted_return(api: TestClient, factory: Factory) -> None:
    """Deposit 1,000 and buy 10 TSTJ at 100 on 9 April; it closes at 160 on 10 April: +60 % either way."""
    closes = {"2018-04-09": "100", "2018-04-10": "160", "2018-04-11": "40"}
    factory.security("TSTJ", sector="Test", region="Test", prices=closes)
    account, admin, agent = _new_client(factory, "Jump Book")
    _post(api, admin, account, {"trade_date": "2018-04-09", "type": "deposit", "amount": "1000"})
    _post(
        api,
        admin,
        account,
        {"trade_date": "2018-04-09", "type": "buy", "symbol": "TSTJ", "quantity": "10", "price": "100"},
    )
    up = _performance(api, agent, account, to="2018-04-10")["period"]["total"]
    assert (up["twr"], up["mwr"]) == ("0.600000", "0.600000")
    down = _performance(api, agent, account, **{"from": "2018-04-10", "to": "2018-04-11"})["period"]["total"]
    assert (down["twr"], down["mwr"]) == ("-0.750000", "-0.750000")


def test_risk_over_a_long_window_has_no_phantom_jump(api: TestClient, keys: Keys, db_url: str) -> None:
    """Alice over 2,520 trading days (the longest window; the issue's 40.2 % against 16.5 %): three of her
    securities have no prices before a day inside it. The reference takes each day's change in value of what
    was priced the day before, over that value."""
    window = 2520
    r = api.get("/clients/1/risk", params={"window": window}, headers=Keys.auth(keys.agent)).json()
    quantities: dict[str, Decimal] = {}
    for row in fetch(db_url, "SELECT symbol, quantity FROM positions WHERE firm_id = 1 AND client_id = 1"):
        quantities[row["symbol"]] = quantities.get(row["symbol"], D(0)) + row["quantity"]
    cash = fetchval(db_url, "SELECT sum(cash_balance) FROM accounts WHERE firm_id = 1 AND client_id = 1")
    closes: dict[str, dict[date, Decimal]] = {}
    for row in fetch(
        db_url,
        "SELECT symbol, price_date, close FROM prices WHERE symbol = ANY($1::text[]) AND price_date <= $2",
        sorted(quantities),
        date(2018, 4, 11),
    ):
        closes.setdefault(row["symbol"], {})[row["price_date"]] = row["close"]
    days = sorted({d for series in closes.values() for d in series})[-(window + 1) :]
    assert r["window"]["from"] == days[0].isoformat()
    late = [s for s in quantities if min(closes[s]) > days[0]]
    assert late, "the window should reach before some security's first price"
    assert r["window"]["priced_from"] == {s: min(closes[s]).isoformat() for s in sorted(late)}

    # closes carried forward: what was known on or before each day
    known: dict[str, Decimal] = {}
    for symbol, series in closes.items():
        earlier = [d for d in series if d < days[0]]
        if earlier:
            known[symbol] = series[max(earlier)]
    returns = []
    for day in days:
        before = dict(known)
        known.update({s: closes[s][day] for s in closes if day in closes[s]})
        if day == days[0]:
            continue
        start = D(cash) + sum((q * before[s] for s, q in quantities.items() if s in before), D(0))
        end = D(cash) + sum((q * known[s] for s, q in quantities.items() if s in before), D(0))
        returns.append(float(end / start - 1))
    volatility = statistics.stdev(returns) * math.sqrt(252)  # sample standard deviation
    assert abs(D(r["annualised_volatility"]) - D(repr(volatility))) <= D("0.000002")
    index = [1.0]
    for x in returns:
        index.append(index[-1] * (1 + x))
    drawdown = min(index[j] / index[i] - 1 for j in range(len(index)) for i in range(j + 1))
    assert abs(D(r["max_drawdown"]) - D(repr(drawdown))) <= D("0.000002")
    assert r["window"]["trading_days"] == window
