"""Named SQL (`db/sql.py`) and the visible-client capability: the two rules the rest of the code leans on."""

from __future__ import annotations

import dataclasses

import pytest

from wealthgate.clients.visibility import VISIBLE_CLIENTS, VisibleClient, scoped
from wealthgate.db.sql import Sql


def test_names_are_numbered_once_in_order_of_first_use() -> None:
    q = Sql("SELECT 1 WHERE a = :a AND b = :b AND c = :a")
    assert q.text == "SELECT 1 WHERE a = $1 AND b = $2 AND c = $1"
    assert q.args(b=2, a=1) == (1, 2)


def test_casts_and_quoted_text_are_not_parameters() -> None:
    q = Sql("""SELECT ':not', "x:y", :n::bigint, 'it''s :also_not' WHERE t = :t""")
    assert q.names == ("n", "t")
    assert q.text == """SELECT ':not', "x:y", $1::bigint, 'it''s :also_not' WHERE t = $2"""


def test_a_missing_or_unknown_name_is_refused_at_the_call() -> None:
    q = Sql("SELECT :a, :b")
    with pytest.raises(TypeError, match=r"missing \['b'\]"):
        q.args(a=1)
    with pytest.raises(TypeError, match=r"unknown \['c'\]"):
        q.args(a=1, b=2, c=3)


def test_scoping_composes_by_name_not_position() -> None:
    q = scoped("SELECT id FROM visible WHERE id = :client_id AND firm_id = :firm_id")
    assert ("visible", VISIBLE_CLIENTS) in q.ctes
    assert q.names == ("firm_id", "advisor_id", "client_id")  # the CTE's names first, shared names bind once
    assert q.text.startswith("WITH visible AS (")
    assert q.args(client_id=7, firm_id=1, advisor_id=None) == (1, None, 7)


def test_a_visible_client_cannot_be_made_outside_the_scoped_lookup() -> None:
    with pytest.raises(TypeError, match="scoped lookup"):
        VisibleClient(1, None, 1)
    with pytest.raises(TypeError, match="scoped lookup"):
        VisibleClient(1, None, 1, object())


def test_a_visible_client_cannot_be_copied_onto_another_id() -> None:
    """`dataclasses.replace` cannot carry the proof over: it is init-only, never stored."""
    from wealthgate.clients import visibility

    proven = VisibleClient(1, None, 5, visibility._PROOF)  # what `find` makes (the test stands in for it)
    assert proven.ids == {"firm_id": 1, "client_id": 5}
    with pytest.raises(TypeError, match="scoped lookup"):
        dataclasses.replace(proven, client_id=999)
