"""What a built database says about itself: the day its data runs to, the settings it was built with.

The build writes one `load_meta` table (key, value): `data_as_of` (the latest event day in the
extracts), `built_at`, `reporting_currency`, `fiscal_year_start_month`, `settings_json` and the
load counts. This module is the one reader of those keys for Python; SQL reads them through
`program_meta.sql` or `load_meta` directly. It leaves the fiscal arithmetic to `fiscal.py`.
"""

from __future__ import annotations

from datetime import date

import duckdb


def values(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every key the build wrote, as text ({} for a database without load_meta)."""
    try:
        return dict(con.cursor().sql("select key, value from load_meta").fetchall())
    except duckdb.CatalogException:
        return {}


def data_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest day with data (the default "as of" of every page), or None for a program without dates."""
    value = values(con).get("data_as_of")
    return date.fromisoformat(value) if value else None
