"""Rollups computed once per build, so pages read small tables instead of rescanning the extracts.

Owns the build-time tables (registered in `loaders/derived.py` as `queries.rollups:build_rollups`):
- `rollup_partner_days`: per partner x day, the type-weighted activity, effort (non-login) flag,
  last effort time and the gap since the previous effort day (`rollup_partner_days.sql`);
- `rollup_partner_month_engagement`: per partner x month, the decayed weighted activity on the
  month's last day (`rollup_partner_month_engagement.sql`);
- `rollup_deal_partners`: per deal x partner a source names, whether it is the CRM / effective
  sourced partner, involved (the KPIs' sense), its first touch and first approved registration
  day, so "involved as of a day" is a filter on dates (`rollup_deal_partners.sql`);
- `rollup_deals`: per deal, the KPI columns, sourced partner and partner involvement (`rollup_deals.sql`);
- `rollup_partner_active_spells`: per partner, the spells in which it counts as active for the
  KPI (`rollup_partner_active_spells.sql`);
- `rollup_registrations`: per registration, outcome, days to decision, conflict (`rollup_registrations.sql`);
- `rollup_certification_days`: certifications earned / expired per partner x name x day.
Each table is the output of the `.sql` file of the same name, so its definition is reviewable SQL;
the outputs that read them (`engagement_by_month.sql`, `partner_flags.sql`, `kpis_by_period.sql`, ...) own the definitions
of the numbers. Settings the rollups depend on (activity weights, engagement half-life) are
fixed per build, like the database.
"""

from __future__ import annotations

import duckdb

import queries
from settings import Settings

# In build order: a rollup may read the ones before it.
ROLLUPS = [
    "rollup_partner_days",
    "rollup_partner_month_engagement",
    "rollup_deal_partners",
    "rollup_deals",
    "rollup_partner_active_spells",
    "rollup_registrations",
    "rollup_certification_days",
]


def build_rollups(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Derived step at build time: materialise every rollup table."""
    for name in ROLLUPS:
        # The table name is the fixed file stem; the body is the reviewed .sql file.
        con.execute('create or replace table "' + name + '" as ' + queries.load_sql(name))  # noqa: S608 - fixed names
