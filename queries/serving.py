"""The served database for pages: one version per page run, read-only handles, cached results.

This module owns the Streamlit caches (results are shared, not copied: see `_run`) and serves
every output as the signed-in viewer may see it (`access.bound` / `access.shown`: refused,
scoped to their partners, money dropped), so no page, table or download can get round it. A build swaps the database file in with
`os.replace`. The frame calls `begin_run()` first on every page run: it pins the version (inode,
mtime, size) of the file as it is then, and every `run` of that page run reads that version, so a
swap landing mid-run cannot give a page old data for one output and new for the next. The
version is part of every cache key, so the next page run after a swap recomputes on the new
file. Connections to the last few versions stay open (an open file outlives its swap).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import duckdb
import polars as pl
import streamlit as st

import access
import queries
import state
from queries import Version

# Versions kept open: the newest, and older ones page runs under way may still read.
KEEP_OPEN = 3


class VersionGone(LookupError):
    """The pinned version was closed (several swaps during one page run)."""


class OpenVersions:
    """The database versions this process has open, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: OrderedDict[Version, duckdb.DuckDBPyConnection] = OrderedDict()

    def current(self) -> Version:
        seen = queries.database_version()
        with self._lock:
            if seen in self._open:
                return seen
            con, opened = queries.connect_versioned(seen[0])
            if opened in self._open:  # swapped back to a file already open: keep the first handle
                con.close()
                return opened
            self._open[opened] = con
            while len(self._open) > KEEP_OPEN:
                self._open.popitem(last=False)[1].close()
            return opened

    def cursor(self, version: Version) -> duckdb.DuckDBPyConnection:
        with self._lock:
            con = self._open.get(version)
            if con is None:
                raise VersionGone(version)
            return con.cursor()


@st.cache_resource(show_spinner=False)
def _versions() -> OpenVersions:
    return OpenVersions()


def begin_run() -> Version:
    """Pin the database version for this page run (the frame calls it first)."""
    version = _versions().current()
    state.set_db_version(version)
    return version


# A result is shared by every page run that asks for it, not copied: st.cache_data unpickles a
# copy on every hit, which took longer than the page's own work on large programs (0.8 s per
# Engagement run at 50,000 partners, for 530,000 rows of engagement by month). Polars frames
# are not changed in place by what pages do with them, and pages never mutate a result.
@st.cache_resource(ttl=3600, max_entries=512, show_spinner=False)
def _run(version: Version, name: str, params: tuple[tuple[str, Any], ...]) -> pl.DataFrame:
    unfrozen = {key: list(value) if isinstance(value, tuple) else value for key, value in params}
    return queries.execute(_versions().cursor(version), name, **unfrozen)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def pinned() -> Version:
    """This page run's version; a new pin when none is set or it names another database file."""
    version = state.db_version()
    if version is None or version[0] != str(queries.db_path()):
        return begin_run()
    return version


def run(name: str, **params: Any) -> pl.DataFrame:
    """The output as this session's viewer (set by the frame, app.py) may see it.

    Raises access.Refused when they may not run it, queries.ParamError for wrong parameters."""
    viewer = state.current_viewer()
    output, params = access.bound(viewer, name, params)
    frozen = tuple(sorted((key, _hashable(value)) for key, value in params.items()))
    version = pinned()
    try:
        frame = _run(version, name, frozen)
    except VersionGone:
        frame = _run(begin_run(), name, frozen)
    return access.shown(viewer, output, frame)
