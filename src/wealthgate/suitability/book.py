"""The client's book before and after the trades, and the case every current rule reads. Pure.

Trades are valued at the facts' prices (buys take cash, sells bring it; fees are not estimated), so the
total value does not change and every post-trade weight is arithmetic a reviewer can redo by hand. Market
values are rounded to the cent per holding, as reported values are. A leveraged or inverse fund's exposure
is its market value times the size of its daily multiple (a 3x fund worth 8% of the book moves like 24% of
it; a -1x fund is a short position as large as itself): the concentration rules weigh exposure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from functools import cached_property

from wealthgate.money import CENT, QUANTITY_PLACES, plain, rounded, to_cents, trimmed
from wealthgate.suitability.facts import Facts, RuleResult, Security, Trade
from wealthgate.suitability.policy import Policy

ZERO = Decimal(0)
SHARE = Decimal("0.0001")  # weights reported as 4-place decimal strings (0.2345 = 23.45%)


def pct(share: Decimal) -> str:
    """A share as a percentage with two decimals, never an exponent: 0.2345 -> "23.45%"."""
    return f"{plain(rounded(share * 100, CENT))}%"


def share_text(share: Decimal) -> str:
    """A share as the 4-place decimal string rules report as thresholds and values."""
    return plain(rounded(share, SHARE))


def money_text(value: Decimal) -> str:
    return plain(to_cents(value))


def times(leverage: Decimal) -> str:
    """A daily multiple as people write it: 3 -> "3x", -1 -> "-1x", 1.5 -> "1.5x"."""
    return f"{trimmed(leverage)}x"


def quantity_of(trade: Trade, security: Security) -> Decimal:
    """Shares traded: as given, or the amount at the price, rounded down to the share scale."""
    if trade.quantity is not None:
        return trade.quantity
    amount = trade.amount if trade.amount is not None else ZERO
    return (amount / security.price).quantize(QUANTITY_PLACES, rounding=ROUND_DOWN)


@dataclass(frozen=True, slots=True)
class Book:
    """Client-level market values per symbol, and cash."""

    values: Mapping[str, Decimal]
    cash: Decimal

    def total(self) -> Decimal:
        return sum(self.values.values(), ZERO) + self.cash

    def securities_value(self) -> Decimal:
        return sum(self.values.values(), ZERO)

    def share(self, value: Decimal, extra: Decimal = ZERO) -> Decimal:
        """`value` over the total (plus `extra`, e.g. held-away assets); 0 when there is nothing."""
        total = self.total() + extra
        return value / total if total > 0 else ZERO

    def by(self, securities: Mapping[str, Security], attribute: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for symbol, v in self.values.items():
            out[getattr(securities[symbol], attribute)] += v
        return dict(out)


@dataclass(frozen=True)
class Case:
    """One check: the facts, the policy, the trades, and the books they make. Rules read only this."""

    facts: Facts
    policy: Policy
    trades: tuple[Trade, ...]

    @cached_property
    def buys(self) -> tuple[Trade, ...]:
        return tuple(t for t in self.trades if t.side == "buy")

    @cached_property
    def quantities(self) -> tuple[Decimal, ...]:
        return tuple(quantity_of(t, self.facts.securities[t.symbol]) for t in self.trades)

    @cached_property
    def change(self) -> dict[str, Decimal]:
        """Net quantity change per traded symbol."""
        out: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for t, q in zip(self.trades, self.quantities, strict=True):
            out[t.symbol] += q if t.side == "buy" else -q
        return dict(out)

    def trade_value(self, index: int) -> Decimal:
        t = self.trades[index]
        return to_cents(self.quantities[index] * self.facts.securities[t.symbol].price)

    @cached_property
    def purchases(self) -> Decimal:
        """What the buys cost at the facts' prices (gross: sales in the same proposal do not offset it)."""
        return sum((self.trade_value(i) for i, t in enumerate(self.trades) if t.side == "buy"), ZERO)

    @cached_property
    def before(self) -> Book:
        secs = self.facts.securities
        values = {s: to_cents(q * secs[s].price) for s, q in self.facts.positions.items() if q != 0}
        return Book(values, self.facts.cash)

    @cached_property
    def after(self) -> Book:
        secs = self.facts.securities
        cash = self.facts.cash
        for i, t in enumerate(self.trades):
            cash += -self.trade_value(i) if t.side == "buy" else self.trade_value(i)
        held = self.facts.positions
        quantities = {s: held.get(s, ZERO) + self.change.get(s, ZERO) for s in set(held) | set(self.change)}
        return Book({s: to_cents(q * secs[s].price) for s, q in quantities.items() if q != 0}, cash)

    def exposure(self, book: Book, symbol: str) -> Decimal:
        return book.values[symbol] * abs(self.facts.securities[symbol].leverage)

    @cached_property
    def liquidation(self) -> bool:
        """The trades sell every holding outside cash equivalents, buy nothing, and there was one to sell:
        a client's request to sell everything (a money market fund may stay, it is cash)."""
        secs = self.facts.securities
        invested = [s for s, v in self.before.values.items() if secs[s].asset_class != "cash_equivalent"]
        left = [s for s in self.after.values if secs[s].asset_class != "cash_equivalent"]
        return bool(invested) and not left and not self.buys


def result(
    rule: str, failed: bool, threshold: object, value: object, ok: str, bad: str, worse: str = "fail"
) -> RuleResult:
    return RuleResult(rule, worse if failed else "pass", threshold, value, bad if failed else ok)


def names(symbols: Iterable[str]) -> str:
    return ", ".join(sorted(symbols))
