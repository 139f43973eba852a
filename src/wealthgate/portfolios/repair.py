"""Whole shares and minimum trades can leave a class just outside its band, and a sale whose purchases could
not all be placed can leave cash further outside its band than it was: nudge the legs while it helps. Pure;
every move keeps the proposal's invariants (caps, cash per account, the reserve).

A move buys one more share of a class's best candidate, sells one more share of one of its holdings, or takes
back one share, half or all of a leg (a leg left under the minimum trade is dropped). The best single move by
`targets.score` is kept (first: no class further outside its band than before the proposal, which the firm's
check fails); when none helps, pairs of moves are tried a few times (a sale and a purchase together often land
where neither does alone).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from wealthgate.money import to_cents
from wealthgate.portfolios.analytics import CASH_CLASS
from wealthgate.portfolios.draft import ZERO, Draft, shares
from wealthgate.portfolios.mandate import Mandate
from wealthgate.portfolios.placement import CENT, place, sale_order, sell
from wealthgate.portfolios.targets import score

STEPS = 60
HALF, ALL = Decimal("0.5"), Decimal(1)
PAIR_ROUNDS = 4
Move = Callable[[Draft], bool]


def _chunk(m: Mandate, d: Draft, symbol: str, existing: Decimal) -> Decimal:
    """One share more for a leg that exists; for a new leg, enough whole shares to reach the minimum trade."""
    p = d.price(symbol)
    if existing > 0:
        return p
    return max(Decimal(1), shares(m.c.min_trade, p, m.c.fractional, up=True)) * p


def _buy_one(m: Mandate, symbol: str) -> Move:
    def move(d: Draft) -> bool:
        amount = _chunk(
            m, d, symbol, sum((q for (s, _, x), q in d.legs.items() if s == "buy" and x == symbol), ZERO)
        )
        rooms = m.rooms(d, symbol, {})
        if rooms and min(r for r, _ in rooms) < amount:
            return False
        return (
            place(
                m, d, symbol, amount + CENT / 10, f"raise {d.listing[symbol].asset_class} toward its target"
            )
            > 0
        )

    return move


def _sell_one(m: Mandate, account: int, symbol: str) -> Move:
    def move(d: Draft) -> bool:
        q = d.quantity(account, symbol)
        if q <= 0 or symbol in d.bought():
            return False
        amount = min(_chunk(m, d, symbol, d.leg("sell", account, symbol)), q * d.price(symbol))
        cls = d.listing[symbol].asset_class
        return sell(m, d, [(account, symbol, q)], amount, f"reduce {cls} toward its target", up=True) > 0

    return move


def _take_back(m: Mandate, side: str, account: int, symbol: str, part: Decimal | None = None) -> Move:
    """One share of the leg back, or a `part` of it (a half, all of it): whole moves undo what only the
    other classes could have absorbed."""

    def move(d: Draft) -> bool:
        q = d.leg(side, account, symbol)
        if q <= 0:
            return False
        own, total = d.cash[account], d.cash_total()
        step = (
            Decimal(1)
            if part is None
            else shares(q * part * d.price(symbol), d.price(symbol), m.c.fractional)
        )
        left = max(q - max(step, Decimal(1) if part is None else step), ZERO)
        if left == q:
            return False
        if left > 0 and to_cents(left * d.price(symbol)) < m.c.min_trade:
            left = ZERO
        d.trade(side, account, symbol, left - q, "")
        # taking back a sale takes back its cash: never below zero in the account, nor below the reserve
        return d.cash[account] >= min(own, ZERO) and d.cash_total() >= min(m.c.cash_reserve, total)

    return move


def _moves(m: Mandate, d: Draft) -> list[Move]:
    """Moves in every class either way: a class on its target may still need to give way to another."""
    moves: list[Move] = []
    for cls in sorted((set(m.model) | set(d.by("asset_class"))) - {CASH_CLASS}):
        moves += [_buy_one(m, s) for s in m.eligible(cls, d)[:2]]
        held = [h for h in sale_order(m, d, d.holdings(cls)) if h[1] not in d.bought()]
        moves += [_sell_one(m, a, s) for a, s, _ in held[:2]]
        legs = [(side, a, s) for (side, a, s) in d.legs if d.listing[s].asset_class == cls]
        for part in (None, HALF, ALL):
            moves += [_take_back(m, side, a, s, part) for side, a, s in legs]
    return moves


def _both(first: Move, second: Move, d: Draft) -> Draft | None:
    """Both moves, in whichever order works (a purchase may need the sale's cash)."""
    for one, two in ((first, second), (second, first)):
        tried = d.copy()
        if one(tried) and two(tried):
            return tried
    return None


def repair(m: Mandate, d: Draft, before: Mapping[str, Decimal]) -> Draft:
    best = score(m, d.by("asset_class"), before)
    pairs_left = PAIR_ROUNDS
    for _ in range(STEPS):
        if best[1] == 0:
            break
        moves = _moves(m, d)
        found: tuple[tuple[Decimal, int, Decimal, Decimal], Draft] | None = None
        for move in moves:
            tried = d.copy()
            if move(tried):
                s = score(m, tried.by("asset_class"), before)
                if s < best and (found is None or s < found[0]):
                    found = (s, tried)
        if found is None and pairs_left > 0:
            pairs_left -= 1
            for i, first in enumerate(moves):
                for second in moves[i + 1 :]:
                    both = _both(first, second, d)
                    if both is not None:
                        s = score(m, both.by("asset_class"), before)
                        if s < best and (found is None or s < found[0]):
                            found = (s, both)
        if found is None:
            break
        best, d = found
    return d
