"""The partner health score: one explainable 0-100 number per partner as of a date.

This module owns turning the raw inputs (`health_inputs.sql`, and the engagement score of
`engagement_by_month.sql`) into five components, shrinking young partners toward their
segment, and weighting the components into the score; plus the score's history and its
movers. The chance of a won deal next quarter is `queries.health.win_model` (fitted at build).

How a score is made (every step is a column of `partner_health`, so a page can say why):
1. Inputs, trailing 12 months unless said: partner-attributed revenue (the plan's
   attribution model, linear by default), open partner pipeline on the day, the engagement
   score, certifications held and current (earned minus expired) and trainings,
   business reviews and the registration approval rate (approved / decided).
2. Each input is ranked against every partner on the books that day: percentile rank
   = 100 x the share of partners with a value at or below it (0 for a partner with none),
   the same rank the engagement score uses. Components: revenue = rank of revenue;
   pipeline = rank of open pipeline; engagement = the engagement score; enablement = mean
   of the ranks of certifications and trainings; relationship = mean of the rank of
   business reviews and 100 x approval rate (the rank of reviews alone when no
   registration was decided).
3. Empirical Bayes for young partners: with n = months of history in the 12-month window
   (0-12) and k = settings `health_prior_months` (default 3), each component is
   w x own + (1 - w) x prior, w = n / (n + k); the prior is the mean component of the
   partner's segment (first partner type x tier) weighted by months of history (else the
   tier's, else the program's). `history_share` = w says how much of the score rests on the
   partner's own history; a partner of one month rests 25% on it, of a year 80%.
4. Score = sum(weight x component) / sum(weights); weights from settings `health_weights`
   (revenue 35, engagement 20, enablement 15, pipeline 20, relationship 10), overridable
   per call. Equivalently score = w x observed_score + (1 - w) x segment_score.

Stored at build (`store_health`, loaders/derived.py): every partner's score with the default
weights on each day the pages ask for (data_as_of, the quarter starts of the history, the day
a quarter before data_as_of that the movers compare with) and the movers as of data_as_of.
`partner_health_scores` (every partner's scores on one day) and `partner_health_movers` declare
the SQL that reads those rows (`Stored:`), and the query runner reads them for one of those
days with the default weights; the shared filters apply after (they never change a score or a
rank). Any other view computes, and so does a database built without them.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

import queries
from queries import fiscal, meta
from queries.health import win_model
from queries.health.win_model import inputs_as_of
from queries.meta import settings as program_settings

SCORES_TABLE = "health_scores_precomputed"
MOVERS_TABLE = "health_movers_precomputed"
DAYS_TABLE = "health_days_precomputed"
HISTORY_QUARTERS = 8

COMPONENTS = ["revenue", "pipeline", "engagement", "enablement", "relationship"]
DEFAULT_WEIGHTS = {"revenue": 35.0, "engagement": 20.0, "enablement": 15.0, "pipeline": 20.0, "relationship": 10.0}
DEFAULT_PRIOR_MONTHS = 3.0
WEIGHT_PARAMS = [f"w_{c}" for c in COMPONENTS]  # partner_health's parameters, in COMPONENTS order

COLUMNS = [
    "partner_id",
    "partner_name",
    "partner_manager",
    "region",
    "tier",
    "partner_type",
    "health_score",
    "rank",
    "history_share",
    "observed_score",
    "segment_score",
    *[f"{c}_component" for c in COMPONENTS],
    *[f"{c}_weight" for c in COMPONENTS],
    "revenue_12m",
    "open_pipeline",
    "engagement_score",
    "certifications_current",
    "trainings_12m",
    "business_reviews_12m",
    "registration_approval_rate",
    "months_of_history",
    "p_won_next_quarter",
    "as_of",
]
MOVERS_COLUMNS = [
    "partner_id",
    "partner_name",
    "partner_manager",
    "tier",
    "partner_type",
    "health_score",
    "score_before",
    "change",
    "rank",
    "rank_before",
    "moved_most_by",
    "moved_most_points",
    "compared_with",
    "as_of",
]


def health_weights(con: duckdb.DuckDBPyConnection, **given: float | None) -> dict[str, float]:
    """Component weights: the given ones (w_revenue=...), else the settings', else the defaults."""
    configured = {**DEFAULT_WEIGHTS, **program_settings(con).get("health_weights", {})}
    weights = {c: float(given[f"w_{c}"]) if given.get(f"w_{c}") is not None else float(configured[c]) for c in COMPONENTS}
    if any(w < 0 for w in weights.values()):
        raise ValueError(f"health weights cannot be negative: {weights}")
    if sum(weights.values()) <= 0:
        raise ValueError("at least one health weight must be above zero")
    return weights


def prior_months(con: duckdb.DuckDBPyConnection) -> float:
    """k of the shrinkage weight n / (n + k): months of history worth as much as the segment prior."""
    return float(program_settings(con).get("health_prior_months", DEFAULT_PRIOR_MONTHS))


def percentile_rank(column: str) -> pl.Expr:
    """100 x share of partners at or below the value (ties share the highest rank); 0 for none."""
    value = pl.col(column).cast(pl.Float64).fill_null(0.0)
    ranked = 100.0 * value.rank(method="max") / pl.len()
    return pl.when(value > 0).then(ranked).otherwise(0.0)


def observed_components(inputs: pl.DataFrame) -> pl.DataFrame:
    """The five components from the partner's own history, 0-100, ranked against all partners given."""
    relationship = (
        pl.when(pl.col("registration_approval_rate").is_null())
        .then(pl.col("_reviews_rank"))
        .otherwise((pl.col("_reviews_rank") + 100.0 * pl.col("registration_approval_rate")) / 2)
    )
    return (
        inputs.with_columns(
            percentile_rank("revenue_12m").alias("revenue_observed"),
            percentile_rank("open_pipeline").alias("pipeline_observed"),
            pl.col("engagement_score").cast(pl.Float64).alias("engagement_observed"),
            ((percentile_rank("certifications_current") + percentile_rank("trainings_12m")) / 2).alias("enablement_observed"),
            percentile_rank("business_reviews_12m").alias("_reviews_rank"),
        )
        .with_columns(relationship.alias("relationship_observed"))
        .drop("_reviews_rank")
    )


def segment_priors(frame: pl.DataFrame) -> pl.DataFrame:
    """Each partner's prior per component: its segment's (partner type x tier) mean weighted by months
    of history, else its tier's, else the program's."""
    n = pl.col("months_of_history")
    out = frame
    for c in COMPONENTS:
        observed = pl.col(f"{c}_observed")
        by_segment = (observed * n).sum().over("partner_type", "tier") / n.sum().over("partner_type", "tier")
        by_tier = (observed * n).sum().over("tier") / n.sum().over("tier")
        program = (observed * n).sum() / n.sum()
        out = out.with_columns(
            pl.coalesce(by_segment.fill_nan(None), by_tier.fill_nan(None), program.fill_nan(None), pl.lit(0.0)).alias(
                f"{c}_prior"
            )
        )
    return out


def score_frame(inputs: pl.DataFrame, weights: dict[str, float], k: float) -> pl.DataFrame:
    """Components, shrinkage and score for a population of partners (pure: frame in, frame out)."""
    total = sum(weights.values())
    share = pl.col("months_of_history") / (pl.col("months_of_history") + k) if k > 0 else pl.lit(1.0)
    frame = segment_priors(observed_components(inputs)).with_columns(share.alias("history_share"))
    w = pl.col("history_share")
    frame = frame.with_columns(
        *[(w * pl.col(f"{c}_observed") + (1 - w) * pl.col(f"{c}_prior")).alias(f"{c}_component") for c in COMPONENTS],
        *[pl.lit(100.0 * weights[c] / total).alias(f"{c}_weight") for c in COMPONENTS],
        pl.sum_horizontal([pl.col(f"{c}_observed") * weights[c] / total for c in COMPONENTS]).alias("observed_score"),
        pl.sum_horizontal([pl.col(f"{c}_prior") * weights[c] / total for c in COMPONENTS]).alias("segment_score"),
    )
    frame = frame.with_columns(
        pl.sum_horizontal([pl.col(f"{c}_component") * weights[c] / total for c in COMPONENTS]).alias("health_score")
    )
    return frame.with_columns(pl.col("health_score").rank(method="min", descending=True).cast(pl.Int64).alias("rank"))


def in_scope(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    managers: list[str] | None,
    regions: list[str] | None,
    tiers: list[str] | None,
    partner_types: list[str] | None,
) -> pl.DataFrame:
    """The shared filters (None = all), applied after ranking so a score does not depend on them,
    by the partner_in_scope macro every partner-level query uses: the scope rule has one home."""
    if managers is None and regions is None and tiers is None and partner_types is None:
        return frame
    scored = frame.select("region", "tier", "partner_types", "partner_manager").with_row_index("row")
    # A cursor of its own, so the registered frame is gone with it.
    cursor = con.cursor()
    cursor.register("scored", scored)
    keep = cursor.sql(
        "select partner_in_scope(region, tier, partner_types, partner_manager, $regions, $tiers, $partner_types, $managers)"
        " as keep from scored order by row",
        params={"regions": regions, "tiers": tiers, "partner_types": partner_types, "managers": managers},
    ).pl()["keep"]
    return frame.filter(keep)


def partner_health(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    w_revenue: float | None = None,
    w_pipeline: float | None = None,
    w_engagement: float | None = None,
    w_enablement: float | None = None,
    w_relationship: float | None = None,
    managers: list[str] | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
) -> pl.DataFrame:
    """Partner health score 0-100 as of a date, with each component's value and weight, and P(won deal next quarter).

    Grain: one row per partner joined by as_of and not terminated by then (ranked against all such partners)
    Money: none
    Scope: partner

    Weights default to the settings' `health_weights`; `w_<component>` overrides one. See the
    module docstring for every step; `p_won_next_quarter` is empty when the win model does not
    beat its baseline ("won a deal last quarter") on held-out quarters.
    """
    weights = dict(zip(WEIGHT_PARAMS, (w_revenue, w_pipeline, w_engagement, w_enablement, w_relationship), strict=True))
    con = con.cursor()
    if health_weights(con, **weights) == health_weights(con):
        weights = {}  # the settings' weights, however they were given: the view the build stores
    frame = queries.execute(con, "partner_health_scores", as_of=as_of, **weights)
    return in_scope(con, frame, managers, regions, tiers, partner_types).select(COLUMNS)


def partner_health_scores(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    w_revenue: float | None = None,
    w_pipeline: float | None = None,
    w_engagement: float | None = None,
    w_enablement: float | None = None,
    w_relationship: float | None = None,
) -> pl.DataFrame:
    """Every partner's health score on one day, ranked against all of them: partner_health before the filters.

    Grain: one row per partner joined by as_of and not terminated by then, healthiest first (with partner_types)
    Money: none
    Scope: partner
    Stored: health_stored_scores (default weights), when as_of in health_stored_days
    """
    given = dict(zip(WEIGHT_PARAMS, (w_revenue, w_pipeline, w_engagement, w_enablement, w_relationship), strict=True))
    return all_scores(con.cursor(), as_of, health_weights(con, **given))


def all_scores(con: duckdb.DuckDBPyConnection, as_of: date | None, weights: dict[str, float]) -> pl.DataFrame:
    """Every partner on the books on the day, scored and rounded as partner_health shows them, with
    their partner_types (for the filters); healthiest first."""
    inputs = inputs_as_of(con, as_of)
    frame = score_frame(inputs, weights, prior_months(con))
    frame = frame.join(win_model.predict(con, inputs), on="partner_id", how="left")
    ratios = ["history_share", "registration_approval_rate", "p_won_next_quarter"]
    scores = ["health_score", "observed_score", "segment_score", *[f"{c}_component" for c in COMPONENTS]]
    return (
        frame.with_columns(
            pl.col(scores).round(1),
            pl.col(ratios).round(3),
            pl.col("months_of_history").round(1),
            pl.col([f"{c}_weight" for c in COMPONENTS]).round(1),
        )
        .select(*COLUMNS, "partner_types")
        .sort("rank", "partner_id")
    )


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when that month is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def partner_health_movers(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    managers: list[str] | None = None,
    regions: list[str] | None = None,
    tiers: list[str] | None = None,
    partner_types: list[str] | None = None,
) -> pl.DataFrame:
    """How each partner's health score moved since the same day a quarter (3 months) earlier, and which component moved it most.

    Grain: one row per partner scored on both days, biggest rise first
    Money: none
    Scope: partner
    Stored: health_stored_movers (as of data_as_of, read by the runner)
    """
    con = con.cursor()
    day = as_of or meta.data_as_of(con)
    before = months_before(day, 3)
    scope = {"managers": managers, "regions": regions, "tiers": tiers, "partner_types": partner_types}
    now = partner_health(con, as_of=day, **scope)
    then = partner_health(con, as_of=before, **scope)
    return movers_between(now, then, before)


def movers_between(now: pl.DataFrame, then: pl.DataFrame, before: date, keep: tuple[str, ...] = ()) -> pl.DataFrame:
    """The movers from two partner_health frames (pure): partners scored on both days, biggest rise first;
    `keep` names extra columns of `now` to keep at the end."""
    weighted = [f"{c}_component" for c in COMPONENTS]
    joined = now.join(
        then.select(
            "partner_id",
            pl.col("health_score").alias("score_before"),
            pl.col("rank").alias("rank_before"),
            *[pl.col(c).alias(f"{c}_before") for c in weighted],
        ),
        on="partner_id",
        how="inner",
    )
    # A component's contribution to the move: its weight share x its change.
    contributions = [
        (pl.col(f"{c}_weight") / 100 * (pl.col(f"{c}_component") - pl.col(f"{c}_component_before"))).alias(c) for c in COMPONENTS
    ]
    moved = joined.with_columns(*contributions).with_columns(
        (pl.col("health_score") - pl.col("score_before")).round(1).alias("change"),
        pl.concat_list(COMPONENTS).alias("_moves"),
    )
    biggest = pl.col("_moves").list.eval(pl.element().abs()).list.arg_max()
    names = pl.Series(COMPONENTS)
    moved = moved.with_columns(
        biggest.alias("_i"),
    ).with_columns(
        pl.col("_i").map_elements(lambda i: names[i], return_dtype=pl.String).alias("moved_most_by"),
        pl.col("_moves").list.get(pl.col("_i")).round(1).alias("moved_most_points"),
    )
    return (
        moved.with_columns(pl.lit(before).alias("compared_with"))
        .select(*MOVERS_COLUMNS, *keep)
        .sort("change", "partner_id", descending=[True, False])
    )


def partner_health_history(
    con: duckdb.DuckDBPyConnection,
    partner_id: str,
    quarters: int = 8,
    as_of: date | None = None,
    managers: list[str] | None = None,
) -> pl.DataFrame:
    """One partner's health score and components at each fiscal quarter start of the last quarters, and on the day.

    Grain: one row per scoring day (quarter starts the partner was on the books, then as_of)
    Money: none
    Scope: partner

    managers: the viewer's partner managers (None = all); another manager's partner gives no rows.
    """
    con = con.cursor()
    if managers is not None:
        found = queries.execute(con, "partner_search", search=partner_id, managers=managers)
        if partner_id not in found["partner_id"]:
            return pl.DataFrame()
    day = as_of or meta.data_as_of(con)
    start_month = meta.fiscal_start_month(con)
    days = history_days(day, quarters, start_month)
    rows = []
    for scored_on in days:
        scores = queries.execute(con, "partner_health_scores", as_of=scored_on)
        frame = scores.filter(pl.col("partner_id") == partner_id).select(COLUMNS)
        rows.append(frame.with_columns(pl.lit(fiscal.quarter_label(scored_on, start_month)).alias("fiscal_quarter")))
    history = pl.concat(rows) if rows else pl.DataFrame()
    if history.is_empty():
        return history
    return history.select(
        pl.col("as_of").alias("scored_on"),
        "fiscal_quarter",
        "partner_id",
        "health_score",
        "rank",
        "history_share",
        "observed_score",
        "segment_score",
        *[f"{c}_component" for c in COMPONENTS],
        *[f"{c}_weight" for c in COMPONENTS],
        "p_won_next_quarter",
    )


def history_days(day: date, quarters: int, start_month: int) -> list[date]:
    """The scoring days of partner_health_history: the last `quarters` fiscal quarter starts before the day, then the day."""
    this_quarter = fiscal.quarter_start(day, start_month)
    days = [fiscal.add_quarters(this_quarter, -i) for i in range(quarters - 1, -1, -1)]
    return [d for d in days if d < day] + [day]


# ---- stored at build ---------------------------------------------------------------------


def store_health(con: duckdb.DuckDBPyConnection, settings: object = None) -> None:
    """Derived step at build time: every partner's score with the default weights on the days pages ask for.

    Tables: health_days_precomputed (scored_on, is_data_as_of: data_as_of, the quarter starts of
    partner_health_history's default 8 quarters, and the day movers compare data_as_of with),
    health_scores_precomputed (all_scores on each of those days, scored_on, row_number) and
    health_movers_precomputed (partner_health_movers as of data_as_of, unfiltered, with region and
    partner_types for the filters). Without a data_as_of the tables stay empty and every view computes.
    Reads the win model and the rollups, so it runs after them.
    """
    for table in (DAYS_TABLE, SCORES_TABLE, MOVERS_TABLE):
        con.execute("drop table if exists " + table)  # noqa: S608 - fixed names
    build_day = meta.data_as_of(con)
    weights = health_weights(con)
    days: dict[date, bool] = {}
    if build_day is not None:
        start_month = meta.fiscal_start_month(con)
        for d in [*history_days(build_day, HISTORY_QUARTERS, start_month), months_before(build_day, 3)]:
            days[d] = d == build_day
    keep = ("region", "partner_types")
    if build_day is None:  # nothing to score: empty tables, with the columns the readers select
        empty = all_scores(con, None, weights).clear()
        scores = empty.with_columns(pl.lit(None, pl.Date).alias("scored_on"))
        movers = movers_between(empty, empty, date(1, 1, 1), keep=keep)
    else:
        frames = {d: all_scores(con, d, weights) for d in sorted(days)}
        scores = pl.concat([frame.with_columns(pl.lit(d, pl.Date).alias("scored_on")) for d, frame in frames.items()])
        before = months_before(build_day, 3)
        movers = movers_between(frames[build_day], frames[before], before, keep=keep)
    days_frame = pl.DataFrame(
        {"scored_on": list(days), "is_data_as_of": list(days.values())},
        schema={"scored_on": pl.Date, "is_data_as_of": pl.Boolean},
    )
    # The days last: readers take their presence to mean the other two are there.
    for table, frame in ((SCORES_TABLE, scores), (MOVERS_TABLE, movers), (DAYS_TABLE, days_frame)):
        queries.store_table(con, table, frame.with_row_index("row_number"))
