"""Declarative base with a naming convention, so Alembic names every constraint predictably."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import MetaData, Numeric
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The column types for figures. Never Float.
Money = Numeric(20, 4, asdecimal=True)
Quantity = Numeric(24, 8, asdecimal=True)
Price = Numeric(20, 6, asdecimal=True)
Weight = Numeric(9, 6, asdecimal=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {Decimal: Money}


def in_list(column: str, values: tuple[str, ...], *, negated: bool = False) -> str:
    """SQL for a CHECK that keeps a text column to (or, `negated`, out of) a closed vocabulary."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} {'NOT IN' if negated else 'IN'} ({quoted})"
