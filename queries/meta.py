"""What a built database says about itself: the day its data runs to, the settings it was built with.

The build writes one `load_meta` table (key, value): `data_as_of` (the latest event day in the
extracts), `built_at`, `reporting_currency`, `fiscal_year_start_month`, `settings_json` and the
load counts. This module is the one reader of those keys for Python (pages read the same keys
through the cached `program_meta` output and parse them here); SQL reads `load_meta` directly.
The fiscal arithmetic is `fiscal.py`'s, the settings' model `settings.py`'s.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import duckdb


def values(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every key the build wrote, as text ({} for a database without load_meta)."""
    try:
        return dict(con.cursor().sql("select key, value from load_meta").fetchall())
    except duckdb.CatalogException:
        return {}


def as_of_in(meta: dict[str, str]) -> date | None:
    """The data's as-of day in load_meta's values, or None for a program without dates."""
    value = meta.get("data_as_of")
    return date.fromisoformat(value) if value else None


def start_month_in(meta: dict[str, str]) -> int:
    """The fiscal year's first month (1 = January) in load_meta's values."""
    return int(meta.get("fiscal_year_start_month") or 1)


def data_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest day with data (the default "as of" of every page), or None for a program without dates."""
    return as_of_in(values(con))


def fiscal_start_month(con: duckdb.DuckDBPyConnection) -> int:
    return start_month_in(values(con))


def currency(con: duckdb.DuckDBPyConnection) -> str:
    """The reporting currency every amount is converted to (USD unless the settings say otherwise)."""
    return values(con).get("reporting_currency") or "USD"


def settings(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The settings the database was built with, as the build stored them ({} if unknown)."""
    text = values(con).get("settings_json")
    return json.loads(text) if text else {}
