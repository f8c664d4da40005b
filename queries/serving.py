"""The served database for pages: one read-only handle per file version, cached results.

This module owns the Streamlit caches. A build swaps the database file in with
`os.replace`; the file's inode and mtime are part of every cache key, so the next page run
after a swap opens the new file and recomputes, while a run already under way finishes on
the old one (an open DuckDB file keeps its inode).
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import streamlit as st

import queries


@st.cache_resource(max_entries=2, show_spinner=False)
def _open(version: tuple[str, int, int, int]) -> duckdb.DuckDBPyConnection:
    return queries.connect(version[0])


def get_db() -> duckdb.DuckDBPyConnection:
    """A fresh cursor on the served database (one per call: a shared one serialises threads)."""
    return _open(queries.database_version()).cursor()


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _run(version: tuple[str, int, int, int], name: str, params: tuple[tuple[str, Any], ...]) -> pl.DataFrame:
    unfrozen = {key: list(value) if isinstance(value, tuple) else value for key, value in params}
    return queries.execute(_open(version).cursor(), name, **unfrozen)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def run(name: str, **params: Any) -> pl.DataFrame:
    version = queries.database_version()
    frozen = tuple(sorted((key, _hashable(value)) for key, value in params.items()))
    return _run(version, name, frozen)


def clear() -> None:
    _run.clear()
    _open.clear()
