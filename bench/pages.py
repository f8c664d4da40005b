"""Page timings at scale: generate the demo program, build it, and time every query each page runs.

`python -m bench.pages [--scales 1,10,100] [--runs 5]` (or `make bench`). For each scale it
generates the demo extracts once (cached under bench/cache/), builds the database (timed, with
the build's peak memory), then for each page records the outputs the page really calls (by
running the page once through AppTest with `queries.serving.run` wrapped), and times them
on a fresh connection (cold, right after the build) and then warm (median of `runs`). Beside
each page: the floor, the time DuckDB takes to scan the largest table the page reads. The app's
peak memory is measured in a child process that renders every page.
Writes its section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT = BENCH_DIR.parent
CACHE = BENCH_DIR / "cache"
RESULTS = BENCH_DIR / "RESULTS.md"
PAGES = ["health", "forecast", "changes", "engagement", "partner", "attribution", "disagreements", "data"]
# Outputs the frame (app.py, ui.sidebar_filters) runs around every page.
FRAME_OUTPUTS = {"program_meta", "filter_options", "stale_tables"}
EXTRACT_TABLES = [
    "partners",
    "partner_activities",
    "opportunities",
    "opportunity_history",
    "touchpoints",
    "deal_registrations",
    "payouts",
]
# A numeric column per table for the floor's `sum(...)`, so the scan reads data, not just counts.
SCAN_COLUMN = {
    "partners": "length(partner_id)",
    "partner_activities": "epoch(occurred_at)",
    "opportunities": "amount",
    "opportunity_history": "epoch(changed_at)",
    "touchpoints": "epoch(occurred_at)",
    "deal_registrations": "epoch(registered_at)",
    "payouts": "amount",
}


def ensure_demo(scale: float) -> tuple[Path, float | None]:
    """The demo extracts for a scale, generated once and cached; returns (folder, seconds or None if cached)."""
    folder = CACHE / f"scale{scale:g}" / "extracts"
    # The cache is only good for the generator that wrote it.
    digest = hashlib.sha256()
    for path in [*sorted((PROJECT / "loaders" / "demo").glob("*.py")), PROJECT / "loaders" / "schema.py"]:
        digest.update(path.name.encode() + path.read_bytes())  # the demo package and the contract it reads
    generator = digest.hexdigest()
    stamp = folder / ".generator"
    if (folder / "partners.csv").exists() and stamp.exists() and stamp.read_text() == generator:
        return folder, None
    from loaders.demo import write_demo

    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    write_demo(folder, scale=scale, seed=7)
    stamp.write_text(generator)
    return folder, time.perf_counter() - started


def timed_build(extracts: Path, db: Path) -> dict:
    """Build in a child process, so its peak memory is its own."""
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-m", "bench.pages", "--build-child", str(extracts), str(db)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    info = json.loads(child.stdout.strip().splitlines()[-1])
    return {"seconds": seconds, "peak_mb": info["peak_mb"], "rows": info["rows"], "db_mb": db.stat().st_size / 1e6}


def build_child(extracts: Path, db: Path) -> None:
    from loaders.build import build_database

    report = build_database(extracts, db)
    rows = dict(zip(report["table_name"], report["rows_loaded"], strict=True))
    print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": rows}))


def record_page_calls(page: str, db: Path) -> list[tuple[str, dict]]:
    """The (output, params) calls a page makes with its default filters."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from queries import serving
    calls: list[tuple[str, dict]] = []
    original = serving.run

    def recording(name: str, **params: object) -> object:
        calls.append((name, dict(params)))
        return original(name, **params)

    os.environ["PULSE_DB"] = str(db)
    query = {}
    if page == "partner":  # Partner 360 with a partner chosen (the one with the most activities)
        import queries

        con = queries.connect(db)
        top = con.sql("select partner_id from partner_activities group by 1 order by count(*) desc, 1 limit 1").fetchall()
        con.close()
        query = {"partner": top[0][0]} if top else {}
    serving.run = recording
    try:
        # As the server runs pages: through app.py (a page run on its own runs the frame first).
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=600)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()  # the first run renders the default page; only the chosen page's calls count ...
        frame = [(name, params) for name, params in calls if name in FRAME_OUTPUTS]
        calls[:] = frame  # ... plus the frame's sidebar queries, which a real page view runs too
        st.cache_data.clear()
        at.switch_page(f"pages/{page}.py")
        at = at.run()
        if at.exception:
            print(f"  warning: {page} raised: {at.exception[0].value}", file=sys.stderr)
    finally:
        serving.run = original
    # The frame (sidebar filters, meta) runs on every page; count each distinct call once.
    unique = {}
    for name, params in calls:
        unique.setdefault((name, json.dumps(params, default=str, sort_keys=True)), (name, params))
    return list(unique.values())


def tables_read(names: list[str]) -> list[str]:
    """Extract tables named in the SQL or Python source of these outputs."""
    import queries

    text = ""
    for name in names:
        sql = queries.sql_files().get(name)
        if sql is not None:
            text += sql.read_text()
        elif name in queries.PYTHON_OUTPUTS:
            module = queries.PYTHON_OUTPUTS[name].split(":")[0]
            text += (PROJECT / (module.replace(".", "/") + ".py")).read_text()
    return [table for table in EXTRACT_TABLES if re.search(rf"\b{table}\b", text)]


def time_page(db: Path, calls: list[tuple[str, dict]], runs: int) -> tuple[float, float]:
    """(cold, warm median) seconds for all the page's calls together. Cold: a new connection,
    as after a swap; warm: the same connection again, as the app keeps it (query cache off)."""
    import queries

    def once(con: object) -> float:
        started = time.perf_counter()
        for name, params in calls:
            queries.execute(con, name, **params)
        return time.perf_counter() - started

    con = queries.connect(db)
    cold = once(con)
    warm = statistics.median(once(con) for _ in range(runs))
    con.close()
    return cold, warm


def floor_seconds(db: Path, tables: list[str], counts: dict[str, int]) -> tuple[str, float]:
    import queries

    if not tables:
        return "-", 0.0
    largest = max(tables, key=lambda t: counts.get(t, 0))
    con = queries.connect(db)
    sql = "select count(*), sum(" + SCAN_COLUMN[largest] + ') from "' + largest + '"'  # noqa: S608 - fixed names
    con.sql(sql).fetchall()
    started = time.perf_counter()
    for _ in range(3):
        con.sql(sql).fetchall()
    seconds = (time.perf_counter() - started) / 3
    con.close()
    return largest, seconds


def app_peak_memory(db: Path) -> float:
    child = subprocess.run(
        [sys.executable, "-m", "bench.pages", "--memory-child", str(db)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(child.stdout.strip().splitlines()[-1])


def memory_child(db: Path) -> None:
    for page in PAGES:
        record_page_calls(page, db)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def bench_scale(scale: float, runs: int, pages: list[str] = PAGES, built: Path | None = None) -> str:
    if built is None:
        print(f"scale {scale:g}: demo", file=sys.stderr)
        extracts, generated = ensure_demo(scale)
        db = CACHE / f"scale{scale:g}" / "pulse.duckdb"
        print(f"scale {scale:g}: build", file=sys.stderr)
        build = timed_build(extracts, db)
        made = (f"Demo generation {generated:.1f} s" if generated is not None else "Demo generation: cached") + (
            f"; build {build['seconds']:.1f} s (peak {build['peak_mb']:,.0f} MB); database {build['db_mb']:,.0f} MB."
        )
    else:
        db, build = built, {"rows": loaded_rows(built)}
        made = f"Pages timed on a database built beforehand (`--db`), {built.stat().st_size / 1e6:,.0f} MB."
    lines = [
        f"### Scale {scale:g} (measured {date.today().isoformat()}, pages: {', '.join(pages)})",
        "",
        "Rows: " + ", ".join(f"{t} {n:,}" for t, n in build["rows"].items()) + ".",
        "",
        made,
        "",
        "| page | outputs | cold (s) | warm median (s) | floor: largest table scanned | floor (s) | warm / floor |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for page in pages:
        print(f"scale {scale:g}: page {page}", file=sys.stderr)
        calls = record_page_calls(page, db)
        cold, warm = time_page(db, calls, runs)
        names = sorted({name for name, _ in calls})
        largest, floor = floor_seconds(db, tables_read(names), build["rows"])
        ratio = f"{warm / floor:,.0f}x" if floor > 0 else "-"
        lines.append(f"| {page} | {len(calls)} | {cold:.3f} | {warm:.3f} | {largest} | {floor:.4f} | {ratio} |")
    print(f"scale {scale:g}: app memory", file=sys.stderr)
    lines += ["", f"App peak memory rendering every page: {app_peak_memory(db):,.0f} MB.", ""]
    return "\n".join(lines)


def loaded_rows(db: Path) -> dict[str, int]:
    """Rows loaded per extract table, from the database's own load report."""
    import queries

    con = queries.connect(db)
    report = queries.execute(con, "load_report")
    con.close()
    return dict(zip(report["table_name"], report["rows_loaded"], strict=True))


def write_section(header: str, scales: dict[float, str]) -> None:
    """Replace the pages section of RESULTS.md, keeping the blocks of scales not rerun now."""
    start, end = "<!-- pages -->", "<!-- /pages -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    kept: dict[float, str] = {}
    if start in text:
        old = text[text.index(start) + len(start) : text.index(end)]
        for block in old.split("### Scale ")[1:]:
            scale = float(block.split()[0])
            kept[scale] = "### Scale " + block.rstrip() + "\n"
    merged = kept | scales
    body = header + "\n".join(merged[scale] for scale in sorted(merged))
    section = f"{start}\n{body}\n{end}"
    if start in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pages")
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated subset of pages to time")
    parser.add_argument("--build-child", nargs=2, type=Path)
    parser.add_argument("--memory-child", type=Path)
    parser.add_argument("--db", type=Path, help="time the pages on this built database (one scale, named by --scales)")
    args = parser.parse_args()
    if args.build_child:
        build_child(*args.build_child)
        return
    if args.memory_child:
        memory_child(args.memory_child)
        return
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    header = [
        "## Pages at scale",
        "",
        f"On {os.cpu_count()} cores, {memory_gb:.0f} GB, {platform.python_implementation()} "
        f"{platform.python_version()}, by `make bench` (`python -m bench.pages --scales 1,10,100 --runs 5`; "
        "each scale's block says when it was measured). Times are all of a page's queries together (the "
        "sidebar's included), through `queries.execute`: cold = a new read-only connection right after the "
        "build; warm = median of the runs on the same connection, as the app keeps it (Streamlit's result "
        "cache off). Floor = DuckDB scanning the largest table the page reads.",
        "",
    ]
    pages = args.pages.split(",")
    sections: dict[float, str] = {}
    for scale in map(float, args.scales.split(",")):
        try:
            sections[scale] = bench_scale(scale, args.runs, pages, args.db)
        except (subprocess.CalledProcessError, MemoryError, OSError) as exc:
            # Say so in the results rather than lose the other scales' figures.
            detail = str(getattr(exc, "stderr", "") or exc).strip().splitlines()[-1:]
            sections[scale] = f"### Scale {scale:g} (measured {date.today().isoformat()})\n\nFailed: {detail}\n"
    write_section("\n".join(header), sections)
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
