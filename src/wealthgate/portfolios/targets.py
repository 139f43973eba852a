"""How much each asset class should be worth after a rebalance, before any trade is sized. Pure arithmetic.

Each class may move only between what can be sold (its priced holdings) and what can be bought (what the caps
leave room for among the securities the client may buy); cash (account cash and money-market holdings) is what
the other classes leave. Two plans are drawn and the better kept (fewest classes pushed further outside their
band, then fewest outside, then least outside, then the first): trade only the classes outside their band, or
trade every class to its target. In both, cash is then brought into its band by moving the other classes,
first toward their targets, then within their bands, then by trading less (a sale that only cash could absorb
is not made, since the firm's check fails a proposal that moves cash further outside its band); and the cash
reserve is met even if that takes a class outside its band.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from wealthgate.portfolios.analytics import CASH_CLASS
from wealthgate.portfolios.draft import ZERO, Draft
from wealthgate.portfolios.mandate import Mandate


def score(
    m: Mandate, values: Mapping[str, Decimal], before: Mapping[str, Decimal]
) -> tuple[Decimal, int, Decimal, Decimal]:
    """(how far classes end beyond both their band and where they started, how many classes end outside their
    bands, how far outside, how far from target), in shares of the book: the engine fails the first and flags
    the second; a class is not pushed out of its band to bring another a little nearer."""
    total = m.total
    if total <= 0:
        return ZERO, 0, ZERO, ZERO
    worse = outside = distance = ZERO
    count = 0
    for cls in sorted(set(m.model) | set(values) | set(before)):
        target, band = m.band(cls)
        gap = abs(values.get(cls, ZERO) / total - target)
        was = abs(before.get(cls, ZERO) / total - target)
        worse += max(gap - max(band, was), ZERO)
        outside += max(gap - band, ZERO)
        count += gap > band
        distance += gap
    return worse, count, outside, distance


def _plan(m: Mandate, d: Draft, everything: bool) -> dict[str, Decimal]:
    total, reserve = m.total, m.c.cash_reserve
    now = d.by("asset_class")
    classes = sorted((set(m.model) | set(now)) - {CASH_CLASS})
    target = {c: m.band(c)[0] * total for c in [*classes, CASH_CLASS]}
    band = {c: m.band(c)[1] * total for c in [*classes, CASH_CLASS]}
    floor = {c: now.get(c, ZERO) - sum((q * d.price(s) for _, s, q in d.holdings(c)), ZERO) for c in classes}
    ceiling = {c: now.get(c, ZERO) + m.capacity(d, c) for c in classes}
    x: dict[str, Decimal] = {}
    for c in classes:
        moving = everything or abs(now.get(c, ZERO) - target[c]) > band[c]
        x[c] = min(max(target[c], floor[c]), ceiling[c]) if moving else now.get(c, ZERO)

    def cash() -> Decimal:
        return total - sum(x.values(), ZERO)

    def lower(amount: Decimal, stages: list[Callable[[str], Decimal]]) -> None:
        """Take `amount` out of the classes (selling, or buying less), most above target first."""
        for bound in stages:
            for c in sorted(classes, key=lambda c: (target[c] - x[c], c)):
                take = min(amount, max(x[c] - bound(c), ZERO))
                x[c] -= take
                amount -= take

    def lift(amount: Decimal, stages: list[Callable[[str], Decimal]]) -> None:
        """Put `amount` into the classes (buying, or selling less), most below target first."""
        for bound in stages:
            for c in sorted(classes, key=lambda c: (x[c] - target[c], c)):
                take = min(amount, max(bound(c) - x[c], ZERO))
                x[c] += take
                amount -= take

    def down_to_target(c: str) -> Decimal:
        return max(target[c], floor[c])

    def down_to_band(c: str) -> Decimal:
        return max(target[c] - band[c], floor[c])

    def down_to_nothing(c: str) -> Decimal:
        return floor[c]

    def up_to_target(c: str) -> Decimal:
        return min(target[c], ceiling[c])

    def up_to_band(c: str) -> Decimal:
        return min(target[c] + band[c], ceiling[c])

    def as_now(c: str) -> Decimal:  # sell less (lifting) or buy less (lowering), at most back to no trade
        return now.get(c, ZERO)

    if cash() < reserve:  # the reserve is the caller's hard limit: a class may leave its band for it
        lower(reserve - cash(), [down_to_target, down_to_band, as_now, down_to_nothing])
    t0, b0 = target[CASH_CLASS], band[CASH_CLASS]
    if cash() > t0 + b0:  # aim halfway into the band, so whole shares do not land on its edge
        lift(cash() - max(t0 + b0 / 2, reserve), [up_to_target, up_to_band, as_now])
    elif cash() < t0 - b0:
        lower(t0 - b0 / 2 - cash(), [down_to_target, down_to_band, as_now])
    return x


def class_targets(m: Mandate, d: Draft, before: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Value per non-cash asset class the trades should reach; `before` is the book before any trade."""
    best: tuple[tuple[Decimal, int, Decimal, Decimal], dict[str, Decimal]] | None = None
    for everything in (False, True):
        x = _plan(m, d, everything)
        values = {**x, CASH_CLASS: m.total - sum(x.values(), ZERO)}
        s = score(m, values, before)
        if best is None or s[:3] < best[0][:3]:
            best = (s, x)
    if best is None:  # cannot happen: the loop ran twice
        raise RuntimeError("best is missing although the loop ran twice")
    return best[1]
