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


def build_derived(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    for entry in DERIVED:
        module_name, function_name = entry.split(":")
        getattr(importlib.import_module(module_name), function_name)(con, settings)
