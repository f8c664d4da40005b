"""Every output `python -m queries list` names runs on the demo program, and each stable export
(docs/design.md, "Command line and exports") has at least the columns the design promises.

`scripts/export_all.py` writes the same exports to a folder; run it before and after a change to
the runner or the SQL and `diff -r` the two folders to prove every export unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

import queries
from scripts.export_all import export_all
from tests.conftest import PROJECT


def stable_exports() -> dict[str, list[str]]:
    """The stable export names and their columns, as the design's table states them."""
    text = (PROJECT / "docs" / "design.md").read_text(encoding="utf-8")
    table = text.split("These export names and columns are stable", 1)[1]
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("name", "---"):
            if rows and not line.startswith("|"):
                break
            continue
        columns = re.sub(r"\([^)]*\)", "", cells[3])
        rows[cells[0]] = [column.strip() for column in columns.split(",") if column.strip()]
    return rows


@pytest.fixture(scope="module")
def snapshot(demo_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    export_all(demo_db_path, out)
    return out


def test_the_design_names_the_stable_exports_with_their_columns():
    stable = stable_exports()
    assert stable["load_report"] == ["table_name", "rows_read", "rows_loaded", "rows_quarantined"]
    assert stable["partner_signals"][0] == "partner_id" and "at_risk" in stable["partner_signals"]
    assert "change_kind" in stable["pipeline_changes"]


def test_every_listed_output_runs_on_the_demo_program(snapshot: Path):
    assert (snapshot / "errors.txt").read_text(encoding="utf-8") == ""
    exported = {path.name.split("__")[0] for path in snapshot.glob("*__default.csv")}
    assert exported == set(queries.outputs())


def test_outputs_that_take_a_filter_or_a_date_also_run_filtered_and_in_the_past(snapshot: Path):
    catalogue = queries.outputs()
    filtered = {name for name, output in catalogue.items() if output.takes("regions") or output.takes("managers")}
    past = {name for name, output in catalogue.items() if output.takes("as_of")}
    assert {path.name.split("__")[0] for path in snapshot.glob("*__filtered.csv")} == filtered
    assert {path.name.split("__")[0] for path in snapshot.glob("*__past.csv")} == past
    assert "partner_signals" in filtered & past


def test_every_stable_export_has_the_columns_the_design_promises(snapshot: Path):
    catalogue = queries.outputs()
    checked = 0
    for name, columns in stable_exports().items():
        if name not in catalogue:  # an export another change adds; checked once it is listed
            continue
        header = pl.read_csv(snapshot / f"{name}__default.csv", n_rows=0).columns
        missing = [column for column in columns if column not in header]
        assert not missing, f"{name} lacks {missing}"
        checked += 1
    assert checked >= 8
