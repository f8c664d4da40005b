"""The folder watcher: a new extract is built and served, a half-written file waits, a broken
one leaves the last good database served and is logged as one JSON line."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from loaders.watch import Watcher, snapshot, watch
from tests.conftest import PROJECT, TINY, open_page, write_extracts

HISTORY = """
    opportunity_id,stage,changed_at
    O1,Prospecting,2026-04-01
    O1,Closed Won,2026-05-15
    O4,Negotiation/Review,2026-06-01
"""


def rows_loaded(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("select table_name, rows_loaded from load_report").fetchall())
    finally:
        con.close()


def settle(watcher: Watcher) -> dict | None:
    """Two looks at an unchanged folder: the first sees the change, the second finds it settled."""
    assert watcher.poll() is None
    return watcher.poll()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_extracts(tmp_path / "extracts", TINY)


def test_a_new_extract_in_the_watched_folder_is_built_and_swapped_in(folder: Path, tmp_path: Path):
    db = tmp_path / "pulse.duckdb"
    watcher = Watcher(folder, db)
    assert settle(watcher)["ok"]
    assert sum(rows_loaded(db).values()) == 20
    inode = db.stat().st_ino

    write_extracts(folder, {"opportunity_history.csv": HISTORY})
    line = settle(watcher)
    assert line["ok"] and line["tables"]["opportunity_history"]["rows_loaded"] == 3
    assert db.stat().st_ino != inode  # a new file swapped in, not the old one edited
    assert sum(rows_loaded(db).values()) == 23


def test_a_new_extract_in_the_watched_folder_is_built_and_the_app_shows_it(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    db = tmp_path / "pulse.duckdb"
    watcher = Watcher(folder, db)
    assert settle(watcher)["ok"]
    monkeypatch.setenv("PULSE_DB", str(db))
    at = open_page("data")
    assert not at.exception, at.exception
    assert next(m for m in at.metric if m.label == "Rows loaded").value == "20"

    write_extracts(folder, {"opportunity_history.csv": HISTORY})
    inode = db.stat().st_ino
    line = settle(watcher)
    assert line["ok"] and line["tables"]["opportunity_history"]["rows_loaded"] == 3
    assert db.stat().st_ino != inode  # a new file swapped in, not the old one edited

    at.run()  # the next page run, no restart and no cache clearing
    assert not at.exception, at.exception
    assert next(m for m in at.metric if m.label == "Rows loaded").value == "23"


def test_an_unchanged_folder_is_not_rebuilt(folder: Path, tmp_path: Path):
    db = tmp_path / "pulse.duckdb"
    watcher = Watcher(folder, db)
    assert settle(watcher)["ok"]
    assert watcher.poll() is None
    assert watcher.poll() is None
    # A new watcher on a database already built from these files does not rebuild either.
    again = Watcher(folder, db)
    assert settle(again) is None


def test_a_file_still_growing_is_not_built_until_it_stops(folder: Path, tmp_path: Path):
    db = tmp_path / "pulse.duckdb"
    watcher = Watcher(folder, db)
    assert settle(watcher)["ok"]

    partners = folder / "partners.csv"
    with partners.open("a", encoding="utf-8") as out:
        out.write("P4,Delta Dat")  # half a row: building now would quarantine or refuse it
    assert watcher.poll() is None
    with partners.open("a", encoding="utf-8") as out:
        out.write("a,reseller,silver,2026-06-01,NA,US,Sam Reed,active\n")
    assert watcher.poll() is None  # it grew since the last look
    line = watcher.poll()  # same size and mtime across two looks: settled
    assert line["ok"]
    assert line["tables"]["partners"] == {
        "status": "loaded",
        "source_file": "partners.csv",
        "rows_read": 4,
        "rows_loaded": 4,
        "rows_quarantined": 0,
        "quarantine_alarm": False,
    }


def test_hidden_and_lock_files_are_not_extracts(folder: Path):
    (folder / ".partners.csv.tmp").write_text("partial", encoding="utf-8")
    (folder / "~$payouts.xlsx").write_text("lock", encoding="utf-8")
    (folder / "notes.md").write_text("not an extract", encoding="utf-8")
    assert sorted(snapshot(folder)) == sorted(TINY)


def test_a_broken_extract_keeps_the_last_good_database_and_is_logged(folder: Path, tmp_path: Path):
    db = tmp_path / "pulse.duckdb"
    logged: list[dict] = []
    watcher = Watcher(folder, db, log=logged.append)
    assert settle(watcher)["ok"]
    good = db.read_bytes()

    write_extracts(
        folder, {"opportunities.csv": "opportunity_id,stage,created_at,close_date\nO9,Prospecting,2026-06-01,2026-09-01"}
    )
    line = settle(watcher)
    assert line is logged[-1]
    assert line["ok"] is False
    assert "opportunities.csv" in line["reason"] and "amount" in line["reason"]
    assert "still serving the last good database" in line["reason"]
    assert db.read_bytes() == good
    # The same broken files are not retried on every poll.
    assert watcher.poll() is None and watcher.poll() is None
    assert len(logged) == 2

    write_extracts(folder, {"opportunities.csv": TINY["opportunities.csv"]})
    assert settle(watcher)["ok"]
    assert rows_loaded(db)["opportunities"] == 5


def test_once_logs_one_json_line_and_fails_on_a_refused_build(folder: Path, tmp_path: Path):
    db = tmp_path / "pulse.duckdb"
    out = io.StringIO()
    assert watch(folder, db, interval=0.05, once=True, out=out) == 0
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert line["ok"] and line["tables"]["payouts"]["rows_loaded"] == 2
    assert {"time", "dir", "db", "files", "seconds"} <= set(line)

    out = io.StringIO()
    assert watch(folder, db, interval=0.05, once=True, out=out) == 0
    assert out.getvalue() == ""  # nothing changed since that build

    (folder / "partners.csv").write_text("partner_id\nP1\n", encoding="utf-8")
    out = io.StringIO()
    assert watch(folder, db, interval=0.05, once=True, out=out) == 1
    line = json.loads(out.getvalue())
    assert line["ok"] is False and "partners.csv" in line["reason"]
    assert rows_loaded(db)["partners"] == 3


def test_the_command_line_watcher_builds_and_stops_cleanly_on_sigterm(folder: Path, tmp_path: Path):
    db = tmp_path / "pulse.duckdb"
    process = subprocess.Popen(
        [sys.executable, "-m", "loaders", "watch", str(folder), "--db", str(db), "--interval", "0.1"],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    try:
        line = json.loads(process.stdout.readline())
        assert line["ok"] and line["db"] == str(db)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "watching" in process.stderr.read()
