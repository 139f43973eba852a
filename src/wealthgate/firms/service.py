"""Onboarding without SQL: create a firm (ready to use) and its advisors, each audited.

A new firm gets the standard model portfolios and the default suitability policy built from them, so the
first agent call on it has a policy to be checked against. Creating a firm is an operator's act (the CLI):
an admin belongs to one firm and cannot make another. The demo book is built through these same functions.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from wealthgate.audit.record import record
from wealthgate.auth.service import forget_user_keys
from wealthgate.db.sql import Sql
from wealthgate.demo.book import MODELS
from wealthgate.errors import Conflict, Invalid, NotFound
from wealthgate.people import users
from wealthgate.suitability.policies import ensure_default

# An explicit id is for the demo book only (its ids are stable); everyone else takes the next one.
_INSERT_FIRM = Sql(
    "INSERT INTO firms (id, name) OVERRIDING SYSTEM VALUE"
    " VALUES (coalesce(:firm_id::bigint, nextval(pg_get_serial_sequence('firms', 'id'))), :name)"
    " ON CONFLICT (name) DO NOTHING RETURNING id, name, created_at"
)
_FIRM_EXISTS = Sql("SELECT 1 FROM firms WHERE id = :firm_id")
_INSERT_ADVISOR = Sql(
    "INSERT INTO advisors (firm_id, id, name, email) OVERRIDING SYSTEM VALUE"
    " VALUES (:firm_id, coalesce(:advisor_id::bigint, nextval(pg_get_serial_sequence('advisors', 'id'))),"
    " :name, :email)"
    " ON CONFLICT (firm_id, email) DO NOTHING RETURNING firm_id, id, name, email, created_at"
)
_MODEL = Sql(
    "INSERT INTO model_portfolios (firm_id, risk_level, name)"
    " VALUES (:firm_id, :risk_level, :name) RETURNING id"
)
_WEIGHT = Sql(
    "INSERT INTO model_portfolio_weights (firm_id, model_portfolio_id, asset_class, target_weight, band)"
    " VALUES (:firm_id, :model_id, :asset_class, :target_weight::numeric, :band::numeric)"
)
_ADVISORS = Sql(
    "SELECT firm_id, id, name, email, created_at FROM advisors WHERE firm_id = :firm_id ORDER BY id"
)


@dataclass(frozen=True, slots=True)
class Firm:
    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Advisor:
    firm_id: int
    id: int
    name: str
    email: str
    created_at: datetime


def _name(value: str, field: str) -> str:
    name = value.strip()
    if not name or len(name) > 200 or "\x00" in name:
        raise Invalid(f"a {field} name of 1 to 200 characters is needed", field="name")
    return name


async def create_firm(
    conn: asyncpg.Connection,
    *,
    name: str,
    actor_for_firm: Callable[[int], dict[str, Any]],
    firm_id: int | None = None,
) -> Firm:
    """A new firm with the standard model portfolios and its default policy (version 1), in the caller's
    transaction. 409 if the name is taken. `actor_for_firm` names the actor once the new id is known (the
    firm's audit chain starts with this event)."""
    row = await _INSERT_FIRM.fetchrow(conn, firm_id=firm_id, name=_name(name, "firm"))
    if row is None:
        raise Conflict(f"a firm named {name.strip()!r} already exists", field="name")
    firm = Firm(id=row["id"], name=row["name"], created_at=row["created_at"])
    actor = actor_for_firm(firm.id)
    await record(
        conn,
        firm_id=firm.id,
        actor=actor,
        action="firm.created",
        target_type="firm",
        target_id=firm.id,
        details={"name": firm.name},
    )
    await add_standard_models(conn, firm.id)
    await ensure_default(conn, firm.id, actor=actor)  # policy v1, bands from the models
    return firm


async def add_standard_models(conn: asyncpg.Connection, firm_id: int) -> None:
    """The standard model portfolio of each risk level (target weight and band per asset class)."""
    for risk, weights in MODELS.items():
        name = f"{risk.replace('_', ' ').capitalize()} model"
        model_id: int = await _MODEL.fetchval(conn, firm_id=firm_id, risk_level=risk, name=name)
        await conn.executemany(
            _WEIGHT.text,
            [
                _WEIGHT.args(firm_id=firm_id, model_id=model_id, asset_class=cls, target_weight=tw, band=band)
                for cls, (tw, band) in weights.items()
            ],
        )


async def create_advisor(
    conn: asyncpg.Connection,
    *,
    firm_id: int,
    name: str,
    email: str,
    actor: dict[str, Any],
    advisor_id: int | None = None,
) -> Advisor:
    """A new advisor of the firm (404 for an unknown firm, 409 if the firm already has this email)."""
    email = email.strip().lower()
    if "@" not in email[1:] or len(email) > 320 or "\x00" in email:
        raise Invalid("an email address is needed", field="email")
    if not await _FIRM_EXISTS.fetchval(conn, firm_id=firm_id):
        raise NotFound(f"firm {firm_id} does not exist", field="firm")
    row = await _INSERT_ADVISOR.fetchrow(
        conn, firm_id=firm_id, advisor_id=advisor_id, name=_name(name, "advisor"), email=email
    )
    if row is None:
        raise Conflict(f"firm {firm_id} already has an advisor with the email {email}", field="email")
    advisor = Advisor(**{k: row[k] for k in Advisor.__slots__})
    await record(
        conn,
        firm_id=firm_id,
        actor=actor,
        action="advisor.created",
        target_type="advisor",
        target_id=advisor.id,
        details={"name": advisor.name, "email": email},
    )
    return advisor


async def list_advisors(conn: asyncpg.Connection, firm_id: int) -> list[Advisor]:
    return [
        Advisor(**{k: r[k] for k in Advisor.__slots__}) for r in await _ADVISORS.fetch(conn, firm_id=firm_id)
    ]


def one_time_password() -> str:
    """A generated first password (20 characters, 120 bits), shown to whoever creates the user, once."""
    return secrets.token_urlsafe(15)


async def add_user(
    conn: asyncpg.Connection,
    *,
    firm_id: int,
    email: str,
    name: str,
    role: str,
    advisor_id: int | None,
    password: str | None,
    actor: dict[str, Any],
) -> tuple[users.User, str | None]:
    """A person of the firm (audited `user.created`); without `password` one is generated and returned, to
    be shown once: (user, generated password or None)."""
    generated = one_time_password() if password is None else None
    user = await users.create_user(
        conn,
        firm_id=firm_id,
        email=email,
        name=name,
        role=role,
        advisor_id=advisor_id,
        password=password if generated is None else generated,
        actor=actor,
    )
    return user, generated


async def disable_person(
    conn: asyncpg.Connection, *, firm_id: int, user_id: int, actor: dict[str, Any]
) -> users.User:
    """Disable the user (their sessions end, audited `user.disabled`) and tell every serving worker to drop
    their keys from its cache at commit: a disabled person's keys are refused at once."""
    user = await users.disable_user(conn, firm_id=firm_id, user_id=user_id, actor=actor)
    await forget_user_keys(conn, firm_id=firm_id, user_id=user_id)
    return user


async def user_by_email(conn: asyncpg.Connection, firm_id: int, email: str) -> users.User:
    """The firm's user with this email (404 when there is none in this firm)."""
    found = await users.by_email(conn, email)
    if found is None or found[0].firm_id != firm_id:
        raise NotFound(
            f"firm {firm_id} has no user with the email {users.normalized_email(email)}", field="user"
        )
    return found[0]
