"""The command line round trip: `python -m queries list` and `export` give what the Data page
shows, as CSV, and a wrong parameter is refused with a message that says what is allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from loaders.build import build_database
from tests.conftest import PROJECT, TINY, write_extracts


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queries", *args], cwd=PROJECT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny program plus one bad partner row and one bad touchpoint."""
    folder = write_extracts(tmp_path_factory.mktemp("cli") / "extracts", TINY)
    with (folder / "partners.csv").open("a", encoding="utf-8") as f:
        f.write("P4,=cmd|' /C calc'!A0,referral,gold,not a date\n")
    with (folder / "touchpoints.csv").open("a", encoding="utf-8") as f:
        f.write("T5,O1,P9,referral,2026-04-02 10:00:00\n")
    path = folder.parent / "pulse.duckdb"
    build_database(folder, path)
    return path


def test_list_names_every_stable_output_with_its_params():
    listed = cli("list")
    assert listed.returncode == 0, listed.stderr
    assert (
        "load_report\n    How each extract loaded: rows read, loaded and quarantined, per table.\n    params: no parameters"
        in listed.stdout
    )
    assert "quarantine\n" in listed.stdout
    assert "params: table_name (varchar)" in listed.stdout


def test_export_load_report_gives_read_loaded_and_quarantined_per_table(db: Path):
    exported = cli("export", "load_report", "--db", str(db))
    assert exported.returncode == 0, exported.stderr
    report = pl.read_csv(exported.stdout.encode())
    assert report.select("table_name", "rows_read", "rows_loaded", "rows_quarantined").rows() == [
        ("partners", 4, 3, 1),
        ("opportunities", 5, 5, 0),
        ("partner_activities", 4, 4, 0),
        ("opportunity_history", 0, 0, 0),
        ("touchpoints", 5, 4, 1),
        ("deal_registrations", 2, 2, 0),
        ("payouts", 2, 2, 0),
    ]
    assert (report["rows_read"] == report["rows_loaded"] + report["rows_quarantined"]).all()


def test_export_quarantine_filtered_by_table_to_a_file(db: Path, tmp_path: Path):
    out = tmp_path / "q.csv"
    exported = cli("export", "quarantine", "--db", str(db), "--param", "table_name=touchpoints", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert f"wrote 1 rows to {out}" in exported.stderr
    assert pl.read_csv(out).select("table_name", "source_file", "line_number", "reason").rows() == [
        ("touchpoints", "touchpoints.csv", 6, "partner_id 'P9' is not in partners")
    ]
    everything = pl.read_csv(cli("export", "quarantine", "--db", str(db)).stdout.encode())
    assert everything["table_name"].to_list() == ["partners", "touchpoints"]
    # The rejected row is kept as read (a formula in it stays inert text inside the JSON).
    assert everything["row"][0].startswith('{"partner_id":"P4","partner_name":"=cmd')


def test_a_parameter_the_output_does_not_take_is_refused_clearly(db: Path):
    refused = cli("export", "quarantine", "--db", str(db), "--param", "table=partners")
    assert refused.returncode != 0
    assert "--param table: quarantine takes no such parameter (it takes: table_name)" in refused.stderr


def test_an_unknown_output_and_a_missing_database_are_refused_clearly(tmp_path: Path):
    unknown = cli("export", "no_such_output", "--db", str(tmp_path / "x.duckdb"))
    assert unknown.returncode == 2
    assert "no output named 'no_such_output'" in unknown.stderr
    missing = cli("export", "load_report", "--db", str(tmp_path / "x.duckdb"))
    assert missing.returncode == 1
    assert "no database yet" in missing.stderr


def test_a_database_an_older_version_built_is_refused_with_the_command_that_rebuilds_it(db: Path, tmp_path: Path):
    import shutil

    import duckdb

    from loaders.build import BUILD_FORMAT

    old = tmp_path / "old.duckdb"
    shutil.copy(db, old)
    with duckdb.connect(str(old)) as con:
        con.execute("update load_meta set value = $old where key = 'build_format'", {"old": str(BUILD_FORMAT - 2)})
    for args in (("export", "load_report"), ("export", "--out-dir", str(tmp_path / "out"), "load_report")):
        refused = cli(*args, "--db", str(old))
        assert refused.returncode == 2, refused.stderr
        assert f"built by an older version of Partner Pulse (build format {BUILD_FORMAT - 2}" in refused.stderr
        assert f"python -m loaders upgrade --db {old}" in refused.stderr
    assert cli("export", "load_report", "--db", str(db)).returncode == 0


def test_a_duckdb_file_partner_pulse_did_not_build_is_refused_as_such(tmp_path: Path):
    import duckdb

    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("create table partners as select 'P1' as partner_id")
    refused = cli("export", "load_report", "--db", str(other))
    assert refused.returncode == 2, refused.stderr
    assert "it has no load_meta table, so it was not built by `python -m loaders build`" in refused.stderr
    assert "older version" not in refused.stderr
