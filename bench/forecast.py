"""Pipeline forecast benchmark: page compute time at demo scale 1 and 10, and the backtest
errors of each method on the demo program and on the Maven CRM export.

Run `.venv/bin/python -m bench.forecast` (builds what it needs under a temporary folder, or
reuses `--db1 / --db10 / --maven-db`). Writes its section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

import polars as pl

import queries
from loaders.build import build_database
from queries import forecast

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "forecast"
MAVEN = PROJECT.parent / "shared" / "data" / "maven-crm"
PAGE_OUTPUTS = ("pipeline_forecast", "forecast_deals", "forecast_backtest", "forecast_accuracy")


def demo_db(folder: Path, scale: float) -> Path:
    from loaders.demo import write_demo

    extracts = folder / f"demo{scale:g}"
    write_demo(extracts, scale=scale, seed=7)
    db = folder / f"demo{scale:g}.duckdb"
    build_database(extracts, db)
    return db


def page_seconds(db: Path, repeats: int = 3) -> tuple[float, float, int]:
    """Cold (first) and best-of-`repeats` time to compute every output the page shows; open deals."""
    con = queries.connect(db)
    times = []
    for _ in range(repeats):
        forecast._MEMO.clear()
        start = time.perf_counter()
        for name in PAGE_OUTPUTS:
            queries.execute(con, name)
        times.append(time.perf_counter() - start)
    deals = queries.execute(con, "forecast_deals").height
    return times[0], min(times), deals


def accuracy_rows(db: Path, segment: str) -> pl.DataFrame:
    con = queries.connect(db)
    return queries.execute(con, "forecast_accuracy", segment=segment)


def table(frame: pl.DataFrame) -> str:
    lines = ["| method | quarters | MAPE | bias | in P10-P90 | times closest |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in frame.iter_rows(named=True):
        coverage = "n/a" if row["coverage_pct"] is None else f"{row['coverage_pct']:.0f}%"
        lines.append(
            f"| {row['method_label']} | {row['quarters']} | {row['mape']:.1f}% | {row['bias_pct']:+.1f}% | {coverage} "
            f"| {row['times_closest']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db1", type=Path, help="a built demo at scale 1 (default: build one)")
    parser.add_argument("--db10", type=Path, help="a built demo at scale 10 (default: build one)")
    parser.add_argument("--maven-db", type=Path, help="the Maven export built with examples/maven-crm.toml")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-forecast-"))
    db1 = args.db1 or demo_db(folder, 1)
    db10 = args.db10 or demo_db(folder, 10)
    maven = args.maven_db
    if maven is None and MAVEN.is_dir():
        maven = folder / "maven.duckdb"
        build_database(MAVEN, maven, settings_path=PROJECT / "examples" / "maven-crm.toml")

    load = os.getloadavg()[0]
    timing = []
    for label, db in (("1", db1), ("10", db10)):
        cold, best, deals = page_seconds(db)
        timing.append(f"| {label} | {deals:,} | {cold:.2f} s | {best:.2f} s |")
        print(f"scale {label}: {deals} open deals, cold {cold:.2f} s, best {best:.2f} s")
    demo = accuracy_rows(db1, "partner")
    print(demo)
    parts = [
        f"<!-- {SECTION} -->",
        "## Pipeline forecast",
        "",
        "Time to compute everything the Pipeline forecast page shows (forecast with 10,000 simulations, open deals, "
        "backtest of up to 8 quarters, verdict), from a cold start of the module's memo; no Streamlit cache. "
        f"Machine load average during the run: {load:.1f} on {os.cpu_count()} CPUs. "
        "Command: `.venv/bin/python -m bench.forecast`.",
        "",
        "| demo scale | open deals | first run | best of 3 |",
        "| ---: | ---: | ---: | ---: |",
        *timing,
        "",
        "Backtest on the demo program (scale 1, seed 7), partner pipeline (sourced + influenced):",
        "",
        table(demo),
        "",
        f"Verdict: {demo['verdict'][0] if demo.height else 'none'}",
    ]
    if maven is not None:
        rows = accuracy_rows(maven, "all")
        print(rows)
        parts += [
            "",
            "Backtest on the Maven CRM export (no partners, so all pipeline; no opportunity_history, so from created "
            "and close dates only; the 2,089 open deals have no amount or close date and are quarantined, so the live "
            "forecast is empty):",
            "",
            table(rows) if rows.height else "(no quarter to backtest)",
            "",
            f"Verdict: {rows['verdict'][0] if rows.height else 'none'}",
        ]
    parts.append(f"<!-- /{SECTION} -->")
    section = "\n".join(parts)
    if args.no_write:
        print(section)
        return
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"<!-- {SECTION} -->.*?<!-- /{SECTION} -->", re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
