"""Rollups computed once per build, so pages read small tables instead of rescanning the extracts.

Owns the build-time tables (registered in `loaders/derived.py` as `queries.rollups:build_rollups`):
- `rollup_partner_days`: per partner x day, the type-weighted activity, effort (non-login) flag,
  last effort time and the gap since the previous effort day (`rollup_partner_days.sql`);
- `rollup_partner_month_engagement`: per partner x month, the decayed weighted activity on the
  month's last day (`rollup_partner_month_engagement.sql`).
Each table is the output of the `.sql` file of the same name, so its definition is reviewable SQL;
the outputs that read them (`engagement_by_month.sql`, `partner_flags.sql`) own the definitions
of the numbers. Settings the rollups depend on (activity weights, engagement half-life) are
fixed per build, like the database.
"""

from __future__ import annotations

import duckdb

import queries
from settings import Settings

# In build order: a rollup may read the ones before it.
ROLLUPS = ["rollup_partner_days", "rollup_partner_month_engagement"]


def build_rollups(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Derived step at build time: materialise every rollup table."""
    for name in ROLLUPS:
        # The table name is the fixed file stem; the body is the reviewed .sql file.
        con.execute('create or replace table "' + name + '" as ' + queries.load_sql(name))  # noqa: S608 - fixed names
