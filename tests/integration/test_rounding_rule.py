"""One rounding rule in both languages: the SQL fragment every statement rounds with (clients/sql.py) and the
Python rounders (money.py) give the same figure for every value, exact ties above all."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import with_conn
from wealthgate import money
from wealthgate.clients import sql

PLACES = [
    (money.CENT, money.to_cents),
    (money.MONEY_PLACES, money.to_money),
    (money.WEIGHT_PLACES, money.to_weight),
]


def ties(places: int) -> st.SearchStrategy[Decimal]:
    return st.builds(
        lambda sign, k: Decimal((sign, tuple(int(c) for c in str(10 * k + 5)), -(places + 1))),
        st.integers(0, 1),
        st.integers(0, 10**14),
    )


values = st.lists(
    st.one_of(ties(2), ties(4), ties(6), st.decimals(min_value=-(10**12), max_value=10**12, places=9)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values)
def test_sql_and_python_round_alike(empty_db_url: str, numbers: list[Decimal]) -> None:
    columns = ", ".join(f"{sql.rounded('v', places)}::text" for places, _ in PLACES)
    statement = f"SELECT v::text, {columns} FROM unnest($1::numeric[]) WITH ORDINALITY AS x(v, i) ORDER BY i"  # noqa: S608  (columns: the product's constant rounding fragments)

    async def work(conn: asyncpg.Connection) -> list[asyncpg.Record]:
        return await conn.fetch(statement, numbers)

    rows = with_conn(empty_db_url, work)
    for n, row in zip(numbers, rows, strict=True):
        assert Decimal(row[0]) == n
        python = [money.plain(rounder(n)) for _, rounder in PLACES]
        assert list(row[1:]) == python, n


def test_the_issues_tie_in_sql(empty_db_url: str) -> None:
    cents = sql.rounded("10.125", money.CENT)
    weight = sql.rounded("1 / 128.0", money.WEIGHT_PLACES)
    statement = f"SELECT {cents}::text, {weight}::text"
    row = with_conn(empty_db_url, lambda conn: conn.fetchrow(statement))
    assert tuple(row) == ("10.13", "0.007813")
