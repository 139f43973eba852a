"""Turning amounts per asset class into legs in accounts: sales, trims to the caps, money-market redemptions
and purchases placed where the cash is. Pure; acts on a `Draft`.

Sales: within a class, first what the client could no longer buy (excluded, rated above the client's limit,
complex, restricted), then holdings in tax-advantaged accounts (no tax on the gain), then holdings at a loss
(realising it offsets gains), then the largest, so a class is reduced in as few trades as it can be. Whole
shares are rounded down, so a sale never overshoots.

Purchases: income-producing classes (fixed income, real estate: coupons and distributions are taxed as
ordinary income) go first to tax-advantaged accounts (IRA, Roth IRA, 401(k)), and are placed before the other
classes so they get that room; tax-exempt income (municipal bonds) goes first to taxable accounts, where its
exemption is worth something; every other purchase goes to the account with the most cash. A purchase spends
the accounts' idle cash first, then redeems money-market holdings in them (cash equivalents, so the class
weights do not move); one larger than any account can pay is split over accounts. Across accounts, cash never
falls below the reserve; no account's cash goes below zero.
"""

from __future__ import annotations

from decimal import Decimal

from wealthgate.money import plain, to_cents
from wealthgate.portfolios.analytics import CASH_CLASS
from wealthgate.portfolios.draft import ZERO, Draft, shares
from wealthgate.portfolios.eligibility import INCOME_CLASSES, TAX_ADVANTAGED
from wealthgate.portfolios.mandate import Mandate, pct

CENT = Decimal("0.01")


def _gain_ratio(d: Draft, account: int, symbol: str) -> Decimal:
    worth = d.base.get((account, symbol), ZERO) * d.price(symbol)
    return (worth - d.cost.get((account, symbol), ZERO)) / worth if worth > 0 else ZERO


def sale_order(
    m: Mandate, d: Draft, holdings: list[tuple[int, str, Decimal]]
) -> list[tuple[int, str, Decimal]]:
    def key(h: tuple[int, str, Decimal]) -> tuple[bool, bool, bool, Decimal, str, int]:
        a, s, q = h
        return (
            s not in m.refused,
            d.account_types.get(a) not in TAX_ADVANTAGED,
            _gain_ratio(d, a, s) >= 0,
            -q * d.price(s),
            s,
            a,
        )

    return sorted(holdings, key=key)


def sell(
    m: Mandate,
    d: Draft,
    holdings: list[tuple[int, str, Decimal]],
    amount: Decimal,
    reason: str,
    *,
    up: bool = False,
) -> Decimal:
    """Sell about `amount` from `holdings` in order, never more (or, with `up`, to the next whole share);
    the value sold."""
    sold, bought = ZERO, d.bought()
    for a, s, q in holdings:
        left = amount - sold
        if left < CENT:
            break
        if s in bought:
            continue
        p, cls = d.price(s), d.listing[s].asset_class
        if s in m.policy.restricted_symbols:
            m.limit(cls, f"{s} is on the firm's restricted list, so it is not sold either")
            continue
        qty = q if left >= q * p else min(q, shares(left, p, m.c.fractional, up=up))
        if qty <= 0:
            m.limit(cls, f"whole shares of {s} at {p} are coarser than what is left to sell")
            continue
        if to_cents((d.leg("sell", a, s) + qty) * p) < m.c.min_trade:
            m.limit(cls, f"a sale of {s} would be under the minimum trade of {plain(m.c.min_trade)}")
            continue
        before = d.leg_value("sell", a, s)
        d.trade("sell", a, s, qty, reason)
        sold += d.leg_value("sell", a, s) - before
    return sold


def sell_class(m: Mandate, d: Draft, asset_class: str, amount: Decimal, *, up: bool = False) -> Decimal:
    holdings = sale_order(m, d, d.holdings(asset_class))
    return sell(m, d, holdings, amount, f"reduce {asset_class} toward its target", up=up)


def _absorbable(m: Mandate, d: Draft, asset_class: str) -> Decimal:
    """What the other classes (up to their band's top, as far as they can be bought) and cash (up to its
    band's top) could take in from a sale of `asset_class`."""
    total, values = m.total, d.by("asset_class")
    room = ZERO
    for cls in (set(m.model) | set(values)) - {asset_class}:
        target, band = m.band(cls)
        now = values.get(cls, ZERO)
        can = (
            (target + band) * total
            if cls == CASH_CLASS
            else min((target + band) * total, now + m.capacity(d, cls))
        )
        room += max(can - now, ZERO)
    return room


def trim(m: Mandate, d: Draft) -> None:
    """Sell positions and sectors above the policy's caps down to them, as far as the class stays in its
    band and the proceeds have somewhere to go: refilled by other candidates of the class, or, down to the
    band's lower edge, taken in by other classes and cash within their bands."""
    p, total, exempt = m.policy, m.total, m.policy.cap_exempt_sectors
    groups: list[tuple[str, set[str], Decimal]] = []
    for symbol, worth in sorted(d.by("symbol").items(), key=lambda kv: (-kv[1], kv[0])):
        if d.listing[symbol].sector not in exempt and worth > p.single_position_cap * m.cap_base:
            groups.append(
                (f"{symbol} to the {pct(p.single_position_cap)} single-position cap", {symbol}, worth)
            )
    for sector, worth in sorted(d.by("sector").items()):
        if sector not in exempt and worth > p.sector_cap * m.cap_base:
            members = {s for s, c in d.listing.items() if c.sector == sector}
            groups.append((f"{sector} to the {pct(p.sector_cap)} sector cap", members, worth))
    budget: dict[str, Decimal] = {}  # per class: what its trims may sell in all (refill + absorbable)
    for label, members, _ in groups:
        now = sum((v for s, v in d.by("symbol").items() if s in members), ZERO)
        cap = p.single_position_cap if len(members) == 1 else p.sector_cap
        excess = now - cap * m.cap_base + m.margin
        if excess <= 0:
            continue
        held = sale_order(m, d, [h for h in d.holdings() if h[1] in members])
        by_class: dict[str, Decimal] = {}
        for _, s, q in held:
            by_class[d.listing[s].asset_class] = by_class.get(d.listing[s].asset_class, ZERO) + q * d.price(s)
        for cls in sorted(by_class):
            if cls not in budget:
                target, band = m.band(cls)
                spare = max(d.by("asset_class").get(cls, ZERO) - (target - band) * total, ZERO)
                refill = m.capacity(d, cls, frozenset(members))
                budget[cls] = refill + min(spare, _absorbable(m, d, cls))
            allowed = min(excess, by_class[cls], budget[cls])
            if allowed < excess:
                m.limit(cls, f"trimming {label} fully would push {cls} or cash outside its band")
            rows = [(a, s, q) for a, s, q in held if d.listing[s].asset_class == cls]
            sold = sell(m, d, rows, allowed, f"trim {label}", up=allowed == excess)
            budget[cls] -= sold
            excess -= sold


def redeemable(m: Mandate, d: Draft, account: int) -> Decimal:
    """Money-market value the account could redeem in legs of at least the minimum trade."""
    total = ZERO
    for a, s, q in d.holdings(CASH_CLASS):
        if s in m.policy.restricted_symbols:
            continue
        if a == account and (d.leg("sell", a, s) > 0 or q * d.price(s) >= m.c.min_trade):
            total += q * d.price(s)
    return total


def redeem(m: Mandate, d: Draft, account: int | None, need: Decimal) -> bool:
    """Redeem money-market holdings (of one account, or any) for at least `need` of cash; all or nothing."""
    if need <= 0:
        return True
    plan: list[tuple[int, str, Decimal]] = []
    left = need
    rows = [
        h
        for h in d.holdings(CASH_CLASS)
        if (account is None or h[0] == account) and h[1] not in m.policy.restricted_symbols
    ]
    for a, s, q in sorted(rows, key=lambda h: (-h[2] * d.price(h[1]), h[0], h[1])):
        if left <= 0:
            break
        p, existing = d.price(s), d.leg("sell", a, s)
        qty = min(q, shares(left + CENT, p, m.c.fractional, up=True))
        if to_cents((existing + qty) * p) < m.c.min_trade:
            qty = min(q, shares(m.c.min_trade - to_cents(existing * p), p, m.c.fractional, up=True))
            if to_cents((existing + qty) * p) < m.c.min_trade:
                continue
        plan.append((a, s, qty))
        left -= to_cents((existing + qty) * p) - to_cents(existing * p)
    if left > 0:
        return False
    for a, s, qty in plan:
        d.trade("sell", a, s, qty, "redeem money-market holdings to pay for the purchases")
    return True


def top_up_reserve(m: Mandate, d: Draft) -> bool:
    """Raise account cash to the reserve: from money-market holdings, else by selling (at least the minimum
    trade) from the classes furthest above their targets, never below their bands; False when neither can."""
    short = m.c.cash_reserve - d.cash_total()
    if short <= 0 or redeem(m, d, None, short):
        return True
    values, total = d.by("asset_class"), m.total
    for cls in sorted(set(values) - {CASH_CLASS}, key=lambda c: (m.band(c)[0] - values[c] / total, c)):
        short = m.c.cash_reserve - d.cash_total()
        if short <= 0:
            break
        target, band = m.band(cls)
        spare = values[cls] - (target - band) * total
        if spare >= max(short, m.c.min_trade):
            sell_class(m, d, cls, min(spare, max(short + CENT, m.c.min_trade)), up=True)
    if d.cash_total() >= m.c.cash_reserve:
        return True
    m.limit(CASH_CLASS, f"account cash cannot reach the reserve of {plain(m.c.cash_reserve)}")
    return False


def _usable(m: Mandate, d: Draft, account: int) -> Decimal:
    return max(min(d.cash[account], d.cash_total() - m.c.cash_reserve), ZERO)


def account_tiers(m: Mandate, d: Draft, symbol: str) -> list[list[int]]:
    """Accounts to buy `symbol` in: the preferred ones first (see the module's docstring), each tier by the
    most cash (and money-market holdings) first."""
    c = d.listing[symbol]
    exempt_income = c.sector in m.policy.tax_exempt_income_sectors
    income = c.asset_class in INCOME_CLASSES and not exempt_income

    def preferred(a: int) -> bool:
        sheltered = d.account_types.get(a) in TAX_ADVANTAGED
        return sheltered if income else (not sheltered if exempt_income else True)

    ranked = sorted(d.cash, key=lambda a: (not preferred(a), -(_usable(m, d, a) + redeemable(m, d, a)), a))
    tiers = [[a for a in ranked if preferred(a)], [a for a in ranked if not preferred(a)]]
    return [t for t in tiers if t]


def place(m: Mandate, d: Draft, symbol: str, amount: Decimal, reason: str) -> Decimal:
    """Buy about `amount` of `symbol` (never more), in the accounts that can pay; the value bought. Within a
    tier of accounts, idle cash is spent before any money-market holding is redeemed."""
    p, cls = d.price(symbol), d.listing[symbol].asset_class
    placed = ZERO
    if symbol in d.sold():  # a proposal never both sells and buys one security
        return placed
    if d.cash_total() < m.c.cash_reserve:  # nothing is bought while the reserve is not met
        return placed
    for tier in account_tiers(m, d, symbol):
        for redeeming in (False, True):
            for a in tier:
                left = amount - placed
                if left < CENT:
                    break
                usable = _usable(m, d, a)
                qty = shares(
                    min(left, usable + (redeemable(m, d, a) if redeeming else ZERO)), p, m.c.fractional
                )
                if qty <= 0:
                    continue
                existing = d.leg("buy", a, symbol)
                cost = to_cents((existing + qty) * p) - to_cents(existing * p)
                if to_cents((existing + qty) * p) < m.c.min_trade:
                    m.limit(
                        cls,
                        f"a purchase of {symbol} would be under the minimum trade of {plain(m.c.min_trade)}",
                    )
                    continue
                if not redeem(m, d, a, cost - usable):
                    continue
                d.trade("buy", a, symbol, qty, reason)
                placed += cost
    if amount - placed >= max(p, m.c.min_trade, CENT):
        m.limit(cls, f"not enough cash above the reserve of {plain(m.c.cash_reserve)} to buy more {symbol}")
    return placed


def buy_class(m: Mandate, d: Draft, asset_class: str, amount: Decimal) -> Decimal:
    spent = ZERO
    for symbol, part in m.split(d, asset_class, amount, note=True):
        spent += place(m, d, symbol, part, f"raise {asset_class} toward its target")
    if amount > 0 and not m.eligible(asset_class, d):
        m.limit(asset_class, "no security of the class may be bought")
    return spent
