"""Named SQL: statements are written with `:name` parameters and numbered into asyncpg's `$n` once, at import.

    LEDGER = Sql("SELECT ... WHERE firm_id = :firm_id AND client_id = :client_id AND trade_date <= :as_of")
    rows = await LEDGER.fetch(conn, firm_id=f, client_id=c, as_of=d)

`args` takes every name exactly once (a missing or unknown name is a `TypeError` at the call, not a wrong
binding at run time), so no caller counts `$3 ... $15` by hand. A name used twice in the text binds once.
Statements compose by name, never by position: `body.using(visible=VISIBLE_CLIENTS)` puts a named query in
front as a CTE and merges the parameters (the same name in both is the same value). Casts (`::bigint`) and
text inside quotes are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg

# a quoted literal or identifier (kept as is), a cast (kept), or a :name parameter
_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|::|:([A-Za-z_][A-Za-z0-9_]*)""")


def _number(source: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _TOKEN.sub(replace, source), tuple(names)


@dataclass(frozen=True, slots=True)
class Sql:
    """One statement with named parameters; `text` is what asyncpg prepares, `names` the order of its `$n`."""

    source: str
    text: str = field(init=False)
    names: tuple[str, ...] = field(init=False)
    ctes: tuple[tuple[str, Sql], ...] = ()

    def __post_init__(self) -> None:
        source = self.source
        if any(cte.ctes for _, cte in self.ctes):
            raise ValueError("a CTE given to using() cannot carry CTEs of its own: give all to one using()")
        if self.ctes:
            head = ",\n".join(f"{name} AS (\n{cte.source}\n)" for name, cte in self.ctes)
            source = f"WITH {head}\n{source}"
        text, names = _number(source)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "names", names)

    def using(self, **ctes: Sql) -> Sql:
        """This statement with named queries in front of it as CTEs (`WITH name AS (...)`)."""
        return Sql(self.source, ctes=(*self.ctes, *ctes.items()))

    def args(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> tuple[Any, ...]:
        """The bind values in `$n` order; every name must be given exactly once, and nothing else."""
        given = {**(values or {}), **more}
        missing = [n for n in self.names if n not in given]
        unknown = sorted(set(given) - set(self.names))
        if missing or unknown:
            raise TypeError(f"SQL parameters: missing {missing}, unknown {unknown}")
        return tuple(given[n] for n in self.names)

    async def fetch(self, conn: asyncpg.Connection, /, **values: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(self.text, *self.args(values))
        return rows

    async def fetchrow(self, conn: asyncpg.Connection, /, **values: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await conn.fetchrow(self.text, *self.args(values))
        return row

    async def fetchval(self, conn: asyncpg.Connection, /, **values: Any) -> Any:
        return await conn.fetchval(self.text, *self.args(values))

    async def execute(self, conn: asyncpg.Connection, /, **values: Any) -> str:
        status: str = await conn.execute(self.text, *self.args(values))
        return status
