"""Derived tables computed once per build, after the extracts load (fit once, read many).

Each entry is "module:function", called as `function(con, settings)` on the new database
while it is being written (before the swap), in this order. They create tables that
pages read instead of recomputing per view (attribution credit for the default models,
model fits, per partner x month rollups). A failure here is a bug, and fails the build.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import importlib

import duckdb

from settings import Settings

DERIVED: list[str] = [
    "queries.engagement.bgnbd:store_fit",
    "loaders.rollups:build_rollups",
    "queries.attribution.touch_paths:store_paths",
    "queries.attribution.credit:build_default_credit",
    "queries.program.kpis:store_kpis",
    "queries.disagreements.ledger:store_disagreements",
    "queries.forecast.methods:store_forecast",
    "queries.forecast.pipeline_changes:store_changes",
    "queries.forecast.forecast_history:store_history",
    "queries.health.win_model:store_win_model",
    "queries.health.health_score:store_health",
    "queries.engagement.signals:store_signals",
]
# DuckDB's cache between two steps, at most: what a step left in DuckDB's buffer pool (up to its
# memory limit) is dropped, so the next step's Python frames do not stack on top of it.
BETWEEN_STEPS_DUCKDB_MB = 64


def build_derived(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    release_memory(con)  # what loading the extracts left behind, too
    for entry in DERIVED:
        module_name, function_name = entry.split(":")
        getattr(importlib.import_module(module_name), function_name)(con, settings)
        release_memory(con)


def release_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Give back to the operating system what a derived step no longer holds: at scale each step's
    frames are gigabytes, and without this the next step's peak starts from the last one's."""
    from loaders.build import build_memory_limit_mb  # the build's limit (build.py imports this module)

    gc.collect()  # frames held only by reference cycles
    try:
        # Lowering the limit makes DuckDB evict its cached blocks (written ones are dropped, others
        # spill to the temp directory); the limit then goes back to what the build set.
        con.execute("set memory_limit = $limit", {"limit": f"{BETWEEN_STEPS_DUCKDB_MB}MB"})
    except duckdb.Error:
        pass  # what is pinned stays; the step after runs all the same
    finally:
        con.execute("set memory_limit = $limit", {"limit": f"{build_memory_limit_mb()}MB"})
    trim_heap()


def trim_heap() -> None:
    """Return the C heap's free pages to the system (glibc keeps them in its arenas otherwise)."""
    libc = ctypes.util.find_library("c")
    if libc:
        try:
            ctypes.CDLL(libc).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
            pass
