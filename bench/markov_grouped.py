"""Markov (grouped) against the exact Markov model, on a program where both run.

`python -m bench.markov_grouped --db FILE [--write]` (e.g. the scale-10 demo database that
`bench.pages` or `bench.build` leaves under bench/cache/). On the database's stored touch paths
(the build's lookback), it solves the chain over partners (exact, whatever the settings' limit)
and over partner groups (type x tier x region, what a program above the limit gets), books both
as whole-cent credit per won deal x partner (`credit_at_close`), and reports how much credit the
grouping moves: in total (half the sum of absolute differences, as a share of the credited
revenue: what one model gives some partners and takes from others), per partner over all its
deals, and per partner group. `--write` puts the figures in bench/RESULTS.md; the glossary's
"markov (grouped)" entry quotes them.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from bench import write_section
from queries.attribution import credit as attribution
from queries.attribution.touch_paths import touch_paths

SECTION = "markov_grouped"


def compare(con: duckdb.DuckDBPyConnection) -> dict:
    """Credit per won deal x partner under the exact and the grouped chain, and what moves between them."""
    lookback = int(attribution.model_params(con)["lookback_days"])
    paths = touch_paths(con, lookback)
    won_touch = paths.is_won[paths.deal]
    started = time.perf_counter()
    exact = attribution.markov_touch_weights(paths, limit=len(paths.partner_ids) + 1)[won_touch]
    exact_seconds = time.perf_counter() - started
    started = time.perf_counter()
    groups = attribution.partner_groups(con, paths.partner_ids)
    grouped = attribution.markov_touch_weights(paths, groups=groups)[won_touch]
    grouped_seconds = time.perf_counter() - started
    credit = attribution.credit_at_close(paths.won(), {"exact": exact, "grouped": grouped}, attribution.start_month(con))
    wide = (
        credit.select("model", "opportunity_id", "partner_id", pl.col("credit").cast(pl.Float64))
        .pivot("model", index=["opportunity_id", "partner_id"], values="credit")
        .fill_null(0.0)
    )
    revenue = float(wide["exact"].sum())
    by_partner = wide.group_by("partner_id").agg(pl.col("exact", "grouped").sum())
    group_of = pl.DataFrame({"partner_id": paths.partner_ids, "group": groups})
    by_group = by_partner.join(group_of, on="partner_id").group_by("group").agg(pl.col("exact", "grouped").sum())
    credited = by_partner.filter(pl.col("exact") > 0)
    relative = ((credited["grouped"] - credited["exact"]).abs() / credited["exact"]).to_numpy()
    chain = np.unique(paths.partner)
    return {
        "partners": len(chain),
        "groups": len(np.unique(groups[chain])),
        "won_deals": int(paths.is_won.sum()),
        "revenue": revenue,
        "total_sum": float(wide["grouped"].sum()),
        "moved_deal_partner": 0.5 * float((wide["grouped"] - wide["exact"]).abs().sum()) / revenue,
        "moved_partner": 0.5 * float((by_partner["grouped"] - by_partner["exact"]).abs().sum()) / revenue,
        "moved_group": 0.5 * float((by_group["grouped"] - by_group["exact"]).abs().sum()) / revenue,
        "partner_median": float(np.median(relative)),
        "partner_p90": float(np.quantile(relative, 0.9)),
        "partner_within_10": float(np.mean(relative <= 0.10)),
        "partners_credited": credited.height,
        "exact_seconds": exact_seconds,
        "grouped_seconds": grouped_seconds,
    }


def section(db: Path, figures: dict) -> str:
    return "\n".join(
        [
            "## Markov (grouped) against exact Markov",
            "",
            f"Measured {date.today().isoformat()} on `{db.parent.name}/{db.name}` (the demo program, seed 7) on a shared "
            f"2-core machine (load average {os.getloadavg()[0]:.1f}; times provisional). Command: "
            f"`.venv/bin/python -m bench.markov_grouped --db {db} --write`. Both chains from the same stored paths "
            "(the build's lookback), booked as whole-cent credit per won deal x partner. Credit moved = half the "
            "sum of absolute differences (what the grouped model gives some and takes from others), as a share of "
            "the credited revenue.",
            "",
            "| partners in the chain | groups | won deals | credited revenue | moved, deal x partner | moved, partner totals "
            "| moved, group totals | per partner: median change | 90th percentile | within 10% | exact solve | grouped solve |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {figures['partners']:,} | {figures['groups']:,} | {figures['won_deals']:,} | ${figures['revenue']:,.0f} "
            f"| {figures['moved_deal_partner']:.1%} | {figures['moved_partner']:.1%} | {figures['moved_group']:.1%} "
            f"| {figures['partner_median']:.1%} | {figures['partner_p90']:.1%} | {figures['partner_within_10']:.0%} "
            f"of {figures['partners_credited']:,} | {figures['exact_seconds']:.1f} s | {figures['grouped_seconds']:.1f} s |",
            "",
            "Per partner: |grouped - exact| / exact of each credited partner's total over all its deals.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.markov_grouped", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args()
    con = duckdb.connect(str(args.db), read_only=True)
    figures = compare(con)
    con.close()
    text = section(args.db, figures)
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
