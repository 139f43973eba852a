"""The rebalance proposal as a use case: what it is worked out from (`load`, one snapshot) and what it answers
(`report`: the trades, the allocation, drift and cash projected after them, and the firm's verdict)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast

import asyncpg

from wealthgate.money import plain, trimmed
from wealthgate.portfolios import service
from wealthgate.portfolios.draft import Candidate
from wealthgate.portfolios.rebalance import Constraints, propose, rebalance_model
from wealthgate.portfolios.report import drift_rows
from wealthgate.portfolios.schemas import (
    AccountCash,
    ConstraintsOut,
    ProjectedCash,
    ProposalCheck,
    ProposedTrade,
    RebalanceIn,
    RebalanceProposal,
    Unresolved,
)
from wealthgate.portfolios.service import Client, ClientBook
from wealthgate.suitability import policies
from wealthgate.suitability import policy as rules
from wealthgate.suitability import service as suitability
from wealthgate.suitability.engine import ENGINE_VERSION, Facts
from wealthgate.suitability.engine import Trade as Checked
from wealthgate.suitability.schemas import Outcome, RuleOut

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RebalanceCase:
    """What a rebalance proposal is worked out from, all read in one snapshot."""

    book: ClientBook
    version: policies.PolicyVersion
    policy: rules.Policy
    model: dict[str, tuple[Decimal, Decimal]]  # the bands aimed for: the policy's, else the model portfolio's
    universe: list[Candidate]
    facts: Facts  # the firm's check reads them, every candidate named


async def load(conn: asyncpg.Connection, client: Client) -> RebalanceCase:
    """The client's current book, the firm's policy (409 without one) and model, the priced securities, and
    the facts of the suitability check with every candidate named (so they carry its rating, complexity and
    liquidity)."""
    book = await service.load(conn, client, None)
    version = await policies.current(conn, client.visible.firm_id)
    policy = rules.parse(version.content)
    model = rebalance_model(policy, client.risk_profile, await service.model_for(conn, client))
    universe = await service.candidates(conn)
    named = [Checked("buy", c.symbol, quantity=Decimal(0)) for c in universe]
    facts = await suitability.load_facts(
        conn, await suitability.investor(conn, client.visible), named, policy
    )
    return RebalanceCase(book, version, policy, model, universe, facts)


def report(case: RebalanceCase, asked: RebalanceIn) -> RebalanceProposal:
    """The proposal for `asked`, with the allocation, drift and cash projected after its trades and the
    firm's verdict on them."""
    book = case.book
    constraints = Constraints(
        cash_reserve=asked.cash_reserve,
        min_trade=asked.min_trade,
        fractional=asked.fractional,
        excluded_symbols=book.client.excluded_symbols,
        excluded_sectors=book.client.excluded_sectors,
        liquidate=asked.liquidate,
    )
    p = propose(book.valuation, case.model, case.universe, constraints, facts=case.facts, policy=case.policy)
    v = book.valuation
    return RebalanceProposal(
        client_id=book.client.id,
        risk_profile=book.client.risk_profile,
        as_of=v.as_of.isoformat(),
        executes=False,
        trades=[
            ProposedTrade(
                side=t.side,
                symbol=t.symbol,
                asset_class=t.asset_class,
                quantity=trimmed(t.quantity),
                price=trimmed(t.price),
                estimated_value=plain(t.estimated_value),
                account_id=t.account_id,
                account_type=v.account_types.get(t.account_id),
                reason=t.reason,
            )
            for t in p.trades
        ],
        cash=ProjectedCash(
            before=plain(v.cash_total),
            after=plain(sum(p.cash_after.values(), ZERO)),
            accounts=[
                AccountCash(
                    id=a,
                    account_type=v.account_types.get(a),
                    before=plain(v.cash.get(a, ZERO)),
                    after=plain(p.cash_after[a]),
                )
                for a in sorted(p.cash_after)
            ],
        ),
        projected_allocation={k: plain(w) for k, w in sorted(p.projected.items())},
        projected_drift=drift_rows(p.projected_drift),
        in_band=p.in_band,
        unresolved=[Unresolved(asset_class=k, reason=why) for k, why in sorted(p.unresolved.items())],
        suitability=ProposalCheck(
            verdict=cast(Outcome, p.verdict.verdict),
            policy_version=case.version.content_hash,
            policy_version_number=case.version.version,
            engine_version=ENGINE_VERSION,
            as_of=p.verdict.as_of.isoformat(),
            rules=[RuleOut.model_validate(r) for r in p.verdict.to_json()["rules"]],
        ),
        constraints=ConstraintsOut(
            cash_reserve=plain(constraints.cash_reserve),
            min_trade=plain(constraints.min_trade),
            fractional=constraints.fractional,
            liquidate=constraints.liquidate,
            excluded_symbols=sorted(constraints.excluded_symbols),
            excluded_sectors=sorted(constraints.excluded_sectors),
        ),
        notes=list(p.notes),
    )
