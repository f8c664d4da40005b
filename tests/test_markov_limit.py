"""A chain too large for the exact Markov solve is left out, with the reason recorded, not approximated.

The limit is on the largest group of partners that all reach one another (queries/markov.py)."""

from pathlib import Path

import duckdb
import pytest

import queries.markov
from loaders.build import build_database
from tests.conftest import TINY, write_extracts

# TINY plus a last touch by P1 on O2: the path P1 > P2 > P1, so P1 and P2 reach one another.
LOOP = TINY | {"touchpoints.csv": TINY["touchpoints.csv"].rstrip() + "\n        T5,O2,P1,referral,2026-06-01 09:00:00\n"}


def test_a_chain_over_the_exact_solve_limit_builds_without_markov_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(queries.markov, "EXACT_SOLVE_MAX_PARTNERS", 1)
    db = tmp_path / "pulse.duckdb"
    build_database(write_extracts(tmp_path / "x", LOOP), db)
    con = duckdb.connect(str(db), read_only=True)
    models = {row[0] for row in con.sql("select distinct model from attribution_credit_default").fetchall()}
    note = con.sql("select value from load_meta where key = 'markov_note'").fetchall()
    assert "markov" not in models and "linear" in models
    assert note and "too large for the exact solve" in note[0][0]


def test_under_the_limit_markov_is_built(tmp_path: Path):
    db = tmp_path / "pulse.duckdb"
    build_database(write_extracts(tmp_path / "x", LOOP), db)
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("select count(*) from attribution_credit_default where model = 'markov'").fetchall()[0][0] > 0
    assert not con.sql("select value from load_meta where key = 'markov_note'").fetchall()
