"""A large CSV extract is loaded in pieces (loaders/stream.py), so a build's memory follows a
piece, not the file: the database is the one a build of the whole file gives.

The piece size is set to a few rows here, so tiny files come in many pieces."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

from loaders import stream
from loaders.build import BuildRefused, build_database
from loaders.stream import record_end
from tests.conftest import TINY, write_extracts
from tests.test_loaders_build import table_contents

# Lines (the header is line 1): A2 loads on line 3 and comes again on line 11, in a later piece;
# line 5 is blank; line 6's detail spans two lines (a quoted line end and comma); line 9 has one
# field too many; A7 has a bad date (line 10); P9 is no partner (line 12); line 13 has no id.
ACTIVITIES = textwrap.dedent(
    """\
    activity_id,partner_id,activity_type,occurred_at,detail
    A1,P1,training_completed,2026-06-01 10:00:00,first
    A2,P2,portal_login,2026-06-02 10:00:00,second
    A3,P2,deal_registered,2026-02-10 10:00:00,third

    A4,P3,co_marketing,2025-10-01 10:00:00,"met, then
    followed up"
    A5,P1,business_review,2026-05-01 10:00:00,fifth
    A6,P1,business_review,2026-05-02 10:00:00,sixth,extra
    A7,P2,content_download,not a date,seventh
    A2,P3,portal_login,2026-06-03 10:00:00,second again
    A8,P9,portal_login,2026-06-04 10:00:00,nobody
    ,P3,portal_login,2026-06-05 10:00:00,no id
    A9,P3,co_selling_call,2026-06-06 10:00:00,ninth
    """
)


def build_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: Path, piece_bytes: int) -> tuple[Path, Path]:
    whole, pieces = tmp_path / "whole.duckdb", tmp_path / "pieces.duckdb"
    build_database(folder, whole)
    monkeypatch.setattr(stream, "PIECE_BYTES", piece_bytes)
    build_database(folder, pieces)
    return whole, pieces


def test_an_extract_loaded_in_pieces_gives_the_database_of_the_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = write_extracts(tmp_path / "extracts", TINY)
    (folder / "partner_activities.csv").write_text(ACTIVITIES, encoding="utf-8")
    whole, pieces = build_both(tmp_path, monkeypatch, folder, piece_bytes=100)
    assert stream.in_pieces(folder / "partner_activities.csv")
    one, other = table_contents(whole), table_contents(pieces)
    assert one.keys() == other.keys()
    for name in one:
        assert one[name] == other[name], name
    con = duckdb.connect(str(pieces), read_only=True)
    reasons = con.sql("select line_number, reason from quarantine where table_name = 'partner_activities' order by 1").fetchall()
    detail = con.sql("select detail from partner_activities where activity_id = 'A4'").fetchall()
    counts = con.sql("select rows_read, rows_loaded, rows_quarantined from load_report where table_name = 'partner_activities'")
    assert counts.fetchall() == [(11, 7, 4)]
    con.close()
    assert [line for line, _ in reasons] == [9, 10, 11, 12]
    assert reasons[2] == (11, "duplicate activity_id 'A2' (first on line 3)")
    assert detail == [("met, then\nfollowed up",)]


def test_the_demo_program_built_in_pieces_is_the_database_built_whole(
    demo_db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    whole = table_contents(demo_db_path)
    pieces = tmp_path / "pieces.duckdb"
    monkeypatch.setattr(stream, "PIECE_BYTES", 256 * 1024)
    assert stream.in_pieces(demo_db_path.parent / "extracts" / "partner_activities.csv")
    build_database(demo_db_path.parent / "extracts", pieces)
    built = table_contents(pieces)
    assert whole.keys() == built.keys()
    for name in whole:
        # Sums of floats may differ in the last bit: DuckDB adds rows in the order it reads them,
        # and rows that sort equal (one partner, one moment) may be stored in another order.
        assert rounded(whole[name]) == rounded(built[name]), name


def rounded(rows: list[tuple]) -> list[tuple]:
    """A table's rows with floats to 12 significant digits, sorted again."""
    return sorted((tuple(float(f"{v:.12g}") if isinstance(v, float) else v for v in row) for row in rows), key=repr)


def test_a_piece_ends_at_a_line_end_outside_quoted_values():
    assert record_end(b"a,b\nc,d\ne") == len(b"a,b\nc,d\n")
    # The last line end is inside "x\ny": the piece ends before that record.
    assert record_end(b'a,b\nc,"x\ny') == len(b"a,b\n")
    # A quote written twice inside a quoted value does not end it.
    assert record_end(b'a,"say ""hi""\n",b\nc') == len(b'a,"say ""hi""\n",b\n')
    assert record_end(b'a,"no end\nyet') == 0


def test_a_refused_piece_is_refused_as_the_whole_file_is_and_the_served_database_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = write_extracts(tmp_path / "extracts", TINY)
    served = tmp_path / "pulse.duckdb"
    build_database(folder, served)
    before = served.read_bytes()
    # The last record opens a quote it never closes: the last piece cannot be read.
    (folder / "partner_activities.csv").write_text(ACTIVITIES + 'A10,P1,portal_login,2026-06-07 10:00:00,"never closed\n')
    with pytest.raises(BuildRefused) as whole:
        build_database(folder, served)
    monkeypatch.setattr(stream, "PIECE_BYTES", 100)
    assert stream.in_pieces(folder / "partner_activities.csv")
    with pytest.raises(BuildRefused) as pieces:
        build_database(folder, served)
    assert str(pieces.value) == str(whole.value)
    assert str(pieces.value).startswith("partner_activities.csv: not a readable CSV file")
    assert served.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pulse.duckdb.building-")]


def test_strict_refuses_a_table_in_pieces_counting_the_rows_of_every_piece(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = write_extracts(tmp_path / "extracts", TINY)
    served = tmp_path / "pulse.duckdb"
    build_database(folder, served)
    before = served.read_bytes()
    (folder / "partner_activities.csv").write_text(ACTIVITIES, encoding="utf-8")
    monkeypatch.setattr(stream, "PIECE_BYTES", 100)
    with pytest.raises(BuildRefused, match=r"^4 of 11 rows \(36\.4%\) of partner_activities\.csv were quarantined and --strict"):
        build_database(folder, served, strict=True)
    assert served.read_bytes() == before
    # Without --strict, the share passes quarantine_warn_share (5%): the table's alarm is on.
    report = build_database(folder, served)
    row = report.filter(pl.col("table_name") == "partner_activities").row(0, named=True)
    assert row["quarantine_alarm"] is True
    said = "4 of 11 rows (36.4%) of partner_activities.csv were quarantined, over quarantine_warn_share"
    assert row["warnings"].startswith(said)


# History rows whose stages the stage map lacks, in several pieces: "Legal Review" on lines 2
# and 6, "Security Audit" on line 4; O9 is no deal (line 5, quarantined).
HISTORY = textwrap.dedent(
    """\
    opportunity_id,stage,changed_at,amount
    O1,Legal Review,2026-04-20 10:00:00,1000
    O1,Closed Won,2026-05-15 10:00:00,1000
    O2,Security Audit,2026-04-02 10:00:00,3000
    O9,Legal Review,2026-04-03 10:00:00,500
    O3,Legal Review,2026-05-02 10:00:00,2000
    O3,Closed Lost,2026-06-01 10:00:00,2000
    """
)


def test_history_in_pieces_warns_once_about_stages_the_stage_map_lacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = write_extracts(tmp_path / "extracts", TINY)
    (folder / "opportunity_history.csv").write_text(HISTORY, encoding="utf-8")
    whole, pieces = build_both(tmp_path, monkeypatch, folder, piece_bytes=60)
    assert stream.in_pieces(folder / "opportunity_history.csv")
    assert table_contents(whole) == table_contents(pieces)
    con = duckdb.connect(str(pieces), read_only=True)
    warnings, snippet, counts = con.sql(
        "select warnings, settings_snippet, [rows_read, rows_loaded, rows_quarantined] from load_report "
        "where table_name = 'opportunity_history'"
    ).fetchall()[0]
    con.close()
    assert counts == [6, 5, 1]
    assert "stages not in the stage map, loaded because their deals loaded: Legal Review, Security Audit" in warnings
    assert warnings.count("stages not in the stage map") == 1
    assert snippet.count("[stage_map.") == 2


def test_a_large_file_that_is_not_utf8_is_read_whole_and_loads_as_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = write_extracts(tmp_path / "extracts", TINY)
    (folder / "partner_activities.csv").write_bytes(ACTIVITIES.encode() + b"A10,P1,portal_login,2026-06-07 10:00:00,caf\xe9\n")
    whole, pieces = build_both(tmp_path, monkeypatch, folder, piece_bytes=100)
    assert not stream.in_pieces(folder / "partner_activities.csv")
    assert table_contents(whole) == table_contents(pieces)
    con = duckdb.connect(str(pieces), read_only=True)
    assert con.sql("select detail from partner_activities where activity_id = 'A10'").fetchall() == [("café",)]
    assert con.sql("select encoding from load_report where table_name = 'partner_activities'").fetchall() == [("ISO-8859-1",)]
    con.close()
