"""A database built by another version of Partner Pulse is not shown half-working: the app says
so and rebuilds it from the same extracts in one click, and `python -m loaders upgrade` does the
same from the command line (`make run` calls it)."""

from __future__ import annotations

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from loaders import build
from loaders.__main__ import main
from tests.conftest import APP


def mark_as_built_by_format(db, value: str) -> None:
    con = duckdb.connect(str(db))
    con.execute("update load_meta set value = $v where key = 'build_format'", {"v": value})
    con.close()


def test_a_fresh_build_has_the_schema_this_build_format_names(tiny_db, demo_db_path):
    for db in (tiny_db, demo_db_path):
        con = duckdb.connect(str(db), read_only=True)
        fingerprint = build.schema_fingerprint(con)
        assert dict(con.execute("select key, value from load_meta").fetchall())["build_format"] == str(build.BUILD_FORMAT)
        con.close()
        assert fingerprint == build.BUILD_SCHEMA_SHA, (
            "The database's tables or columns changed: set BUILD_FORMAT in loaders/build.py to "
            f"{build.BUILD_FORMAT + 1} and BUILD_SCHEMA_SHA to {fingerprint!r}, so databases built before "
            "are rebuilt instead of failing on a missing table."
        )


def test_the_app_refuses_an_older_database_and_rebuilds_it_from_the_same_extracts(tiny_db):
    mark_as_built_by_format(tiny_db, "1")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert any("built by an older version of Partner Pulse (build format 1" in e.value for e in at.error)
    rebuild = [b for b in at.button if b.label.startswith("Rebuild from the same extracts")]
    assert rebuild, "the admin is offered the rebuild"
    rebuild[0].click().run()
    assert not at.exception
    con = duckdb.connect(str(tiny_db), read_only=True)
    assert build.outdated(dict(con.execute("select key, value from load_meta").fetchall())) is None
    assert con.execute("select count(*) from partners").fetchall() == [(3,)]
    con.close()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.error, "after the rebuild the pages show again"


def test_upgrade_rebuilds_an_older_database_and_leaves_a_current_one_alone(tiny_db, capsys: pytest.CaptureFixture):
    before = tiny_db.stat().st_mtime_ns
    assert main(["upgrade", "--db", str(tiny_db)]) == 0
    assert tiny_db.stat().st_mtime_ns == before
    assert "is current" in capsys.readouterr().out
    mark_as_built_by_format(tiny_db, "1")
    assert main(["upgrade", "--db", str(tiny_db)]) == 0
    assert "rebuilt" in capsys.readouterr().out
    con = duckdb.connect(str(tiny_db), read_only=True)
    assert dict(con.execute("select key, value from load_meta").fetchall())["build_format"] == str(build.BUILD_FORMAT)
    con.close()


def test_upgrade_says_so_when_the_extracts_are_gone_and_leaves_the_file(tiny_db, capsys: pytest.CaptureFixture):
    import shutil

    mark_as_built_by_format(tiny_db, "1")
    shutil.rmtree(tiny_db.parent / "tiny")
    before = tiny_db.read_bytes()
    assert main(["upgrade", "--db", str(tiny_db)]) == 1
    assert "are gone" in capsys.readouterr().err
    assert tiny_db.read_bytes() == before
