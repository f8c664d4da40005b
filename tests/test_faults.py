"""Faults: a build killed halfway leaves the served database as it was and the next build
cleans up after it; a corrupt database file gives a page saying what to do, not a traceback."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import queries
from loaders.build import build_database
from tests.conftest import APP, PROJECT, TINY, write_extracts


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temp_files(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.startswith(f".{db.name}.building-"))


def test_a_build_killed_halfway_leaves_the_served_database_byte_identical_and_the_next_build_cleans_up(
    tmp_path: Path,
):
    from loaders.demo import write_demo

    db = tmp_path / "pulse.duckdb"
    build_database(write_extracts(tmp_path / "tiny", TINY), db)
    before = digest(db)
    write_demo(tmp_path / "demo", scale=0.3, seed=11)

    build = subprocess.Popen(
        [sys.executable, "-m", "loaders", "build", str(tmp_path / "demo"), "--db", str(db)],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not temp_files(db) and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.3)  # into the write: tables are going in
    assert build.poll() is None, "the build finished before it could be killed; use a bigger demo"
    assert temp_files(db), "the build was writing its new file beside the served one"
    os.kill(build.pid, signal.SIGKILL)
    assert build.wait() == -signal.SIGKILL

    assert digest(db) == before, "the served database is byte-identical"
    stale = temp_files(db)
    assert stale and all(name.startswith(f".{db.name}.building-{build.pid}") for name in stale)
    with queries.connect(db) as con:
        assert con.execute("select count(*) from partners").fetchall() == [(3,)]

    rebuilt = subprocess.run(
        [sys.executable, "-m", "loaders", "build", str(tmp_path / "tiny"), "--db", str(db)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert temp_files(db) == [], "the killed build's temp file (and its WAL) were removed"
    with queries.connect(db) as con:
        assert con.execute("select count(*) from partners").fetchall() == [(3,)]


def test_a_temp_file_of_a_build_still_running_elsewhere_is_left_alone(tmp_path: Path):
    db = tmp_path / "pulse.duckdb"
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        theirs = tmp_path / f".{db.name}.building-{running.pid}"
        theirs.write_bytes(b"someone else's build")
        build_database(write_extracts(tmp_path / "tiny", TINY), db)
        assert theirs.exists()
    finally:
        running.kill()
        running.wait()


def corrupt(db: Path, how: str) -> None:
    data = db.read_bytes()
    if how == "random bytes":
        db.write_bytes(os.urandom(len(data)))
    elif how == "truncated":
        db.write_bytes(data[: len(data) // 3])
    elif how == "empty":
        db.write_bytes(b"")
    elif how == "damaged blocks":
        db.write_bytes(data[:4096] + os.urandom(len(data) - 4096))


CORRUPTIONS = ["random bytes", "truncated", "empty", "damaged blocks"]


@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("good")
    db = folder / "good.duckdb"
    build_database(write_extracts(folder / "x", TINY), db)
    return db


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_corrupt_database_gives_an_error_page_that_says_to_rebuild(
    good_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
):
    db = tmp_path / "pulse.duckdb"
    db.write_bytes(good_db.read_bytes())
    corrupt(db, how)
    monkeypatch.setenv("PULSE_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception, at.exception[0].message if at.exception else ""
    errors = [error.value for error in at.error]
    assert len(errors) == 1, errors
    assert f"The database file {db} cannot be read" in errors[0]
    assert f"python -m loaders build DIR --db {db}" in errors[0]
    assert ".open" not in errors[0], "names the file the user knows, not the hidden link"
    assert not at.dataframe and not at.metric


@pytest.mark.parametrize("how", ["random bytes", "truncated"])
def test_a_signed_in_user_on_a_corrupt_database_is_told_an_admin_must_rebuild_it(
    good_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
):
    db = tmp_path / "pulse.duckdb"
    db.write_bytes(good_db.read_bytes())
    corrupt(db, how)
    monkeypatch.setenv("PULSE_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = {"is_logged_in": True, "email": "someone@example.com"}
    at.run()
    assert not at.exception
    assert [error.value for error in at.error] == [
        "The database cannot be read, so no data is shown. An admin has to rebuild it "
        "(`python -m loaders build DIR --db FILE`, or load the extracts again on the Data page in local mode)."
    ]
    assert not any("no role" in warning.value for warning in at.warning)
    assert not at.dataframe and not at.metric


def test_a_rebuild_over_a_corrupt_database_serves_again(good_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    db = tmp_path / "pulse.duckdb"
    db.write_bytes(b"garbage" * 1000)
    build_database(write_extracts(tmp_path / "x", TINY), db)
    monkeypatch.setenv("PULSE_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception and not at.error
