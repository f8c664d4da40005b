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
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

import queries
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


def money(amount: float) -> str:
    return f"${amount / 1e6:.2f}M"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bands")
    parser.add_argument("--db", type=Path, required=True)
    frame = coverage(parser.parse_args().db)
    print("| " + " | ".join(frame.columns) + " |")
    print("| " + " | ".join("---" for _ in frame.columns) + " |")
    for row in frame.iter_rows():
        print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
