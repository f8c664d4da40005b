"""A large CSV extract is loaded in pieces (loaders/stream.py), so a build's memory follows a
piece, not the file: the database is the one a build of the whole file gives.

The piece size is set to a few rows here, so tiny files come in many pieces."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

from loaders import stream
from loaders.build import build_database
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


def test_a_refused_piece_is_refused_with_its_line_in_the_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = write_extracts(tmp_path / "extracts", TINY)
    bad = ACTIVITIES.encode() + b"A10,P1,portal_login,2026-06-07 10:00:00,caf\xe9\n"
    (folder / "partner_activities.csv").write_bytes(bad)
    monkeypatch.setattr(stream, "PIECE_BYTES", 100)
    from loaders.build import BuildRefused

    with pytest.raises(BuildRefused, match=r"partner_activities\.csv: not UTF-8 text \(line 15,"):
        build_database(folder, tmp_path / "pulse.duckdb")
    assert not (tmp_path / "pulse.duckdb").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pulse.duckdb.building-")]
