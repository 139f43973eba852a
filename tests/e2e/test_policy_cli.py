"""`wealthgate policy export` / `import`: round trip, a new version on change, none without, errors named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.e2e.process import cli
from tests.support import fetchval

pytestmark = pytest.mark.e2e


def test_export_edit_import_round_trip(db_url: str, tmp_path: Path) -> None:
    exported = cli("policy", "export", "--firm", "1", DATABASE_URL=db_url)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("# wealthgate policy of firm 1: version 1, sha256:")
    doc = yaml.safe_load(exported.stdout)
    assert doc["single_position_cap"] == "0.2"
    assert doc["asset_class_bands"]["moderate"]["equity"] == {"target": "0.55", "band": "0.05"}

    same = tmp_path / "same.yaml"
    same.write_text(exported.stdout)
    unchanged = cli("policy", "import", str(same), "--firm", "1", DATABASE_URL=db_url)
    assert unchanged.returncode == 0, unchanged.stderr
    assert "unchanged: already version 1" in unchanged.stdout

    doc["single_position_cap"] = "0.15"
    doc["restricted_symbols"] = ["GE"]
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(doc))
    stored = cli("policy", "import", str(edited), "--firm", "1", "--note", "tighter cap", DATABASE_URL=db_url)
    assert stored.returncode == 0, stored.stderr
    assert "stored as version 2 of firm 1" in stored.stdout
    assert fetchval(db_url, "SELECT count(*) FROM policy_versions WHERE firm_id = 1") == 2
    assert (
        fetchval(
            db_url, "SELECT count(*) FROM audit_events WHERE action = 'policy.published' AND firm_id = 1"
        )
        == 2
    )
    old = cli("policy", "export", "--firm", "1", "--version", "1", DATABASE_URL=db_url)
    assert yaml.safe_load(old.stdout)["single_position_cap"] == "0.2"  # old versions stay


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"single_position_cap": "2"}, "policy.single_position_cap"),
        ({"max_product_risk": {"moderate": 9}}, "policy.max_product_risk"),
        ({"surprise": 1}, "policy.surprise"),
    ],
)
def test_a_bad_policy_names_the_setting_and_stores_nothing(
    db_url: str, tmp_path: Path, change: dict[str, object], field: str
) -> None:
    doc = yaml.safe_load(cli("policy", "export", "--firm", "1", DATABASE_URL=db_url).stdout)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**doc, **change}))
    result = cli("policy", "import", str(bad), "--firm", "1", DATABASE_URL=db_url)
    assert result.returncode == 1
    assert field.split(".")[1] in result.stderr
    assert "Traceback" not in result.stderr
    assert fetchval(db_url, "SELECT count(*) FROM policy_versions WHERE firm_id = 1") == 1
