"""SQL the tests check the engines against: readable definitions no code path of the app runs.

`attribution_touch_weights.sql` states the rule models' weights (the engine computes them in
numpy, queries/attribution/credit.py) and `attribution_markov_transitions.sql` the Markov chain's move
counts (queries/attribution/markov.py counts them from touch paths)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

import queries

ORACLES = Path(__file__).parent


def oracle(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pl.DataFrame:
    """Run an oracle's SQL with its `$params` bound (NULL for one left out), as the runner binds an output's."""
    sql = (ORACLES / f"{name}.sql").read_text(encoding="utf-8")
    return con.cursor().sql(sql, params={key: params.get(key) for key in queries.body_params(sql)}).pl()
