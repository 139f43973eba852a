"""The demo book: 2 firms, 3 advisors, 5 users, 50 clients with real trading histories. Pure, deterministic.

Client 1 is Alice Chen (moderate), whose taxable account is concentrated in AAPL: the situation the guide's
example agent flags ("excess concentration in one equity"). Positions, their open FIFO lots and cash are the
replay of the ledger.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import TypedDict

from wealthgate.demo.prices import PriceHistory
from wealthgate.demo.prices import load as load_prices
from wealthgate.demo.securities import SECURITIES, STOCKS
from wealthgate.ledger.lots import lot_values
from wealthgate.ledger.replay import Entry, Holding, replay
from wealthgate.money import to_cents
from wealthgate.vocabulary import RISK_LEVELS

FIRMS = ((1, "Harbor Point Wealth"), (2, "Summit Ridge Advisors"))
ADVISORS = (
    (1, 1, "Maya Patel", "maya.patel@harborpoint.example"),
    (1, 2, "James Okafor", "james.okafor@harborpoint.example"),
    (2, 3, "Elena Rossi", "elena.rossi@summitridge.example"),
)
# The people who sign in to the console (demo data only: a real firm's users are created with
# `wealthgate users create`): (firm, email, name, role, advisor). All share DEMO_PASSWORD.
DEMO_PASSWORD = "wealthgate-demo"  # noqa: S105  (demo data's published password, in the README)
DEMO_USERS = (
    (1, "admin@demo.wealthgate.test", "Harbor Point admin", "admin", None),
    (1, "compliance@demo.wealthgate.test", "Harbor Point compliance", "compliance", None),
    (1, "advisor1@demo.wealthgate.test", "Maya Patel", "advisor", 1),
    (1, "advisor2@demo.wealthgate.test", "James Okafor", "advisor", 2),
    (2, "compliance@firm2.wealthgate.test", "Summit Ridge compliance", "compliance", None),
)
NAMES = (
    "Alice Chen",
    "Robert Alvarez",
    "Priya Sharma",
    "Thomas Becker",
    "Grace Kim",
    "Daniel Murphy",
    "Sofia Rossi",
    "Michael Johnson",
    "Aisha Bello",
    "William Turner",
    "Hannah Schmidt",
    "Carlos Mendes",
    "Emily Walsh",
    "Kenji Watanabe",
    "Olivia Martin",
    "Samuel Green",
    "Fatima Khan",
    "Lucas Dubois",
    "Chloe Nguyen",
    "Benjamin Cohen",
    "Isabella Costa",
    "Ethan Brooks",
    "Mei Lin",
    "Noah Fischer",
    "Zara Ahmed",
    "Jack Thompson",
    "Lena Novak",
    "Oscar Lindqvist",
    "Ruby Patel",
    "Henry Walker",
    "Amara Okoye",
    "Leo Moreau",
    "Nora Jensen",
    "Diego Ramirez",
    "Ava Sullivan",
    "Felix Wagner",
    "Yara Haddad",
    "Owen Price",
    "Ingrid Larsen",
    "Mateo Silva",
    "Clara Hughes",
    "Arjun Mehta",
    "Sienna Clarke",
    "Victor Petrov",
    "Maya Goldberg",
    "Tomás Ortega",
    "Lily Evans",
    "Ravi Iyer",
    "Julia Weber",
    "Marcus Reid",
)
# Model portfolios: target weight and band per asset class, per risk level (same for both demo firms).
MODELS: dict[str, dict[str, tuple[str, str]]] = {
    "conservative": {
        "equity": ("0.20", "0.05"),
        "fixed_income": ("0.65", "0.05"),
        "cash_equivalent": ("0.15", "0.03"),
    },
    "moderately_conservative": {
        "equity": ("0.35", "0.05"),
        "fixed_income": ("0.55", "0.05"),
        "cash_equivalent": ("0.10", "0.03"),
    },
    "moderate": {
        "equity": ("0.55", "0.05"),
        "fixed_income": ("0.35", "0.05"),
        "cash_equivalent": ("0.05", "0.03"),
        "real_estate": ("0.05", "0.03"),
    },
    "moderately_aggressive": {
        "equity": ("0.70", "0.05"),
        "fixed_income": ("0.22", "0.05"),
        "cash_equivalent": ("0.03", "0.03"),
        "real_estate": ("0.05", "0.03"),
    },
    "aggressive": {
        "equity": ("0.85", "0.05"),
        "fixed_income": ("0.10", "0.05"),
        "cash_equivalent": ("0.02", "0.02"),
        "real_estate": ("0.03", "0.03"),
    },
}
CLASS_FUND = {"fixed_income": "WGAGG", "cash_equivalent": "WGMMF", "real_estate": "WGREIT"}
SECTOR_OF = {s.symbol: s.sector for s in SECURITIES}
HISTORY_START = date(2015, 1, 2)
ACCOUNT_LABELS = {
    "taxable": "Taxable",
    "ira": "IRA",
    "roth_ira": "Roth IRA",
    "joint": "Joint",
    "trust": "Trust",
}
EQUITY_FEE = Decimal("4.95")


class Profile(TypedDict):
    """The investment profile fields of a client, drawn consistently with its risk level."""

    date_of_birth: date
    investment_objective: str
    time_horizon: str
    investment_experience: str
    liquidity_needs: str
    annual_income: Decimal
    net_worth: Decimal
    liquid_net_worth: Decimal
    tax_status: str
    marginal_tax_rate: Decimal | None


@dataclass(frozen=True, slots=True)
class ClientRow:
    firm_id: int
    id: int
    advisor_id: int
    external_id: str
    name: str
    email: str
    date_of_birth: date
    risk_tolerance: str
    investment_objective: str
    time_horizon: str
    liquidity_needs: str
    annual_income: Decimal
    net_worth: Decimal
    liquid_net_worth: Decimal
    tax_status: str
    marginal_tax_rate: Decimal | None
    investment_experience: str
    excluded_symbols: list[str]
    excluded_sectors: list[str]


@dataclass(frozen=True, slots=True)
class AccountRow:
    firm_id: int
    id: int
    client_id: int
    external_id: str
    name: str
    account_type: str
    opened_on: date
    cash_balance: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class TransactionRow:
    firm_id: int
    id: int
    client_id: int
    account_id: int
    trade_date: date
    type: str
    symbol: str | None
    quantity: Decimal | None
    price: Decimal | None
    amount: Decimal
    fees: Decimal
    description: str
    external_id: str

    def entry(self) -> Entry:
        """What ledger replay needs of this row."""
        return Entry(
            self.account_id,
            self.type,
            self.symbol,
            self.quantity,
            self.price,
            self.amount,
            self.fees,
            self.id,
            trade_date=self.trade_date,
        )


@dataclass(frozen=True, slots=True)
class PositionRow:
    firm_id: int
    id: int
    client_id: int
    account_id: int
    symbol: str
    quantity: Decimal
    cost_basis: Decimal


@dataclass(frozen=True, slots=True)
class LotRow:
    """An open lot (its id comes from the table's identity)."""

    firm_id: int
    client_id: int
    account_id: int
    symbol: str
    opened_by_id: int
    acquired_on: date
    quantity: Decimal
    open_quantity: Decimal
    unit_cost: Decimal
    cost_basis: Decimal


def lot_rows(firm_id: int, client_id: int, account_id: int, symbol: str, holding: Holding) -> list[LotRow]:
    return [LotRow(firm_id, client_id, account_id, symbol, *v) for v in lot_values(holding)]


@dataclass(slots=True)
class DemoBook:
    clients: list[ClientRow] = field(default_factory=list)
    accounts: list[AccountRow] = field(default_factory=list)
    transactions: list[TransactionRow] = field(default_factory=list)
    positions: list[PositionRow] = field(default_factory=list)
    lots: list[LotRow] = field(default_factory=list)


@dataclass(slots=True)
class _Draft:
    """Transactions of one account, before ids are assigned."""

    firm_id: int
    client_id: int
    account_id: int
    rows: list[tuple[date, str, str | None, Decimal | None, Decimal | None, Decimal, Decimal, str]] = field(
        default_factory=list
    )
    cash: Decimal = Decimal(0)
    held: dict[str, Decimal] = field(default_factory=dict)

    def deposit(self, day: date, amount: Decimal, text: str = "Deposit") -> None:
        self.rows.append((day, "deposit", None, None, None, amount, Decimal(0), text))
        self.cash += amount

    def cash_flow(self, day: date, kind: str, amount: Decimal, text: str, symbol: str | None = None) -> None:
        self.rows.append((day, kind, symbol, None, None, amount, Decimal(0), text))
        self.cash += amount

    def buy(self, day: date, symbol: str, qty: Decimal, price: Decimal, fee: Decimal) -> None:
        if qty <= 0:
            return
        amount = -(to_cents(qty * price) + fee)
        if self.cash + amount < 0:
            return
        self.rows.append((day, "buy", symbol, qty, price, amount, fee, f"Buy {qty} {symbol}"))
        self.cash += amount
        self.held[symbol] = self.held.get(symbol, Decimal(0)) + qty

    def sell(self, day: date, symbol: str, qty: Decimal, price: Decimal, fee: Decimal) -> None:
        if qty <= 0 or qty > self.held.get(symbol, Decimal(0)):
            return
        amount = to_cents(qty * price) - fee
        self.rows.append((day, "sell", symbol, qty, price, amount, fee, f"Sell {qty} {symbol}"))
        self.cash += amount
        self.held[symbol] -= qty


def draw_profile(rng: random.Random, risk: str) -> Profile:
    level = RISK_LEVELS.index(risk)
    age = rng.randint(58, 82) if level == 0 else rng.randint(26, 72 - 6 * level)
    objective = (
        ("capital_preservation", "income"),
        ("income", "growth_and_income"),
        ("growth_and_income",),
        ("growth", "growth_and_income"),
        ("growth", "speculation"),
    )[level]
    horizon = (("short", "medium"), ("medium",), ("medium", "long"), ("long",), ("long",))[level]
    experience = (
        ("limited", "moderate"),
        ("limited", "moderate"),
        ("moderate",),
        ("moderate", "extensive"),
        ("extensive",),
    )[level]
    liquidity = (("high", "medium"), ("medium",), ("medium", "low"), ("low",), ("low",))[level]
    income = Decimal(rng.randrange(60_000, 600_000, 5_000))
    net_worth = Decimal(rng.randrange(250_000, 9_000_000, 10_000))
    liquid = to_cents(net_worth * Decimal(rng.randint(40, 80)) / 100)
    rate = Decimal("0.24") if income < 200_000 else Decimal("0.35") if income < 500_000 else Decimal("0.37")
    return {
        "date_of_birth": date(2018 - age, rng.randint(1, 12), rng.randint(1, 28)),
        "investment_objective": rng.choice(objective),
        "time_horizon": rng.choice(horizon),
        "investment_experience": rng.choice(experience),
        "liquidity_needs": rng.choice(liquidity),
        "annual_income": income,
        "net_worth": net_worth,
        "liquid_net_worth": liquid,
        "tax_status": "taxable",
        "marginal_tax_rate": rate,
    }


def _restrictions(rng: random.Random) -> tuple[list[str], list[str]]:
    roll = rng.random()
    if roll < 0.12:
        return [], ["Energy"]
    if roll < 0.20:
        return ["XOM", "RRC"], []
    if roll < 0.25:
        return ["META"], ["Consumer Discretionary"]
    return [], []


def _whole(amount: Decimal, price: Decimal) -> Decimal:
    return (amount / price).quantize(Decimal(1), rounding=ROUND_DOWN)


def _allocate(
    d: _Draft,
    rng: random.Random,
    prices: PriceHistory,
    day: date,
    risk: str,
    client: ClientRow,
    concentrate: str | None = None,
) -> None:
    budget = d.cash - Decimal(100)
    allowed = [
        s
        for s in STOCKS
        if s not in client.excluded_symbols
        and SECTOR_OF[s] not in client.excluded_sectors
        and prices.close(s, day) is not None
    ]
    for asset_class, (weight, _band) in MODELS[risk].items():
        amount = to_cents(budget * Decimal(weight))
        if asset_class == "equity":
            picks: list[tuple[str, Decimal]] = []
            if concentrate:
                picks.append((concentrate, to_cents(amount * Decimal("0.55"))))
                amount -= picks[0][1]
            if risk == "aggressive" and client.investment_experience == "extensive" and rng.random() < 0.5:
                picks.append(("WGLEV", to_cents(amount * Decimal("0.15"))))
                amount -= picks[-1][1]
            spy_share = to_cents(amount * Decimal(rng.choice(("0.3", "0.4", "0.5"))))
            picks.append(("SPY", spy_share))
            chosen = rng.sample(allowed, k=min(len(allowed), rng.randint(3, 7)))
            each = to_cents((amount - spy_share) / max(len(chosen), 1))
            picks.extend((s, each) for s in chosen)
            for symbol, value in picks:
                price = prices.close(symbol, day)
                if price is not None:
                    d.buy(day, symbol, _whole(value - EQUITY_FEE, price), price, EQUITY_FEE)
        else:
            symbol = CLASS_FUND[asset_class]
            if symbol == "WGREIT" and client.liquidity_needs == "high":
                continue
            price = prices.close(symbol, day)
            if price is not None:
                d.buy(day, symbol, _whole(amount, price), price, Decimal(0))


def _history(d: _Draft, rng: random.Random, prices: PriceHistory, days: tuple[date, ...], start: int) -> None:
    """Quarterly MMF interest and advisory fees, one yearly trim of the largest stock, a few flows."""
    last_quarter = None
    for i in range(start + 1, len(days)):
        day = days[i]
        quarter = (day.year, (day.month - 1) // 3)
        if quarter != last_quarter and last_quarter is not None:
            mmf = d.held.get("WGMMF", Decimal(0))
            if mmf > 0:
                d.cash_flow(
                    day, "interest", to_cents(mmf * Decimal("0.0025")), "Money market interest", "WGMMF"
                )
            fee = to_cents(Decimal(rng.randint(150, 900)))
            if d.cash >= fee:
                d.cash_flow(day, "fee", -fee, "Quarterly advisory fee")
            if day.month == 1:
                stocks = [s for s in d.held if s in STOCKS and d.held[s] > 1]
                if stocks:
                    symbol = max(stocks, key=lambda s: d.held[s] * (prices.close(s, day) or 0))
                    price = prices.close(symbol, day)
                    if price is not None:
                        d.sell(
                            day,
                            symbol,
                            (d.held[symbol] / 5).quantize(Decimal(1), ROUND_DOWN),
                            price,
                            EQUITY_FEE,
                        )
                        agg = prices.close("WGAGG", day)
                        if agg is not None:
                            d.buy(day, "WGAGG", _whole(d.cash / 2, agg), agg, Decimal(0))
            if rng.random() < 0.08:
                d.deposit(day, Decimal(rng.randrange(5_000, 50_000, 1_000)), "Additional contribution")
        last_quarter = quarter


def build(prices: PriceHistory | None = None) -> DemoBook:
    prices = prices or load_prices()
    days = tuple(d for d in prices.calendar if d >= HISTORY_START)
    rng = random.Random(1_989_1229)
    book = DemoBook()
    drafts: list[_Draft] = []
    advisor_slots = [1] * 20 + [2] * 16 + [3] * 14
    account_id = 0
    for index, name in enumerate(NAMES):
        client_id = index + 1
        advisor_id = advisor_slots[index]
        firm_id = 1 if advisor_id in (1, 2) else 2
        risk = "moderate" if client_id == 1 else RISK_LEVELS[(index * 3 + rng.randint(0, 1)) % 5]
        excluded_symbols, excluded_sectors = ([], []) if client_id == 1 else _restrictions(rng)
        profile = draw_profile(rng, risk)
        client = ClientRow(
            firm_id=firm_id,
            id=client_id,
            advisor_id=advisor_id,
            external_id=f"demo-client-{client_id}",
            name=name,
            email=name.lower().replace(" ", ".").replace("á", "a") + "@example.com",
            risk_tolerance=risk,
            excluded_symbols=excluded_symbols,
            excluded_sectors=excluded_sectors,
            **profile,
        )
        book.clients.append(client)
        kinds = ["taxable", *rng.sample(["ira", "roth_ira", "joint", "trust"], k=rng.choice((0, 1, 1, 2)))]
        if client_id == 1:
            kinds = ["taxable", "roth_ira"]
        for n, kind in enumerate(kinds):
            account_id += 1
            start = rng.randint(0, 250)
            opened = days[start]
            book.accounts.append(
                AccountRow(
                    firm_id=firm_id,
                    id=account_id,
                    client_id=client_id,
                    external_id=f"demo-account-{account_id}",
                    name=f"{name.split()[1]} {ACCOUNT_LABELS[kind]}",
                    account_type=kind,
                    opened_on=opened,
                )
            )
            d = _Draft(firm_id=firm_id, client_id=client_id, account_id=account_id)
            size = (
                Decimal(rng.randrange(60_000, 1_500_000, 1_000))
                if n == 0
                else Decimal(rng.randrange(20_000, 400_000, 1_000))
            )
            if client_id == 1:
                size = Decimal(750_000) if kind == "taxable" else Decimal(95_000)
            d.deposit(opened, size, "Initial funding")
            _allocate(d, rng, prices, opened, risk, client, concentrate="AAPL" if account_id == 1 else None)
            _history(d, rng, prices, days, start)
            drafts.append(d)
    _assign_ids(book, drafts)
    return book


def _assign_ids(book: DemoBook, drafts: list[_Draft]) -> None:
    """Number transactions in trade-date order, then replay them into positions, lots and cash."""
    ordered = sorted(
        ((row[0], d.account_id, seq, d, row) for d in drafts for seq, row in enumerate(d.rows)),
        key=lambda t: (t[0], t[1], t[2]),
    )
    for txn_id, (_day, _acct, _seq, d, row) in enumerate(ordered, start=1):
        day, kind, symbol, qty, price, amount, fees, text = row
        book.transactions.append(
            TransactionRow(
                firm_id=d.firm_id,
                id=txn_id,
                client_id=d.client_id,
                account_id=d.account_id,
                trade_date=day,
                type=kind,
                symbol=symbol,
                quantity=qty,
                price=price,
                amount=amount,
                fees=fees,
                description=text,
                external_id=f"demo-txn-{txn_id}",
            )
        )
    ledger = replay(t.entry() for t in book.transactions)
    owner = {a.id: a for a in book.accounts}
    book.accounts[:] = [
        AccountRow(
            a.firm_id,
            a.id,
            a.client_id,
            a.external_id,
            a.name,
            a.account_type,
            a.opened_on,
            ledger.cash.get(a.id, Decimal(0)),
        )
        for a in book.accounts
    ]
    for pos_id, ((acct, symbol), h) in enumerate(sorted(ledger.open_holdings().items()), start=1):
        a = owner[acct]
        book.positions.append(
            PositionRow(a.firm_id, pos_id, a.client_id, acct, symbol, h.quantity, h.cost_basis)
        )
        book.lots.extend(lot_rows(a.firm_id, a.client_id, acct, symbol, h))
