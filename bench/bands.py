"""Do the forecast's P10-P90 bands hold? Backtest coverage per pipeline and method.

    python -m bench.bands --db FILE

For each pipeline (segment) and banded method, over the backtested quarters: how often the
actual (everything closed won in the quarter) fell within P10-P90, and how often what the
deals open on the quarter's eve won did: the bands simulate those deals only, so the gap
between the two columns is what deals created and won within the quarter add. Computed from
the extracts (the stored forecast is not read), so it measures the code that runs it.
Prints a Markdown table.
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
    no_filters = forecast._filters(None, None, None, None)
    backtest = queries.execute(con, "forecast_backtest")
    snapshots, finals = forecast._snapshots(con, no_filters), forecast._finals(con, no_filters)
    won = finals.filter(pl.col("is_won"))
    rows = []
    for segment, index in forecast.SEGMENTS.items():
        base = [forecast.BASE_SEGMENTS[i] for i in index]
        for method in ("historical", "crm_weighted"):
            quarters = backtest.filter((pl.col("segment") == segment) & (pl.col("method") == method) & (pl.col("actual") > 0))
            in_actual = in_open = 0
            created_share = []
            for row in quarters.iter_rows(named=True):
                start = row["quarter_start"]
                end = fiscal.add_quarters(start, 1)
                open_ids = snapshots.filter(pl.col("quarter_start") == start)["opportunity_id"].implode()
                closed_in = pl.col("close_date").is_between(start, end, closed="left")
                in_quarter = won.filter(closed_in & pl.col("segment").is_in(base))
                from_open = round(in_quarter.filter(pl.col("opportunity_id").is_in(open_ids))["amount"].sum(), 2)
                in_actual += row["p10"] <= row["actual"] <= row["p90"]
                in_open += row["p10"] <= from_open <= row["p90"]
                created_share.append(1 - from_open / row["actual"])
            n = quarters.height
            rows.append(
                {
                    "pipeline": segment,
                    "method": forecast.METHODS[method],
                    "quarters": n,
                    "actual in P10-P90": f"{in_actual}/{n}",
                    "won from deals open on the eve in P10-P90": f"{in_open}/{n}",
                    "actual from deals created in the quarter": f"{sum(created_share) / n:.0%}" if n else "n/a",
                }
            )
    con.close()
    return pl.DataFrame(rows)


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
