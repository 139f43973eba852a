"""Every table's model, imported in one place so Alembic and the drift check see the whole schema."""

from __future__ import annotations

from wealthgate.audit.models import AuditChainHead, AuditChainMark, AuditCheckpoint, AuditEvent, AuditKey
from wealthgate.auth.models import ApiKey
from wealthgate.clients.models import Client
from wealthgate.clients.versions import ClientVersion, ContextEpoch, FirmContextEpoch
from wealthgate.db.base import Base
from wealthgate.firms.models import Advisor, Firm
from wealthgate.idempotency.models import IdempotencyKey
from wealthgate.ledger.models import Account, Lot, Position, Transaction
from wealthgate.market.models import DailyPrice, Security
from wealthgate.people.models import SignInFailure, User, UserSession
from wealthgate.portfolios.models import ModelPortfolio, ModelPortfolioWeight
from wealthgate.recommendations.models import Recommendation
from wealthgate.suitability.models import PolicyVersion, SuitabilityCheck
from wealthgate.throttling.models import TextQuotaUsage

metadata = Base.metadata

__all__ = [
    "Account",
    "Advisor",
    "ApiKey",
    "AuditChainHead",
    "AuditChainMark",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditKey",
    "Client",
    "ClientVersion",
    "ContextEpoch",
    "DailyPrice",
    "Firm",
    "FirmContextEpoch",
    "IdempotencyKey",
    "Lot",
    "ModelPortfolio",
    "ModelPortfolioWeight",
    "PolicyVersion",
    "Position",
    "Recommendation",
    "Security",
    "SignInFailure",
    "SuitabilityCheck",
    "TextQuotaUsage",
    "Transaction",
    "User",
    "UserSession",
    "metadata",
]
