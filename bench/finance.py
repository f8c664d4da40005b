"""The CFO's files at scale: the scenario workbook and a partner statement, gathered and written.

`python -m bench.finance [--scales 1,10] [--runs 3]`. For each scale it reuses the demo
program that `bench.pages` caches under bench/cache/ (generating and building it when missing),
then times, on one read-only connection with warm DuckDB caches (median of the runs):
- moves: `attribution_moves` between linear and time decay booked at touch dates, all time;
- workbook: `queries.workbook.gather` (2 and 4 scenarios, all time) and writing the .xlsx;
- statement: `queries.partner.statement.gather` for the partner with the most credit, all time, and its .xlsx.
Writes its section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date

from bench.pages import CACHE, RESULTS, ensure_demo, timed_build

SCENARIOS = [
    {"model": "linear"},
    {"model": "time_decay", "booking_basis": "touch_date"},
    {"model": "markov"},
    {"model": "last_touch", "rates": [{"tier": "gold", "rate": 0.2}, {"rate": 0.05}]},
]


def median_seconds(step: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def bench_scale(scale: float, runs: int) -> str:
    import json

    import queries
    from queries import workbook
    from queries.partner import statement
    extracts, _ = ensure_demo(scale)
    db = CACHE / f"scale{scale:g}" / "pulse.duckdb"
    if not db.exists():
        timed_build(extracts, db)
    con = queries.connect(db)
    run = lambda name, **params: queries.execute(con, name, **params)  # noqa: E731
    start, end = con.sql("select min(close_date), max(close_date) from opportunities").fetchall()[0]
    deals, partners = con.sql("select (select count(*) from opportunities), (select count(*) from partners)").fetchall()[0]
    rows = []
    seconds, moves = median_seconds(
        lambda: run(
            "attribution_moves",
            scenario_a=json.dumps(SCENARIOS[0]),
            scenario_b=json.dumps(SCENARIOS[1]),
            start_date=start,
            end_date=end,
        ),
        runs,
    )
    rows.append(("moves, linear to time decay at touch dates", f"{moves.height:,} rows", seconds))  # type: ignore[union-attr]
    for count in (2, 4):
        seconds, book = median_seconds(lambda c=count: workbook.gather(run, SCENARIOS[:c], ("A", "B"), start, end), runs)
        rows.append((f"workbook: gather {count} scenarios", f"{book.frames['A'].height:,} partner x quarter rows", seconds))  # type: ignore[union-attr]
        seconds, data = median_seconds(lambda b=book: workbook.scenario_workbook(b), runs)
        rows.append((f"workbook: write {count} scenarios", f"{len(data) / 1024:,.0f} KB", seconds))  # type: ignore[arg-type]
    top = con.sql(
        "select partner_id from attribution_credit_default where model = 'linear' group by 1 order by sum(credit) desc limit 1"
    ).fetchall()[0][0]
    seconds, doc = median_seconds(lambda: statement.gather(run, top, start, end), runs)
    rows.append((f"statement: gather ({top}, all time)", f"{doc.deals.height:,} deals", seconds))  # type: ignore[union-attr]
    seconds, data = median_seconds(lambda: workbook.statement_workbook(doc), runs)  # type: ignore[arg-type]
    rows.append(("statement: write .xlsx", f"{len(data) / 1024:,.0f} KB", seconds))  # type: ignore[arg-type]
    con.close()
    lines = [
        f"### Scale {scale:g} (measured {date.today().isoformat()}): {partners:,} partners, {deals:,} opportunities",
        "",
        "| step | size | median (s) |",
        "| --- | --- | --- |",
        *[f"| {step} | {size} | {seconds:.2f} |" for step, size, seconds in rows],
        "",
    ]
    return "\n".join(lines)


def write_section(body: str) -> None:
    start, end = "<!-- finance -->", "<!-- /finance -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    section = f"{start}\n{body}\n{end}"
    if start in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.finance")
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    header = [
        "## Scenario workbook and partner statements",
        "",
        f"On {os.cpu_count()} cores, {memory_gb:.0f} GB, {platform.python_implementation()} {platform.python_version()}, "
        f"by `python -m bench.finance --scales {args.scales} --runs {args.runs}` on the demo program (all time), one "
        "read-only connection, median of the runs (Streamlit's cache off). On the page the scenarios' frames are "
        "already cached, so the workbook's download costs about its write time.",
        "",
    ]
    blocks = [bench_scale(float(scale), args.runs) for scale in args.scales.split(",")]
    write_section("\n".join(header + blocks))
    print(RESULTS.read_text().split("<!-- finance -->")[1].split("<!-- /finance -->")[0])


if __name__ == "__main__":
    main()
