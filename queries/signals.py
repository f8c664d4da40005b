"""The partner lead's early warning: one row per partner with every engagement flag, as of a date.

This module owns `partner_signals` (DESIGN.md, "Engagement, burnout and dormancy"): it
puts together what the SQL beside it computes (`partner_flags.sql`: dormancy, own-rhythm
overdue, return, burnout signals, open pipeline; `engagement_by_month.sql`: the score;
`unpaid_credit_by_partner*.sql`: commission owed and not paid) with BG/NBD's p_alive
(`bgnbd.py`), and decides "at risk". Pages and the command line read it as
`partner_signals`; the cohort curves are `cohort_curves.sql`.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

import queries
from queries import bgnbd

CREDIT_TABLE = "attribution_credit_default"

COLUMNS = [
    "partner_id",
    "partner_name",
    "partner_manager",
    "tier",
    "region",
    "partner_types",
    "engagement_score",
    "last_activity_at",
    "days_since_activity",
    "is_dormant",
    "usual_gap_days",
    "is_overdue",
    "p_alive",
    "expected_activities_90d",
    "burnout_risk",
    "burnout_signal_count",
    "burnout_signals",
    "returned",
    "returned_at",
    "gap_before_return_days",
    "at_risk",
    "at_risk_reasons",
    "open_pipeline",
    "open_deals",
    "unpaid_credit",
    "as_of",
]


def unpaid_credit(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> pl.DataFrame:
    """Commission on linear credit not yet paid, per partner: from the precomputed credit when built, else computed."""
    built = con.sql("select count(*) from duckdb_tables() where table_name = $name", params={"name": CREDIT_TABLE})
    name = "unpaid_credit_by_partner_from_attribution" if built.fetchall()[0][0] else "unpaid_credit_by_partner"
    return queries.execute(con, name, as_of=as_of)


def partner_signals(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    managers: list[str] | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
) -> pl.DataFrame:
    """Engagement, dormancy, burnout, return and money at risk per partner, as of a date.

    Grain: one row per partner joined by as_of and not terminated by then (events after as_of are ignored).
    """
    con = con.cursor()
    scope = {"managers": managers, "regions": regions, "tiers": tiers, "partner_types": partner_types}
    flags = queries.execute(con, "partner_flags", as_of=as_of, **scope)
    score = queries.execute(con, "engagement_by_month", as_of=as_of, months=1, **scope).select("partner_id", "engagement_score")
    owed = unpaid_credit(con, as_of).select("partner_id", pl.col("unpaid_credit"))
    alive = bgnbd.partner_p_alive(con, as_of)

    frame = (
        flags.join(score, on="partner_id", how="left")
        .join(owed, on="partner_id", how="left")
        .join(alive, on="partner_id", how="left")
        .with_columns(
            pl.col("engagement_score").fill_null(0.0),
            pl.col("unpaid_credit").fill_null(0).cast(pl.Decimal(18, 2)),
            pl.col("p_alive").round(3),
            pl.col("expected_activities_90d").round(1),
        )
    )
    has_money = (pl.col("open_pipeline") > 0) | (pl.col("unpaid_credit") > 0)
    why = pl.concat_str(
        [
            pl.when(pl.col("is_dormant")).then(pl.format("quiet {} days", pl.col("quiet_days"))),
            pl.when(pl.col("burnout_risk")).then(pl.format("{} burnout signals", pl.col("burnout_signal_count"))),
            pl.when(pl.col("open_pipeline") > 0).then(
                pl.format(
                    "open pipeline {} ({} {})",
                    pl.col("open_pipeline").cast(pl.Float64).round(0).cast(pl.Int64),
                    pl.col("open_deals"),
                    pl.when(pl.col("open_deals") == 1).then(pl.lit("deal")).otherwise(pl.lit("deals")),
                )
            ),
            pl.when(pl.col("unpaid_credit") > 0).then(
                pl.format("unpaid commission {}", pl.col("unpaid_credit").cast(pl.Float64).round(0).cast(pl.Int64))
            ),
        ],
        separator="; ",
        ignore_nulls=True,
    )
    at_risk = (pl.col("is_dormant") | pl.col("burnout_risk")) & has_money
    return frame.with_columns(
        at_risk=at_risk,
        at_risk_reasons=pl.when(at_risk).then(why),
        burnout_signals=pl.when(pl.col("burnout_signals") != "").then(pl.col("burnout_signals")),
    ).select(COLUMNS)


# One-sentence definitions (DESIGN.md), shown as help next to each number and list.
DEFINITIONS = {
    "engagement_score": "Activities weighted by type (settings) and decayed with a 30-day half-life, ranked against all "
    "partners that day: 100 = the most engaged, 0 = no weighted activity.",
    "is_dormant": "No activity other than portal_login for the dormancy threshold (settings, default 90 days), "
    "counted from joining when a partner never acted.",
    "is_overdue": "Quiet for at least 30 days and more than twice the partner's own median gap between active days "
    "(needs 3 gaps of history): a weekly partner is overdue at 30 days, one with 60-day gaps only after 120.",
    "p_alive": "BG/NBD (Fader, Hardie & Lee 2005) probability that the partner is still engaged, from how often and "
    "how recently it was active, fitted on all partners' histories.",
    "expected_activities_90d": "BG/NBD expected number of active days (logins aside) in the next 90 days.",
    "burnout_risk": "At least 3 of 6 signals (settings) fired, each the last 90 days against the partner's own 180 before: "
    "activity rate, deal registrations and win rate falling, fewer activity types, certifications lapsing, "
    "support tickets rising (dormant partners are listed as dormant instead).",
    "returned": "A gap of at least the dormancy threshold between two consecutive activities (logins aside), "
    "the later of them in the last 90 days: they often expect priority support.",
    "at_risk": "Dormant or burning out, with open partner pipeline or unpaid commission on linear credit.",
    "unpaid_credit": "Commission on the partner's linear attribution credit (won deals) at the plan rate, "
    "minus what was paid on those deals by then (the plan's credit payout types: commission, referral fee).",
    "open_pipeline": "Amount of open deals the partner sourced, touched or registered (approved).",
}
