"""The partner lead's early warning: one row per partner with every engagement flag, as of a date.

This module owns `partner_signals` (docs/design.md, "Engagement, burnout and dormancy"): it
puts together what the SQL beside it computes (`partner_flags.sql`: dormancy, own-rhythm
overdue, return, burnout signals, open pipeline; `engagement_by_month.sql`: the score;
`unpaid_credit_by_partner*.sql`: commission owed and not paid) with BG/NBD's p_alive
(`bgnbd.py`), and decides "at risk". Pages and the command line read it as
`partner_signals`; the cohort curves are `cohort_curves.sql`.

Stored at build (`store_signals`, loaders/derived.py): every partner's row as of data_as_of.
`partner_signal_rows` declares the SQL that reads it with the shared filters
(`signals_stored.sql`; no signal of a partner depends on the others in scope), and the query
runner reads it for that day; any other day computes, and so does a database built without it.
"Why at risk" is not stored: it is written for each viewer from the stored columns, with the
commission owed in dollars only for a viewer who sees money.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

import queries
from queries import meta
from queries.engagement import bgnbd
from queries.formatting import money

CREDIT_TABLE = "attribution_credit_default"
STORED_TABLE = "signals_precomputed"

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
    "activity_fall_p",
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
# What the build stores and signals_stored.sql returns: "Why at risk" is written per viewer from
# these (quiet_days is the number it quotes), so no amount is stored in a sentence.
STORED_COLUMNS = [column for column in COLUMNS if column != "at_risk_reasons"] + ["quiet_days"]


def unpaid_credit(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> pl.DataFrame:
    """Commission on linear credit not yet paid, per partner: from the precomputed credit when built, else computed."""
    built = queries.has_tables(con, CREDIT_TABLE)
    name = "unpaid_credit_by_partner_from_attribution" if built else "unpaid_credit_by_partner"
    return queries.execute(con, name, as_of=as_of)


def partner_signals(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    managers: list[str] | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
    sees_money: bool = True,
) -> pl.DataFrame:
    """Engagement, dormancy, burnout, return and money at risk per partner, as of a date.

    Grain: one row per partner joined by as_of and not terminated by then (events after as_of are ignored).
    Money: unpaid_credit
    Scope: partner

    sees_money: whether the viewer sees commission amounts; without it, "Why at risk" says
    "unpaid commission" without the amount (unpaid_credit itself is a money column).
    """
    scope = {"managers": managers, "regions": regions, "tiers": tiers, "partner_types": partner_types}
    stored = queries.execute(con.cursor(), "partner_signal_rows", as_of=as_of, **scope)
    # Written for the at-risk rows only: amounts are formatted row by row (0.4 s for 50,000 rows).
    reasons = at_risk_reasons(sees_money, meta.currency(con))
    risky = stored.filter(pl.col("at_risk")).select("partner_id", at_risk_reasons=reasons)
    return stored.join(risky, on="partner_id", how="left", maintain_order="left").select(COLUMNS)


def at_risk_reasons(sees_money: bool, currency: str = "USD") -> pl.Expr:
    """Why an at-risk partner is at risk, in words: "quiet 299 days; open pipeline $5,000 (1 deal);
    unpaid commission $203" (null when it is not at risk), amounts in the reporting currency. The
    commission owed is stated only for a viewer who sees money; for the others the text is written
    without it."""

    def amount(column: str) -> pl.Expr:
        return pl.col(column).map_elements(lambda v: money(v, currency, "whole"), return_dtype=pl.String)

    owed = pl.format("unpaid commission {}", amount("unpaid_credit")) if sees_money else pl.lit("unpaid commission")
    why = pl.concat_str(
        [
            pl.when(pl.col("is_dormant")).then(pl.format("quiet {} days", pl.col("quiet_days"))),
            pl.when(pl.col("burnout_risk")).then(pl.format("{} burnout signals", pl.col("burnout_signal_count"))),
            pl.when(pl.col("open_pipeline") > 0).then(
                pl.format(
                    "open pipeline {} ({} {})",
                    amount("open_pipeline"),
                    pl.col("open_deals"),
                    pl.when(pl.col("open_deals") == 1).then(pl.lit("deal")).otherwise(pl.lit("deals")),
                )
            ),
            pl.when(pl.col("unpaid_credit") > 0).then(owed),
        ],
        separator="; ",
        ignore_nulls=True,
    )
    return pl.when(pl.col("at_risk")).then(why)


def partner_signal_rows(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    managers: list[str] | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
) -> pl.DataFrame:
    """Every signal of the partners in scope, as of a date: partner_signals before "Why at risk" is written.

    Grain: one row per partner joined by as_of and not terminated by then (STORED_COLUMNS)
    Money: unpaid_credit
    Scope: partner
    Stored: signals_stored (as of data_as_of, read by the runner)
    """
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
    return frame.with_columns(
        at_risk=(pl.col("is_dormant") | pl.col("burnout_risk")) & has_money,
        burnout_signals=pl.when(pl.col("burnout_signals") != "").then(pl.col("burnout_signals")),
    ).select(STORED_COLUMNS)


def store_signals(con: duckdb.DuckDBPyConnection, settings: object = None) -> None:
    """Derived step at build time: the signals as of data_as_of for every partner (signals_precomputed,
    with a row_number giving the order). Reads the BG/NBD fit and the default credit, so it runs after them."""
    queries.store_table(con, STORED_TABLE, queries.compute(con, "partner_signal_rows").with_row_index("row_number"))

