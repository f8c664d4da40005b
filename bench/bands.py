"""Do the forecast's P10-P90 bands hold? Backtest coverage per pipeline and method.

    python -m bench.bands --db FILE

For each pipeline (segment) and banded method, over the backtested quarters: the mean error and
bias against the actual (everything closed won in the quarter), how often each band held what
its method forecasts (`in_band`: the historical method the actual, CRM weighted what the deals it
counted on the quarter's eve won), and, to compare, how often the band held the actual and how
often it held what those eve deals won. For the historical method, the mean of its new business
(deals created in the quarter, forecast from past quarters) beside what such deals won. Computed
from the extracts (the stored forecast is not read), so it measures the code that runs it.
Prints a Markdown table.

    python -m bench.bands --db FILE --involvement

Per backtested quarter, where each pipeline's actual came from: deals of each involvement on the
quarter's eve (a deal direct then may be influenced when it closes: the historical method learns
that, `forecast._migration`) and deals created in the quarter.

    python -m bench.bands --db FILE --shock-noise

How much of the quarter-to-quarter swing in the won share is deal-by-deal luck, per involvement
and pooled, over every past eve (the deals not stale on it): the observed standard deviation of
each eve's share of its amount won in time, relative to its mean; the deviation luck alone would
give it (each deal won with its involvement and stage's won share: sum of amount^2 p (1 - p) over
amount^2); and what is left, the square root of the first variance less the mean of the second
(method of moments, 0 when luck explains it all). The simulation draws the luck deal by deal, so
only what is left is a shared shock.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

import queries
from queries import fiscal
from queries.forecast import methods as forecast


def coverage(db: Path) -> pl.DataFrame:
    queries.READ_STORED = False
    con = queries.connect(db)
    backtest = queries.execute(con, "forecast_backtest")
    con.close()
    rows = []
    for segment in forecast.SEGMENTS:
        for method in ("historical", "crm_weighted"):
            quarters = backtest.filter((pl.col("segment") == segment) & (pl.col("method") == method) & (pl.col("actual") > 0))
            n = quarters.height

            def held(column: str, frame: pl.DataFrame = quarters) -> str:
                inside = frame.filter(pl.col(column).is_between(pl.col("p10"), pl.col("p90"))).height
                return f"{inside}/{frame.height}"

            error = (pl.col("forecast") - pl.col("actual")) / pl.col("actual") * 100
            stats = quarters.select(pl.col("abs_pct_error").mean(), error.mean(), pl.col("in_band").sum())
            rows.append(
                {
                    "pipeline": segment,
                    "method": forecast.METHODS[method],
                    "quarters": n,
                    "mean error": f"{stats[0, 0]:.1f}%",
                    "bias": f"{stats[0, 1]:+.1f}%",
                    "in P10-P90 (as judged)": f"{stats[0, 2]}/{n}",
                    "actual in P10-P90": held("actual"),
                    "pipeline's outcome in P10-P90": held("pipeline_actual"),
                    "new business: forecast / actual (mean)": (
                        f"{money(quarters['new_business'].mean())} / {money(quarters['new_business_actual'].mean())}"
                        if method == "historical"
                        else ""
                    ),
                }
            )
    return pl.DataFrame(rows)


def involvement(db: Path) -> pl.DataFrame:
    """Amount won per backtested quarter x final involvement x involvement on the eve ('new': created in the quarter)."""
    queries.READ_STORED = False
    con = queries.connect(db)
    filters = forecast._filters(None, None, None, None)
    starts = queries.execute(con, "forecast_backtest")["quarter_start"].unique().sort().to_list()
    eves = forecast._snapshots(con, filters).select("quarter_start", "opportunity_id", pl.col("segment").alias("on_the_eve"))
    won = forecast._outcomes(con, filters).filter(pl.col("in_scope") & pl.col("is_won"))
    _, start_month = forecast._meta(con)
    con.close()
    frames = []
    for start in starts:
        end = fiscal.add_quarters(start, 1)
        in_quarter = won.filter((pl.col("close_date") >= start) & (pl.col("close_date") < end))
        frames.append(
            in_quarter.join(eves.filter(pl.col("quarter_start") == start), on="opportunity_id", how="left")
            .with_columns(
                pl.lit(fiscal.quarter_label(start, start_month)).alias("quarter"),
                pl.when(pl.col("on_the_eve").is_not_null())
                .then(pl.col("on_the_eve"))
                .when(pl.col("created_at") >= start)
                .then(pl.lit("new"))
                .otherwise(pl.lit("other"))
                .alias("on_the_eve"),
            )
            .group_by("quarter", pl.col("segment").alias("at_close"), "on_the_eve")
            .agg(pl.col("amount").sum())
        )
    table = pl.concat(frames).pivot(on="on_the_eve", index=["quarter", "at_close"], values="amount").fill_null(0.0)
    kinds = [c for c in ("partner_sourced", "partner_influenced", "direct", "new", "other") if c in table.columns]
    return table.select("quarter", "at_close", *kinds).sort("at_close", "quarter")


def shock_noise(db: Path) -> pl.DataFrame:
    """Per involvement and pooled: eves, observed, luck-alone and net relative deviation of the won share."""
    queries.READ_STORED = False
    con = queries.connect(db)
    filters = forecast._filters(None, None, None, None)
    day, start_month = forecast._meta(con)
    examples = forecast._not_stale(
        forecast._examples(forecast._snapshots(con, filters), forecast._outcomes(con, filters), day, start_month)
    )
    con.close()
    won = (pl.col("outcome") == "won").cast(pl.Float64)
    deals = examples.with_columns(won.mean().over("segment", "stage").alias("p"))
    rows = []
    for name in (*forecast.BASE_SEGMENTS, "pooled"):
        chosen = deals if name == "pooled" else deals.filter(pl.col("segment") == name)
        eves = chosen.group_by("quarter_start").agg(
            (pl.col("amount") * won).sum().alias("won"),
            pl.col("amount").sum().alias("amount"),
            (pl.col("amount") ** 2 * pl.col("p") * (1 - pl.col("p"))).sum().alias("luck"),
        )
        share = (eves["won"] / eves["amount"]).to_numpy()
        relative = share / share.mean()
        luck = (eves["luck"] / eves["amount"] ** 2).to_numpy() / share.mean() ** 2
        net = max(0.0, relative.var() - luck.mean())
        rows.append(
            {
                "pipeline": name,
                "eves": len(share),
                "observed sd": f"{relative.std():.3f}",
                "luck alone sd": f"{luck.mean() ** 0.5:.3f}",
                "net shock sd": f"{net**0.5:.3f}",
            }
        )
    return pl.DataFrame(rows)


def money(amount: float) -> str:
    return f"${amount / 1e6:.2f}M"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bands")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--involvement", action="store_true", help="where each quarter's actual came from, by involvement")
    parser.add_argument("--shock-noise", action="store_true", help="how much of the won share's swing is deal-by-deal luck")
    args = parser.parse_args()
    if args.shock_noise:
        frame = shock_noise(args.db)
    elif args.involvement:
        frame = involvement(args.db)
        frame = frame.with_columns([pl.col(c).map_elements(money, return_dtype=pl.String) for c in frame.columns[2:]])
    else:
        frame = coverage(args.db)
    print("| " + " | ".join(frame.columns) + " |")
    print("| " + " | ".join("---" for _ in frame.columns) + " |")
    for row in frame.iter_rows():
        print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
