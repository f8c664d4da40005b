"""P(won deal next quarter) per partner: a logistic regression on each partner's history, fitted at build.

This module owns the win model: its training panel (every partner on the books at each
past fiscal quarter start, features from its history up to the day before, label = a
partner-attributed won deal under the plan's model closing in that quarter), its
time-based evaluation against the baseline "won a deal last quarter", and the stored fit
the health score reads (`partner_health.p_won_next_quarter`). The inputs are those of the
health score (`inputs_as_of`: `health_inputs.sql` and `engagement_by_month.sql`), kept here so
that `queries.health.health_score`, which owns the score, imports this module and not the other way.

Evaluation is rolling-origin: each of the last `HOLDOUT_QUARTERS` complete quarters is
predicted by a model trained only on the quarters before it (whose labels were known by
then), never on the quarter it is judged on. The model is shown only when its pooled
held-out AUC beats the baseline's. Tables written at build (`store_win_model`):
`health_win_model_coefficients`, `health_win_model_evaluation`, `health_win_model_calibration`.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl

import queries
from queries import fiscal, meta

HOLDOUT_QUARTERS = 4
MIN_TRAIN_QUARTERS = 2
MIN_PARTNERS = 30
COEFFICIENTS = "health_win_model_coefficients"
EVALUATION = "health_win_model_evaluation"
CALIBRATION = "health_win_model_calibration"

# Features, from the health inputs as of the day before the quarter (counts, log dollars, days).
FEATURES = [
    "log_revenue_12m",
    "won_deals_12m",
    "won_deals_90d",
    "won_last_90d",
    "days_since_won",
    "log_open_pipeline",
    "open_deals",
    "log_engagement",
    "activities_90d",
    "registrations_90d",
    "certifications_current",
    "trainings_12m",
    "business_reviews_12m",
    "months_of_history",
]
EVALUATION_SCHEMA = {
    "fiscal_quarter": pl.String,
    "quarter_start": pl.Date,
    "trained_through": pl.Date,
    "train_rows": pl.Int64,
    "partners": pl.Int64,
    "won": pl.Int64,
    "auc_model": pl.Float64,
    "auc_baseline": pl.Float64,
    "brier_model": pl.Float64,
    "brier_baseline": pl.Float64,
}
CALIBRATION_SCHEMA = {
    "predictor": pl.String,
    "bin": pl.Int64,
    "label": pl.String,
    "partners": pl.Int64,
    "mean_predicted": pl.Float64,
    "actual_rate": pl.Float64,
}
COEFFICIENT_SCHEMA = {"feature": pl.String, "mean": pl.Float64, "scale": pl.Float64, "coefficient": pl.Float64}


def features(inputs: pl.DataFrame) -> pl.DataFrame:
    """Model features from health inputs (one row per partner; see FEATURES)."""
    return inputs.select(
        "partner_id",
        pl.col("revenue_12m").cast(pl.Float64).log1p().alias("log_revenue_12m"),
        pl.col("won_deals_12m").cast(pl.Float64),
        pl.col("won_deals_90d").cast(pl.Float64),
        (pl.col("won_deals_90d") > 0).cast(pl.Float64).alias("won_last_90d"),
        # Never won counts as two years ago (so the feature is defined for everyone).
        pl.col("days_since_won").cast(pl.Float64).fill_null(730.0).clip(0, 730).alias("days_since_won"),
        pl.col("open_pipeline").cast(pl.Float64).log1p().alias("log_open_pipeline"),
        pl.col("open_deals").cast(pl.Float64),
        pl.col("raw_engagement").cast(pl.Float64).log1p().alias("log_engagement"),
        pl.col("activities_90d").cast(pl.Float64),
        pl.col("registrations_90d").cast(pl.Float64),
        pl.col("certifications_current").cast(pl.Float64),
        pl.col("trainings_12m").cast(pl.Float64),
        pl.col("business_reviews_12m").cast(pl.Float64),
        pl.col("months_of_history").cast(pl.Float64),
    )


def inputs_as_of(con: duckdb.DuckDBPyConnection, as_of: date | None) -> pl.DataFrame:
    """Raw inputs of every partner on the books on the day, with the engagement score beside them."""
    inputs = queries.execute(con, "health_inputs", as_of=as_of)
    engagement = queries.execute(con, "engagement_by_month", as_of=as_of, months=1).select(
        "partner_id", "raw_engagement", "engagement_score"
    )
    return inputs.join(engagement, on="partner_id", how="left").with_columns(
        pl.col("raw_engagement", "engagement_score").fill_null(0.0),
        pl.col("as_of").cast(pl.Date),
    )


def complete_quarters(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Quarter starts with a full quarter of program history before them and their own quarter over by data_as_of."""
    start_month = meta.fiscal_start_month(con)
    rows = con.sql("select min(joined_at) from partners").fetchall()
    if not rows or rows[0][0] is None:
        return []
    first = fiscal.add_quarters(fiscal.quarter_start(rows[0][0], start_month), 2)
    last_day = meta.data_as_of(con)
    quarters = []
    q = first
    while fiscal.add_quarters(q, 1) - timedelta(days=1) <= last_day:
        quarters.append(q)
        q = fiscal.add_quarters(q, 1)
    return quarters


def training_panel(con: duckdb.DuckDBPyConnection, quarters: list[date]) -> pl.DataFrame:
    """Partner x quarter rows: features as of the day before the quarter, the label and the baseline."""
    wins = queries.execute(con, "health_won_deals_by_quarter").select("partner_id", "quarter_start", "won_deals")
    frames = []
    for q in quarters:
        inputs = inputs_as_of(con, q - timedelta(days=1))
        previous = fiscal.add_quarters(q, -1)
        rows = (
            features(inputs)
            .with_columns(pl.lit(q).alias("quarter_start"))
            .join(
                wins.filter(pl.col("quarter_start") == q).select("partner_id", pl.col("won_deals").alias("_now")),
                on="partner_id",
                how="left",
            )
            .join(
                wins.filter(pl.col("quarter_start") == previous).select("partner_id", pl.col("won_deals").alias("_before")),
                on="partner_id",
                how="left",
            )
            .with_columns(
                (pl.col("_now").fill_null(0) > 0).cast(pl.Int8).alias("won"),
                (pl.col("_before").fill_null(0) > 0).cast(pl.Int8).alias("won_last_quarter"),
            )
            .drop("_now", "_before")
        )
        frames.append(rows)
    # A fixed row order: the fit's floating-point sums, hence its numbers, must not depend on the
    # order a parallel query happened to return rows in (the same extracts build the same tables).
    # Features are rounded for the same reason: parallel sums differ in their last bits.
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames).sort("quarter_start", "partner_id").with_columns(pl.col(pl.Float64).round(9))


def rolling_splits(quarters: list[date], holdout: int = HOLDOUT_QUARTERS) -> list[tuple[list[date], date]]:
    """(training quarters, evaluated quarter) pairs: each of the last `holdout` quarters, trained on those before it."""
    ordered = sorted(quarters)
    splits = []
    for i in range(max(MIN_TRAIN_QUARTERS, len(ordered) - holdout), len(ordered)):
        splits.append((ordered[:i], ordered[i]))
    return splits


def fit(rows: pl.DataFrame) -> pl.DataFrame:
    """Standardised logistic regression on the rows: one row per feature (mean, scale, coefficient) plus the intercept."""
    from sklearn.linear_model import LogisticRegression

    x = rows.select(FEATURES).to_numpy()
    y = rows["won"].to_numpy()
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit((x - mean) / scale, y)
    return pl.DataFrame(
        {
            "feature": [*FEATURES, "(intercept)"],
            "mean": [*mean.tolist(), 0.0],
            "scale": [*scale.tolist(), 1.0],
            "coefficient": [*model.coef_[0].tolist(), float(model.intercept_[0])],
        },
        schema=COEFFICIENT_SCHEMA,
    )


def probabilities(coefficients: pl.DataFrame, rows: pl.DataFrame) -> np.ndarray:
    """P(won) of each row under stored coefficients."""
    table = {r["feature"]: r for r in coefficients.iter_rows(named=True)}
    x = rows.select(FEATURES).to_numpy()
    mean = np.array([table[f]["mean"] for f in FEATURES])
    scale = np.array([table[f]["scale"] for f in FEATURES])
    beta = np.array([table[f]["coefficient"] for f in FEATURES])
    z = ((x - mean) / scale) @ beta + table["(intercept)"]["coefficient"]
    return 1.0 / (1.0 + np.exp(-z))


def auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half); None when only one class is present."""
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, score))


def evaluate(panel: pl.DataFrame, start_month: int = 1, holdout: int = HOLDOUT_QUARTERS) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rolling-origin evaluation: per held-out quarter and pooled ('all held-out'), and calibration by decile."""
    quarters = sorted(panel["quarter_start"].unique().to_list()) if panel.height else []
    rows, held = [], []
    for train_quarters, q in rolling_splits(quarters, holdout):
        train = panel.filter(pl.col("quarter_start").is_in(train_quarters))
        test = panel.filter(pl.col("quarter_start") == q)
        if train["won"].n_unique() < 2 or test.is_empty():
            continue
        predicted = probabilities(fit(train), test)
        # The baseline's probability: the training win rate of partners that did / did not win last quarter.
        rate = train.group_by("won_last_quarter").agg(pl.col("won").mean().alias("p"))
        baseline = test.join(rate, on="won_last_quarter", how="left")["p"].fill_null(train["won"].mean()).to_numpy()
        y = test["won"].to_numpy()
        rows.append(
            {
                "fiscal_quarter": fiscal.quarter_label(q, start_month),
                "quarter_start": q,
                "trained_through": max(train_quarters),
                "train_rows": train.height,
                "partners": test.height,
                "won": int(y.sum()),
                "auc_model": auc(y, predicted),
                "auc_baseline": auc(y, test["won_last_quarter"].to_numpy()),
                "brier_model": float(np.mean((predicted - y) ** 2)),
                "brier_baseline": float(np.mean((baseline - y) ** 2)),
            }
        )
        held.append(test.select("won", "won_last_quarter").with_columns(model=pl.Series(predicted), baseline=pl.Series(baseline)))
    if not held:
        return pl.DataFrame(schema=EVALUATION_SCHEMA), pl.DataFrame(schema=CALIBRATION_SCHEMA)
    pooled = pl.concat(held)
    y = pooled["won"].to_numpy()
    rows.append(
        {
            "fiscal_quarter": "all held-out",
            "quarter_start": None,
            "trained_through": None,
            "train_rows": None,
            "partners": pooled.height,
            "won": int(y.sum()),
            "auc_model": auc(y, pooled["model"].to_numpy()),
            "auc_baseline": auc(y, pooled["won_last_quarter"].to_numpy()),
            "brier_model": float(np.mean((pooled["model"].to_numpy() - y) ** 2)),
            "brier_baseline": float(np.mean((pooled["baseline"].to_numpy() - y) ** 2)),
        }
    )
    return pl.DataFrame(rows, schema=EVALUATION_SCHEMA), calibration(pooled)


def calibration(pooled: pl.DataFrame) -> pl.DataFrame:
    """Predicted vs actual: the model by decile of its prediction, the baseline by its two groups."""
    deciles = (
        pooled.with_columns(((pl.col("model").rank(method="ordinal") - 1) * 10 // pl.len() + 1).cast(pl.Int64).alias("bin"))
        .group_by("bin")
        .agg(
            pl.len().cast(pl.Int64).alias("partners"),
            pl.col("model").mean().alias("mean_predicted"),
            pl.col("won").mean().alias("actual_rate"),
        )
        .with_columns(pl.lit("model").alias("predictor"), pl.format("decile {}", pl.col("bin")).alias("label"))
    )
    groups = (
        pooled.group_by("won_last_quarter")
        .agg(
            pl.len().cast(pl.Int64).alias("partners"),
            pl.col("baseline").mean().alias("mean_predicted"),
            pl.col("won").mean().alias("actual_rate"),
        )
        .with_columns(
            pl.lit("baseline").alias("predictor"),
            pl.col("won_last_quarter").cast(pl.Int64).alias("bin"),
            pl.when(pl.col("won_last_quarter") == 1)
            .then(pl.lit("won last quarter"))
            .otherwise(pl.lit("did not win last quarter"))
            .alias("label"),
        )
    )
    columns = list(CALIBRATION_SCHEMA)
    return (
        pl.concat([deciles.select(columns), groups.select(columns)])
        .cast(CALIBRATION_SCHEMA)
        .sort("predictor", "bin", descending=[True, False])
    )


def beats_baseline(evaluation: pl.DataFrame) -> bool:
    """True when the pooled held-out AUC of the model is above the baseline's."""
    pooled = evaluation.filter(pl.col("fiscal_quarter") == "all held-out")
    if pooled.is_empty():
        return False
    model, baseline = pooled["auc_model"][0], pooled["auc_baseline"][0]
    return model is not None and (baseline is None or model > baseline)


def store_tables(con: duckdb.DuckDBPyConnection, panel: pl.DataFrame, start_month: int = 1) -> None:
    """Evaluate on held-out quarters, fit on every complete quarter, and write the three tables."""
    evaluation, calibrated = evaluate(panel, start_month)
    usable = panel.height > 0 and panel["won"].n_unique() == 2
    coefficients = fit(panel) if usable else pl.DataFrame(schema=COEFFICIENT_SCHEMA)
    for name, frame in ((COEFFICIENTS, coefficients), (EVALUATION, evaluation), (CALIBRATION, calibrated)):
        queries.store_table(con, name, frame)


def store_win_model(con: duckdb.DuckDBPyConnection, settings: object) -> None:
    """Derived tables (loaders/derived.py): the win model's fit, evaluation and calibration for this build."""
    partners = con.sql("select count(*) from partners").fetchall()[0][0]
    # Too few partners to learn from (and a build of a tiny program stays fast): empty tables, model hidden.
    quarters = complete_quarters(con) if partners >= MIN_PARTNERS else []
    store_tables(con, training_panel(con, quarters), int(settings.fiscal_year_start_month))  # type: ignore[attr-defined]


def stored(con: duckdb.DuckDBPyConnection, table: str, schema: dict) -> pl.DataFrame:
    """A stored win-model table, or an empty frame when this database was built without it."""
    if not queries.has_tables(con, table):
        return pl.DataFrame(schema=schema)
    return con.sql("select * from " + table).pl().cast(schema)  # noqa: S608 (table names are module constants)


def predict(con: duckdb.DuckDBPyConnection, inputs: pl.DataFrame) -> pl.DataFrame:
    """P(won deal next quarter) per partner from the health inputs on a day; empty when the model is hidden."""
    empty = pl.DataFrame(schema={"partner_id": pl.String, "p_won_next_quarter": pl.Float64})
    coefficients = stored(con, COEFFICIENTS, COEFFICIENT_SCHEMA)
    if coefficients.is_empty() or inputs.is_empty() or not beats_baseline(stored(con, EVALUATION, EVALUATION_SCHEMA)):
        return empty
    rows = features(inputs)
    return pl.DataFrame({"partner_id": rows["partner_id"], "p_won_next_quarter": probabilities(coefficients, rows)})


def win_model_evaluation(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The win model against the baseline 'won a deal last quarter' on held-out quarters: AUC and Brier score.

    Grain: one row per held-out fiscal quarter, plus 'all held-out' (pooled)
    Money: none
    Scope: program
    """
    return stored(con.cursor(), EVALUATION, EVALUATION_SCHEMA).with_columns(
        pl.lit(beats_baseline(stored(con.cursor(), EVALUATION, EVALUATION_SCHEMA))).alias("model_shown")
    )


def win_model_calibration(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Predicted vs actual share winning a deal next quarter on held-out quarters: the model by decile, the baseline by group.

    Grain: one row per predictor x bin (model deciles 1-10, baseline groups 0-1)
    Money: none
    Scope: program
    """
    return stored(con.cursor(), CALIBRATION, CALIBRATION_SCHEMA)


def win_model_coefficients(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The fitted win model: each feature's standardised coefficient (log-odds per standard deviation).

    Grain: one row per feature, plus the intercept
    Money: none
    Scope: program
    """
    return stored(con.cursor(), COEFFICIENTS, COEFFICIENT_SCHEMA).sort(pl.col("coefficient").abs(), descending=True)
