"""Partner health score and win model on the demo program: the figures issue 11 asks for.

- The win model (P(won deal next quarter)) against the baseline "won a deal last quarter" on
  held-out quarters (rolling origin, from the tables the build stored): AUC, Brier score,
  calibration by decile.
- The health score's correlation with next-quarter partner revenue: for each held-out
  quarter, the score as of the day before it against each partner's attributed revenue in
  it (Spearman and Pearson), beside trailing-12-month revenue alone and the score without
  shrinkage (k = 0).
- Time to compute `partner_health` and to fit the model at build.

Run `.venv/bin/python -m bench.health_score_eval --db /tmp/hs/d1.duckdb` (a built demo, scale 1:
`python -m loaders demo /tmp/hs/d1 --scale 1` then `python -m loaders build /tmp/hs/d1 --db /tmp/hs/d1.duckdb`).
Writes its section of bench/RESULTS.md (`<!-- health_score -->`).
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
from scipy import stats

import queries
from queries.health import health_score, win_model
from settings import Settings

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "health_score"


def correlations(con: duckdb.DuckDBPyConnection, quarters: list) -> pl.DataFrame:
    """Per held-out quarter: rank and linear correlation of predictors with next-quarter revenue."""
    wins = queries.execute(con, "health_won_deals_by_quarter")
    weights = health_score.health_weights(con)
    k = health_score.prior_months(con)
    rows = []
    for q in quarters:
        inputs = health_score.inputs_as_of(con, q - timedelta(days=1))
        scored = health_score.score_frame(inputs, weights, k).select("partner_id", "health_score", "revenue_12m")
        plain = health_score.score_frame(inputs, weights, 0).select("partner_id", pl.col("health_score").alias("score_k0"))
        revenue = wins.filter(pl.col("quarter_start") == q).select("partner_id", pl.col("revenue").cast(pl.Float64))
        frame = (
            scored.join(plain, on="partner_id")
            .join(revenue, on="partner_id", how="left")
            .with_columns(pl.col("revenue").fill_null(0.0), pl.col("revenue_12m").cast(pl.Float64))
        )
        y = frame["revenue"].to_numpy()
        row = {"quarter": str(q), "partners": frame.height}
        for name in ("health_score", "score_k0", "revenue_12m"):
            x = frame[name].to_numpy()
            row[f"spearman_{name}"] = float(stats.spearmanr(x, y).statistic)
            row[f"pearson_{name}"] = float(stats.pearsonr(x, y).statistic)
        rows.append(row)
    return pl.DataFrame(rows)


def fit_seconds(db: Path) -> float:
    """Time of the build step that fits and evaluates the win model, on a writable copy."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy.duckdb"
        shutil.copy(db, copy)
        con = duckdb.connect(str(copy))
        win_model.store_tables(duckdb.connect(), pl.DataFrame())  # import sklearn outside the timing
        start = time.perf_counter()
        win_model.store_win_model(con, Settings())
        seconds = time.perf_counter() - start
        con.close()
    return seconds


def markdown(evaluation: pl.DataFrame, calibration: pl.DataFrame, corr: pl.DataFrame, timings: dict, db: Path) -> str:
    lines = [
        f"<!-- {SECTION} -->",
        "## Partner health score and P(won deal next quarter) (issue 11)",
        "",
        f"Demo program, scale 1 (`{db}`), built by `python -m loaders demo DIR --scale 1` and `python -m loaders build`. "
        "Measured by `.venv/bin/python -m bench.health_score_eval --db FILE`.",
        "",
        "### Win model vs baseline on held-out quarters",
        "",
        "Each quarter is predicted by a logistic regression trained only on the quarters before it (features as of the "
        "day before the quarter); the baseline predicts from 'won a deal last quarter'. Label: a partner-attributed "
        "(linear) won deal closing in the quarter.",
        "",
        "| quarter | trained through | partners | won | AUC model | AUC baseline | Brier model | Brier baseline |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in evaluation.iter_rows(named=True):
        lines.append(
            f"| {r['fiscal_quarter']} | {r['trained_through'] or ''} | {r['partners']} | {r['won']} | "
            f"{r['auc_model']:.3f} | {r['auc_baseline']:.3f} | {r['brier_model']:.3f} | {r['brier_baseline']:.3f} |"
        )
    shown = bool(evaluation["model_shown"].any())
    lines += ["", f"Model shown on the pages: **{'yes' if shown else 'no'}** (pooled held-out AUC above the baseline's).", ""]
    lines += ["Calibration, pooled held-out partner-quarters:", ""]
    lines += ["| predictor | bin | partner-quarters | mean predicted | actual |", "| --- | --- | ---: | ---: | ---: |"]
    for r in calibration.iter_rows(named=True):
        lines.append(
            f"| {r['predictor']} | {r['label']} | {r['partners']} | {r['mean_predicted']:.1%} | {r['actual_rate']:.1%} |"
        )
    lines += [
        "",
        "### Health score vs next-quarter partner revenue",
        "",
        "Score as of the day before each quarter against the partner's attributed (linear) revenue in the quarter; "
        "partners on the books that day (no revenue = 0). `k=0` is the score without shrinkage toward the segment.",
        "",
        "| quarter | partners | Spearman score | Spearman score k=0 | Spearman revenue 12m | Pearson score | "
        "Pearson score k=0 | Pearson revenue 12m |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in corr.iter_rows(named=True):
        lines.append(
            f"| {r['quarter']} | {r['partners']} | {r['spearman_health_score']:.3f} | {r['spearman_score_k0']:.3f} | "
            f"{r['spearman_revenue_12m']:.3f} | {r['pearson_health_score']:.3f} | {r['pearson_score_k0']:.3f} | "
            f"{r['pearson_revenue_12m']:.3f} |"
        )
    mean = corr.select(pl.exclude("quarter", "partners").mean()).row(0, named=True)
    lines += [
        f"| mean | | {mean['spearman_health_score']:.3f} | {mean['spearman_score_k0']:.3f} | "
        f"{mean['spearman_revenue_12m']:.3f} | "
        f"{mean['pearson_health_score']:.3f} | {mean['pearson_score_k0']:.3f} | {mean['pearson_revenue_12m']:.3f} |",
        "",
        f"Timings: `partner_health` (all partners, one day) {timings['health']:.2f} s warm; "
        f"win model panel + evaluation + fit at build {timings['fit']:.1f} s.",
        f"<!-- /{SECTION} -->",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a built demo database (scale 1)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()
    con = duckdb.connect(str(args.db), read_only=True)
    evaluation = win_model.win_model_evaluation(con)
    calibration = win_model.win_model_calibration(con)
    held_out = [q for q in evaluation["quarter_start"].to_list() if q is not None]
    corr = correlations(con, held_out)
    health_score.partner_health(con)
    start = time.perf_counter()
    health_score.partner_health(con)
    timings = {"health": time.perf_counter() - start}
    con.close()
    timings["fit"] = fit_seconds(args.db)
    text = markdown(evaluation, calibration, corr, timings, args.db)
    print(text)
    if not args.no_write:
        current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
        pattern = re.compile(rf"<!-- {SECTION} -->.*?<!-- /{SECTION} -->", re.DOTALL)
        if pattern.search(current):
            current = pattern.sub(lambda _: text, current)
        else:
            current = current.rstrip("\n") + "\n\n" + text + "\n"
        RESULTS.write_text(current, encoding="utf-8")


if __name__ == "__main__":
    main()
