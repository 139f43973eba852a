"""Rebalance proposals: the trades that bring every asset class back inside its band. Pure; it never executes.

Method: first trade only the classes outside their band to their target; if any class (cash included) is
still outside after that, trade every class to its target. Sells come from the holdings of an overweight
class, largest first; buys go to the client's largest unrestricted holding in the class, else to the first
candidate security of the class that the client's restrictions allow. Buys are scaled down to keep the cash
reserve; trades under the minimum size are dropped; quantities are whole shares unless fractional shares are
allowed. Account cash counts as the `cash_equivalent` class. The projection applies the trades at the same
prices (no fees or market impact).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal

from wealthgate.money import QUANTITY_PLACES, to_cents
from wealthgate.portfolios.analytics import CASH_CLASS, Drift, Holding, Valuation, allocation, drift, value


@dataclass(frozen=True, slots=True)
class Candidate:
    symbol: str
    name: str
    asset_class: str
    sector: str
    region: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class Constraints:
    cash_reserve: Decimal = Decimal(0)
    min_trade: Decimal = Decimal(0)
    fractional: bool = False
    excluded_symbols: frozenset[str] = frozenset()
    excluded_sectors: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Trade:
    side: str
    symbol: str
    asset_class: str
    quantity: Decimal
    price: Decimal
    estimated_value: Decimal
    account_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Proposal:
    trades: tuple[Trade, ...]
    projected: Mapping[str, Decimal]
    projected_drift: tuple[Drift, ...]
    in_band: bool
    notes: tuple[str, ...]


def _class_values(v: Valuation) -> dict[str, Decimal]:
    values: dict[str, Decimal] = defaultdict(Decimal)
    for item in v.holdings:
        if item.market_value is not None:
            values[item.holding.asset_class] += item.market_value
    values[CASH_CLASS] += v.cash_total
    return values


def _size(amount: Decimal, price: Decimal, fractional: bool) -> Decimal:
    raw = amount / price
    return (
        raw.quantize(QUANTITY_PLACES, rounding=ROUND_FLOOR)
        if fractional
        else raw.to_integral_value(ROUND_FLOOR)
    )


def _allowed(symbol: str, sector: str, c: Constraints) -> bool:
    return symbol not in c.excluded_symbols and sector not in c.excluded_sectors


def _sells(v: Valuation, asset_class: str, amount: Decimal, c: Constraints) -> list[Trade]:
    held = sorted(
        (
            i
            for i in v.holdings
            if i.holding.asset_class == asset_class and i.market_value and i.holding.price
        ),
        key=lambda i: (-(i.market_value or 0), i.holding.symbol),
    )
    trades, left = [], amount
    for item in held:
        if left <= 0:
            break
        h = item.holding
        if h.price is None:  # filtered above: only priced holdings are sold
            continue
        qty = min(
            h.quantity, _size(left, h.price, c.fractional) if left < (item.market_value or 0) else h.quantity
        )
        if qty > 0:
            worth = to_cents(qty * h.price)
            trades.append(
                Trade(
                    "sell",
                    h.symbol,
                    asset_class,
                    qty,
                    h.price,
                    worth,
                    h.account_id,
                    f"reduce {asset_class} toward its target",
                )
            )
            left -= worth
    return trades


def _violation(rows: Sequence[Drift]) -> tuple[Decimal, Decimal]:
    """How far outside its band the book is (then how far from target), the repair search's score."""
    outside = sum((max(abs(r.difference) - r.band, Decimal(0)) for r in rows), Decimal(0))
    return outside, sum((abs(r.difference) for r in rows), Decimal(0))


def _net(trades: Sequence[Trade]) -> list[Trade]:
    """One sell per holding (symbol and account) and one buy per symbol; a buy first cancels sells of the
    same symbol, so the list never both sells and buys one security."""
    meta: dict[str, Trade] = {}
    sells: dict[tuple[str, int | None], Decimal] = defaultdict(Decimal)
    buys: dict[str, Decimal] = defaultdict(Decimal)
    for t in trades:
        meta.setdefault(t.symbol, t)
        if t.side == "sell":
            sells[(t.symbol, t.account_id)] += t.quantity
        else:
            buys[t.symbol] += t.quantity
    for symbol in list(buys):
        for key in [k for k in sells if k[0] == symbol]:
            offset = min(buys[symbol], sells[key])
            buys[symbol] -= offset
            sells[key] -= offset
    out = []
    for (symbol, account), qty in sells.items():
        if qty > 0:
            t = meta[symbol]
            out.append(
                replace(
                    t,
                    side="sell",
                    quantity=qty,
                    estimated_value=to_cents(qty * t.price),
                    account_id=account,
                    reason=f"reduce {t.asset_class} toward its target",
                )
            )
    for symbol, qty in buys.items():
        if qty > 0:
            t = meta[symbol]
            out.append(
                replace(
                    t,
                    side="buy",
                    quantity=qty,
                    estimated_value=to_cents(qty * t.price),
                    account_id=None,
                    reason=f"raise {t.asset_class} toward its target",
                )
            )
    return out


def _repair(
    v: Valuation,
    model: Mapping[str, tuple[Decimal, Decimal]],
    trades: list[Trade],
    candidates: Sequence[Candidate],
    c: Constraints,
    steps: int = 40,
) -> list[Trade]:
    """Whole shares can leave a class just outside its band; try one-share moves while they help."""
    current = trades
    score = _violation(drift(allocation(project(v, current, candidates))["asset_class"], model))
    for _ in range(steps):
        if score[0] == 0:
            break
        after = project(v, current, candidates)
        moves: list[Trade] = []
        for asset_class in model:
            pick = _buy_target(after, asset_class, candidates, c)
            if pick is not None and after.cash_total - pick.price >= c.cash_reserve:
                moves.append(
                    Trade(
                        "buy",
                        pick.symbol,
                        asset_class,
                        Decimal(1),
                        pick.price,
                        to_cents(pick.price),
                        None,
                        f"raise {asset_class} toward its target",
                    )
                )
            moves += _sells(after, asset_class, Decimal("0.01"), replace(c, fractional=False))[:1]
        best = None
        for move in moves:
            tried = _net([*current, move])
            tried_score = _violation(drift(allocation(project(v, tried, candidates))["asset_class"], model))
            if tried_score < score and (best is None or tried_score < best[0]):
                best = (tried_score, tried)
        if best is None:
            break
        score, current = best
    return current


def _buy_target(
    v: Valuation, asset_class: str, candidates: Sequence[Candidate], c: Constraints
) -> Candidate | None:
    held = sorted(
        (
            i
            for i in v.holdings
            if i.holding.asset_class == asset_class
            and i.holding.price
            and _allowed(i.holding.symbol, i.holding.sector, c)
        ),
        key=lambda i: -(i.market_value or 0),
    )
    if held:
        h = held[0].holding
        if h.price is not None:  # filtered above
            return Candidate(h.symbol, h.name, h.asset_class, h.sector, h.region, h.price)
    return next(
        (x for x in candidates if x.asset_class == asset_class and _allowed(x.symbol, x.sector, c)), None
    )


def _plan(
    v: Valuation,
    model: Mapping[str, tuple[Decimal, Decimal]],
    classes: set[str],
    candidates: Sequence[Candidate],
    c: Constraints,
    notes: list[str],
) -> list[Trade]:
    total = v.total_value
    values = _class_values(v)
    sells: list[Trade] = []
    wanted: dict[str, Decimal] = {}
    for asset_class in sorted(classes):
        target = model.get(asset_class, (Decimal(0), Decimal(0)))[0] * total
        gap = target - values.get(asset_class, Decimal(0))
        if gap < 0:
            sells += _sells(v, asset_class, -gap, c)  # for cash: money-market holdings, never account cash
        elif gap > 0 and asset_class != CASH_CLASS:  # cash rises by itself as other classes are sold
            wanted[asset_class] = gap
    cash_after_sells = v.cash_total + sum((t.estimated_value for t in sells), Decimal(0))
    spendable = max(cash_after_sells - c.cash_reserve, Decimal(0))
    need = sum(wanted.values(), Decimal(0))
    scale = Decimal(1) if need <= spendable or need == 0 else spendable / need
    if scale < 1:
        notes.append("buys scaled down to keep the cash reserve")
    buys: list[Trade] = []
    for asset_class, gap in sorted(wanted.items()):
        pick = _buy_target(v, asset_class, candidates, c)
        if pick is None:
            notes.append(f"no security allowed by the client's restrictions to buy for {asset_class}")
            continue
        qty = _size(gap * scale, pick.price, c.fractional)
        if qty > 0:
            buys.append(
                Trade(
                    "buy",
                    pick.symbol,
                    asset_class,
                    qty,
                    pick.price,
                    to_cents(qty * pick.price),
                    None,
                    f"raise {asset_class} toward its target",
                )
            )
    kept = [t for t in sells + buys if t.estimated_value >= c.min_trade]
    if len(kept) < len(sells) + len(buys):
        notes.append("trades under the minimum size were dropped")
    return kept


def project(v: Valuation, trades: Sequence[Trade], candidates: Sequence[Candidate]) -> Valuation:
    """The book after the trades, at the same prices; cash moves by each trade's value."""
    holdings = list(v.holdings)
    positions: dict[tuple[int | None, str], Holding] = {
        (i.holding.account_id, i.holding.symbol): i.holding for i in holdings
    }
    by_symbol = {i.holding.symbol: i.holding for i in holdings}
    master = {x.symbol: x for x in candidates}
    cash = dict(v.cash)
    cash_account = max(cash, key=lambda a: cash[a]) if cash else 0
    for t in trades:
        sign = Decimal(1) if t.side == "buy" else Decimal(-1)
        cash[cash_account] = cash.get(cash_account, Decimal(0)) - sign * t.estimated_value
        account = (
            t.account_id
            if t.account_id is not None
            else (by_symbol[t.symbol].account_id if t.symbol in by_symbol else cash_account)
        )
        key = (account, t.symbol)
        if key in positions:
            positions[key] = replace(positions[key], quantity=positions[key].quantity + sign * t.quantity)
        else:
            x = master[t.symbol]
            positions[key] = Holding(
                account,
                v.account_types.get(account, "taxable"),
                x.symbol,
                x.name,
                x.asset_class,
                x.sector,
                x.region,
                t.quantity,
                Decimal(0),
                x.price,
                v.as_of,
            )
    return value([h for h in positions.values() if h.quantity], cash, v.account_types, v.as_of)


def propose(
    v: Valuation,
    model: Mapping[str, tuple[Decimal, Decimal]],
    candidates: Sequence[Candidate],
    c: Constraints,
) -> Proposal:
    notes: list[str] = []
    now = drift(allocation(v)["asset_class"], model)
    if v.total_value <= 0:
        return Proposal((), {}, tuple(now), False, ("nothing to rebalance: the book has no value",))
    if all(r.in_band for r in now):
        return Proposal(
            (), allocation(v)["asset_class"], tuple(now), True, ("every asset class is in its band",)
        )
    out_of_band = {r.asset_class for r in now if not r.in_band}
    trades = _plan(v, model, out_of_band, candidates, c, notes)
    after = project(v, trades, candidates)
    rows = drift(allocation(after)["asset_class"], model)
    if not all(r.in_band for r in rows):
        notes.append("trading only the classes out of band was not enough: every class traded to its target")
        everything = set(model) | set(_class_values(v))
        trades = _plan(v, model, everything, candidates, c, notes)
        after = project(v, trades, candidates)
        rows = drift(allocation(after)["asset_class"], model)
    if not all(r.in_band for r in rows) and not c.fractional:
        trades = _repair(v, model, trades, candidates, c)
        after = project(v, trades, candidates)
        rows = drift(allocation(after)["asset_class"], model)
    trades = [t for t in trades if t.estimated_value >= c.min_trade]
    after = project(v, trades, candidates)
    rows = drift(allocation(after)["asset_class"], model)
    in_band = all(r.in_band for r in rows)
    if not in_band:
        notes.append("no proposal within every band under these constraints")
    return Proposal(tuple(trades), allocation(after)["asset_class"], tuple(rows), in_band, tuple(notes))
