"""Derived tables computed once per build, after the extracts load (fit once, read many).

Each entry is "module:function", called as `function(con, settings)` on the new database
while it is being written (before the swap), in this order. They create tables that
pages read instead of recomputing per view (attribution credit for the default models,
model fits, per partner x month rollups). A failure here is a bug, and fails the build.
"""

from __future__ import annotations

import importlib

import duckdb

from settings import Settings

DERIVED: list[str] = [
    "queries.bgnbd:store_fit",
    "queries.rollups:build_rollups",
    "queries.touch_paths:store_paths",
    "queries.attribution:build_default_credit",
    "queries.kpis:store_kpis",
    "queries.disagreements:store_disagreements",
    "queries.forecast:store_forecast",
    "queries.pipeline_changes:store_changes",
    "queries.forecast_history:store_history",
    "queries.win_model:store_win_model",
    "queries.health_score:store_health",
    "queries.signals:store_signals",
]


def build_derived(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    for entry in DERIVED:
        module_name, function_name = entry.split(":")
        getattr(importlib.import_module(module_name), function_name)(con, settings)
