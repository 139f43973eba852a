"""What a rebalance must honour for one client: the model, the caller's constraints, the firm's policy and the
client's profile; which securities it may buy per asset class, best first; and how much more of each the caps
leave room for. Pure.

Buy candidates of a class are ranked: funds in a sector the policy exempts from concentration caps (broad,
diversified funds) first, then securities the client already holds, then the lowest product risk rating, then
the symbol. A purchase stops at the first limit it meets: the single-position and sector caps (for securities
outside the exempt sectors), the share of illiquid products, and the equity share the policy suits to the
client's time horizon and age; the remainder of the class goes to the next candidate, so a class is spread
over several securities rather than pushed past a cap in one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from wealthgate.money import plain
from wealthgate.portfolios.analytics import CASH_CLASS, Valuation
from wealthgate.portfolios.draft import ZERO, Candidate, Draft
from wealthgate.portfolios.eligibility import equity_limit, refusal
from wealthgate.suitability.engine import Facts
from wealthgate.suitability.policy import Policy


@dataclass(frozen=True, slots=True)
class Constraints:
    cash_reserve: Decimal = Decimal(0)
    min_trade: Decimal = Decimal(0)
    fractional: bool = False
    excluded_symbols: frozenset[str] = frozenset()
    excluded_sectors: frozenset[str] = frozenset()
    liquidate: bool = False  # the client asks to go to cash: sell every holding


def pct(share: Decimal) -> str:
    return f"{plain((share * 100).quantize(Decimal('0.01')))}%"


@dataclass
class Mandate:
    v: Valuation
    model: Mapping[str, tuple[Decimal, Decimal]]
    candidates: Sequence[Candidate]
    c: Constraints
    facts: Facts
    policy: Policy
    banned: dict[str, str] = field(default_factory=dict)  # symbol -> why the firm's check refused it
    limits: dict[str, list[str]] = field(default_factory=dict)  # asset class -> what held it back, in words
    refused: dict[str, str] = field(init=False)
    ranked: dict[str, list[str]] = field(init=False)
    universe: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        profile, securities = self.facts.profile, self.facts.securities
        held = {i.holding.symbol for i in self.v.holdings}
        self.refused, self.ranked, self.universe = {}, defaultdict(list), defaultdict(list)
        for cand in sorted(self.candidates, key=self._rank_key(held)):
            self.universe[cand.asset_class].append(cand.symbol)
            why = refusal(
                cand.symbol,
                securities,
                profile,
                self.policy,
                self.c.excluded_symbols,
                self.c.excluded_sectors,
            )
            if why is None:
                self.ranked[cand.asset_class].append(cand.symbol)
            else:
                self.refused[cand.symbol] = why
        self.equity_cap, self.equity_reason = equity_limit(profile, self.policy)
        # The caps weigh a holding against the book plus, where the policy says so, assets held away.
        away = profile.held_away_assets if self.policy.include_held_away_assets else ZERO
        self.cap_base = self.v.total_value + away
        # Weights the engine computes may differ from these exact ones by a cent per position: stay clear.
        self.margin = Decimal("0.01") * (len(self.v.holdings) + len(self.candidates) + 5)

    def _rank_key(self, held: set[str]) -> Callable[[Candidate], tuple[bool, bool, int, str]]:
        securities, exempt = self.facts.securities, self.policy.cap_exempt_sectors

        def key(cand: Candidate) -> tuple[bool, bool, int, str]:
            rating = securities[cand.symbol].risk_rating if cand.symbol in securities else 99
            return (cand.sector not in exempt, cand.symbol not in held, rating, cand.symbol)

        return key

    @property
    def total(self) -> Decimal:
        return self.v.total_value

    def band(self, asset_class: str) -> tuple[Decimal, Decimal]:
        return self.model.get(asset_class, (ZERO, ZERO))

    def limit(self, asset_class: str, text: str) -> None:
        found = self.limits.setdefault(asset_class, [])
        if text not in found:
            found.append(text)

    def illiquid(self, symbol: str) -> bool:
        sec = self.facts.securities.get(symbol)
        return sec is not None and sec.liquidity in self.policy.illiquid_liquidity

    def eligible(self, asset_class: str, d: Draft, skip: frozenset[str] = frozenset()) -> list[str]:
        """Buy candidates of the class, best first: allowed, not refused by the firm's check, not sold."""
        sold = d.sold()
        return [
            s
            for s in self.ranked.get(asset_class, [])
            if s not in self.banned and s not in sold and s not in skip and s in d.listing
        ]

    def rooms(self, d: Draft, symbol: str, added: Mapping[str, Decimal]) -> list[tuple[Decimal, str]]:
        """How much more of `symbol` each applicable limit allows (value, limit in words); `added` holds
        purchases planned but not yet in the draft, keyed by symbol, "sector:<name>", "illiquid", "equity"."""
        p, total, base, c = self.policy, self.total, self.cap_base, d.listing[symbol]
        by_symbol, by_sector, by_class = d.by("symbol"), d.by("sector"), d.by("asset_class")
        out = []
        if c.sector not in p.cap_exempt_sectors:
            held = by_symbol.get(symbol, ZERO) + added.get(symbol, ZERO)
            out.append(
                (
                    p.single_position_cap * base - held,
                    f"the {pct(p.single_position_cap)} single-position cap",
                )
            )
            in_sector = by_sector.get(c.sector, ZERO) + added.get(f"sector:{c.sector}", ZERO)
            out.append((p.sector_cap * base - in_sector, f"the {pct(p.sector_cap)} cap on {c.sector}"))
        if self.illiquid(symbol):
            illiquid = sum((v for s, v in by_symbol.items() if self.illiquid(s)), ZERO) + added.get(
                "illiquid", ZERO
            )
            out.append(
                (
                    p.illiquid_max_share * total - illiquid,
                    f"the {pct(p.illiquid_max_share)} limit on illiquid products",
                )
            )
        if c.asset_class == "equity" and self.equity_cap < 1:
            equity = by_class.get("equity", ZERO) + added.get("equity", ZERO)
            out.append(
                (
                    self.equity_cap * total - equity,
                    f"the {pct(self.equity_cap)} equity limit for {self.equity_reason}",
                )
            )
        return [(room - self.margin, why) for room, why in out]

    def split(
        self,
        d: Draft,
        asset_class: str,
        amount: Decimal,
        skip: frozenset[str] = frozenset(),
        note: bool = False,
    ) -> list[tuple[str, Decimal]]:
        """Spread `amount` of purchases over the class's candidates, best first, each up to its limits."""
        added: dict[str, Decimal] = defaultdict(Decimal)
        out = []
        for symbol in self.eligible(asset_class, d, skip):
            if amount <= 0:
                break
            rooms = self.rooms(d, symbol, added)
            room = min((r for r, _ in rooms), default=None)
            take = amount if room is None else min(amount, max(room, ZERO))
            if note and room is not None and room < amount:
                why = min(rooms)[1]
                self.limit(asset_class, f"{symbol} is held to {why}")
            if take > 0:
                c = d.listing[symbol]
                out.append((symbol, take))
                for key in (symbol, f"sector:{c.sector}", c.asset_class):
                    added[key] += take
                if self.illiquid(symbol):
                    added["illiquid"] += take
                amount -= take
        return out

    def capacity(self, d: Draft, asset_class: str, skip: frozenset[str] = frozenset()) -> Decimal:
        """How much of the class could be bought before every candidate meets a limit."""
        if asset_class == CASH_CLASS:
            return ZERO
        return sum((v for _, v in self.split(d, asset_class, self.total * 4 + 1, skip)), ZERO)
