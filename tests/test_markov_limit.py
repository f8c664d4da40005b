"""A chain too large for the exact Markov solve is left out, with the reason recorded, not approximated."""

from pathlib import Path

import duckdb
import pytest

import queries.attribution
from loaders.build import build_database
from tests.conftest import TINY, write_extracts


def test_a_chain_over_the_exact_solve_limit_builds_without_markov_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(queries.attribution, "EXACT_SOLVE_MAX_PARTNERS", 1)
    db = tmp_path / "pulse.duckdb"
    build_database(write_extracts(tmp_path / "x", TINY), db)
    con = duckdb.connect(str(db), read_only=True)
    models = {row[0] for row in con.sql("select distinct model from attribution_credit_default").fetchall()}
    note = con.sql("select value from load_meta where key = 'markov_note'").fetchall()
    assert "markov" not in models and "linear" in models
    assert note and "too large for the exact solve" in note[0][0]


def test_under_the_limit_markov_is_built(tmp_path: Path):
    db = tmp_path / "pulse.duckdb"
    build_database(write_extracts(tmp_path / "x", TINY), db)
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("select count(*) from attribution_credit_default where model = 'markov'").fetchall()[0][0] > 0
    assert not con.sql("select value from load_meta where key = 'markov_note'").fetchall()
