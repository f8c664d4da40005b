"""Rollups computed once per build, so pages read small tables instead of rescanning the extracts.

Owns the build-time tables (registered in `loaders/derived.py` as `loaders.rollups:build_rollups`):
- `rollup_partner_days`: per partner x day, the type-weighted activity, effort (non-login) flag,
  last effort time and the gap since the previous effort day (`rollup_partner_days.sql`);
- `rollup_partner_month_engagement`: per partner x month, the decayed weighted activity on the
  month's last day (`rollup_partner_month_engagement.sql`);
- `rollup_deal_partners`: per deal x partner a source names, whether it is the CRM / effective
  sourced partner, involved (the KPIs' sense), its first touch and first approved registration
  day, so "involved as of a day" is a filter on dates (`rollup_deal_partners.sql`);
- `rollup_deals`: per deal, the KPI columns, sourced partner and partner involvement, ordered by
  close date so a period's deals are a range of the table (`rollup_deals.sql`);
- `rollup_deal_involvement`: per deal x involved partner (KPI sense), the deal's columns copied in,
  ordered by close date (`rollup_deal_involvement.sql`);
- `rollup_partner_first_wins`: per partner, the first won involved deal closed on or after joining
  (`rollup_partner_first_wins.sql`);
- `rollup_partner_dormancy`: per partner, the day it turns dormant for the cohort survival curve
  (dormancy_days after its first quiet stretch starts) (`rollup_partner_dormancy.sql`);
- `rollup_partner_groups`: per KPI breakdown dimension x partner, its group(s) (`rollup_partner_groups.sql`);
- `rollup_deal_groups`: per dimension x group x deal with an involved partner of the group, every
  partner counted (the KPIs without a partner filter read it) (`rollup_deal_groups.sql`);
- `rollup_partner_active_spells`: per partner, the spells in which it counts as active for the
  KPI (`rollup_partner_active_spells.sql`);
- `rollup_registrations`: per registration, outcome, days to decision, conflict (`rollup_registrations.sql`);
- `rollup_certification_days`: certifications earned / expired per partner x name x day;
- `rollup_partner_month_scores`: engagement_by_month's scores of every month scored on its last day
  (they do not depend on the as-of day), written by `store_month_scores` from that query.
Each table but the last is the output of the `.sql` file of the same name, so its definition is reviewable SQL;
the outputs that read them (`engagement_by_month.sql`, `partner_flags.sql`, `kpis_by_period.sql`, ...) own the definitions
of the numbers. Settings the rollups depend on (activity weights, engagement half-life, dormancy days) are
fixed per build, like the database.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

import queries
from settings import Settings

ROLLUPS_DIR = Path(__file__).parent

# In build order: a rollup may read the ones before it.
ROLLUPS = [
    "rollup_partner_days",
    "rollup_partner_month_engagement",
    "rollup_deal_partners",
    "rollup_deals",
    "rollup_deal_involvement",
    "rollup_partner_first_wins",
    "rollup_partner_dormancy",
    "rollup_partner_groups",
    "rollup_deal_groups",
    "rollup_partner_active_spells",
    "rollup_registrations",
    "rollup_certification_days",
]


def build_rollups(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Derived step at build time: materialise every rollup table."""
    for name in ROLLUPS:
        # The table name is the fixed file stem; the body is the reviewed .sql file.
        sql = (ROLLUPS_DIR / f"{name}.sql").read_text(encoding="utf-8")
        con.execute('create or replace table "' + name + '" as ' + sql)  # noqa: S608 - fixed names
    store_month_scores(con)


def store_month_scores(con: duckdb.DuckDBPyConnection) -> None:
    """`rollup_partner_month_scores`: engagement_by_month's scores of every month scored on its last day.

    Such a month's scores do not depend on the as-of day, so they are computed once, by
    engagement_by_month itself (unfiltered, as of the last day of the last month with activity)
    while the table is still empty (every month is then scored live), for every month from the
    first to the last with activity.
    """
    con.execute(
        "create or replace table rollup_partner_month_scores "
        "(partner_id varchar, month date, scored_on date, raw_engagement double, engagement_score double)"
    )
    span = con.sql("select min(month), max(month) from rollup_partner_month_engagement").fetchall()[0]
    if span[0] is None:
        return
    first, last = span
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    last_day = con.sql("select last_day($month)", params={"month": last}).fetchall()[0][0]
    scores = queries.execute(con, "engagement_by_month", as_of=last_day, months=months)
    con.register("incoming_month_scores", scores)
    try:
        con.execute(
            "insert into rollup_partner_month_scores "
            "select partner_id, month, scored_on, raw_engagement, engagement_score from incoming_month_scores "
            "order by month, partner_id"
        )
    finally:
        con.unregister("incoming_month_scores")
