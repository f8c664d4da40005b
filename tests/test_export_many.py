"""`python -m queries export` with several outputs: one file per output in a folder, CSV or
Parquet, params to the outputs that take them; the single-output form is unchanged."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import queries
from queries.__main__ import main
from queries.export import safe_csv

# Every test here only reads the tiny program: one build serves them all (tests/conftest.py, tiny_db).
pytestmark = pytest.mark.reads_tiny_program

TABLES = [
    "partners",
    "opportunities",
    "partner_activities",
    "opportunity_history",
    "touchpoints",
    "deal_registrations",
    "payouts",
]


def expected(db: Path, name: str, **params) -> pl.DataFrame:
    return queries.execute(queries.connect(db), name, **params)


def test_a_list_of_outputs_is_written_one_file_each_with_their_rows(tiny_db: Path, tmp_path: Path, capsys):
    out = tmp_path / "exports"
    assert main(["export", "load_report", "quarantine", "stale_tables", "--db", str(tiny_db), "--out-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["load_report.csv", "quarantine.csv", "stale_tables.csv"]
    report = pl.read_csv(out / "load_report.csv")
    assert report["table_name"].to_list() == TABLES
    assert report["rows_loaded"].to_list() == [3, 5, 4, 0, 4, 2, 2]
    assert (out / "load_report.csv").read_bytes() == safe_csv(expected(tiny_db, "load_report"))
    assert pl.read_csv(out / "quarantine.csv").height == 0
    assert pl.read_csv(out / "stale_tables.csv").height == 7
    assert f"wrote 7 rows to {out / 'load_report.csv'}" in capsys.readouterr().err


def test_params_go_only_to_the_outputs_that_take_them(tiny_db: Path, tmp_path: Path):
    out = tmp_path / "exports"
    argv = ["export", "load_report", "stale_tables", "--db", str(tiny_db), "--out-dir", str(out)]
    assert main([*argv, "--param", "stale_after_days=100"]) == 0
    stale = pl.read_csv(out / "stale_tables.csv")
    # The param is the floor of every table's allowance; the tiny program's activities come every 111 days
    # (its only gap over its last 180 days), a rhythm above the floor.
    assert stale["days_allowed"].to_list() == [100, 111, 100, 100, 100, 100, 100]
    assert not stale["is_stale"].any()
    assert (out / "load_report.csv").read_bytes() == safe_csv(expected(tiny_db, "load_report"))


def test_a_param_that_no_chosen_output_takes_is_refused(tiny_db: Path, tmp_path: Path):
    with pytest.raises(SystemExit, match="none of the outputs exported takes it"):
        main(
            [
                "export",
                "load_report",
                "quarantine",
                "--db",
                str(tiny_db),
                "--out-dir",
                str(tmp_path),
                "--param",
                "as_of=2026-06-30",
            ]
        )


def test_parquet_files_keep_the_types(tiny_db: Path, tmp_path: Path):
    out = tmp_path / "exports"
    assert (
        main(["export", "stale_tables", "load_report", "--db", str(tiny_db), "--out-dir", str(out), "--format", "parquet"]) == 0
    )
    assert_frame_equal(pl.read_parquet(out / "stale_tables.parquet"), expected(tiny_db, "stale_tables"))
    assert_frame_equal(pl.read_parquet(out / "load_report.parquet"), expected(tiny_db, "load_report"))
    assert not list(out.glob(".*"))  # no half-written files left behind


def broken(con) -> pl.DataFrame:
    """An output that fails, to show one failure does not stop the others.

    Grain: none
    """
    raise RuntimeError("this output is broken")


def test_one_failing_output_does_not_stop_the_others(tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setitem(queries.PYTHON_OUTPUTS, "broken_output", "tests.test_export_many:broken")
    out = tmp_path / "exports"
    assert main(["export", "broken_output", "load_report", "--db", str(tiny_db), "--out-dir", str(out)]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["load_report.csv"]
    err = capsys.readouterr().err
    assert "export broken_output failed: this output is broken" in err
    assert "1 of 2 outputs failed: broken_output" in err


def test_all_writes_every_output_that_runs_and_names_the_others(tiny_db: Path, tmp_path: Path, capsys):
    out = tmp_path / "exports"
    code = main(["export", "--all", "--db", str(tiny_db), "--out-dir", str(out)])
    err = capsys.readouterr().err
    written = {p.stem for p in out.glob("*.csv")}
    failed = {name for name in queries.outputs() if f"export {name} failed" in err}
    skipped = {name for name in queries.outputs() if f"skipped {name}: it needs --param" in err}
    assert written | failed | skipped == set(queries.outputs())
    assert not written & failed and not written & skipped and not failed & skipped
    assert {"load_report", "quarantine", "stale_tables", "program_meta", "filter_options"} <= written
    # An output that needs a parameter is named, not run with it missing.
    assert "skipped partner_profile: it needs --param partner_id" in err
    assert code == (1 if failed else 0)


def test_the_single_output_form_is_unchanged(tiny_db: Path, tmp_path: Path, capfdbinary):
    target = tmp_path / "report.csv"
    assert main(["export", "load_report", "--db", str(tiny_db), "--out", str(target)]) == 0
    assert target.read_bytes() == safe_csv(expected(tiny_db, "load_report"))
    capfdbinary.readouterr()
    assert main(["export", "stale_tables", "--db", str(tiny_db), "--param", "stale_after_days=5"]) == 0
    assert capfdbinary.readouterr().out == safe_csv(expected(tiny_db, "stale_tables", stale_after_days=5))
    with pytest.raises(SystemExit, match="load_report takes no such parameter"):
        main(["export", "load_report", "--db", str(tiny_db), "--param", "as_of=2026-06-30"])


def test_several_outputs_need_a_folder(tiny_db: Path, tmp_path: Path):
    with pytest.raises(SystemExit):
        main(["export", "load_report", "quarantine", "--db", str(tiny_db), "--out", str(tmp_path / "x.csv")])
    with pytest.raises(SystemExit):
        main(["export", "load_report", "quarantine", "--db", str(tiny_db)])
