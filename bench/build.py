"""Build time and memory at scale, step by step: where a build's resident memory goes.

`python -m bench.build [--scales 10,100] [--write]` (heavy at scale 100: run it under
`flock /tmp/pulse-heavy.lock`). For each scale it takes the demo extracts cached by
`bench.pages` (generated once under bench/cache/), builds them in a child process
(`loaders.build.build_database`, as `python -m loaders build` does) and samples that process's
resident set (Python, Polars and DuckDB together) every 50 ms from outside, so a long call
that holds the GIL cannot hide a peak. The child announces each step as it starts (reading
and checking each extract, writing each table, each derived step), so every sample is charged
to the step that was running. Reports the peak resident memory (the kernel's high-water mark
of the child) and the time, overall and per step; `--write` puts them in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import psutil

from bench import write_section

BENCH_DIR = Path(__file__).resolve().parent
PROJECT = BENCH_DIR.parent
SECTION = "build"
SAMPLE_SECONDS = 0.05
STEP = "step\t"


def announce(label: str) -> None:
    print(STEP + label, flush=True)


STACK = ["other (setup, meta, checkpoint)"]


def traced(function, label):  # noqa: ANN001, ANN201 - wraps any step function
    """`function`, announcing `label(*args)` as the current step while it runs (then the enclosing one again)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        STACK.append(label(*args, **kwargs))
        announce(STACK[-1])
        try:
            return function(*args, **kwargs)
        finally:
            STACK.pop()
            announce(STACK[-1])

    return wrapper


def trace_build_steps() -> None:
    """Announce the build's steps: our own functions, looked up where the build calls them."""
    from loaders import build, derived, stream

    wrapped = {
        "read_extract": lambda path, *a, **k: f"read {Path(path).name}",
        "check_table": lambda table, *a, **k: f"check {table}",
        "check_references": lambda *a, **k: "check references",
        "convert_history_currency": lambda *a, **k: "convert history currency",
        "materialise": lambda con, name, *a, **k: f"write {name.removesuffix('_unsorted')}",
        "append": lambda con, name, *a, **k: f"write {name.removesuffix('_unsorted')}",
        "write_settings_tables": lambda *a, **k: "write settings tables",
        "write_freshness": lambda *a, **k: "write freshness",
        "load_table": lambda con, table, *a, **k: f"load {table} (other than the steps below it)",
    }
    for module in (build, stream):  # wherever the build calls them (older builds: all in build.py)
        for name, label in wrapped.items():
            if hasattr(module, name):
                setattr(module, name, traced(getattr(module, name), label))
    for entry in derived.DERIVED:
        module_name, function_name = entry.split(":")
        module = importlib.import_module(module_name)
        setattr(module, function_name, traced(getattr(module, function_name), lambda *a, entry=entry, **k: entry))


def build_child(extracts: Path, db: Path) -> None:
    from loaders import derived
    from loaders.build import build_database

    if os.environ.get("BENCH_LOAD_ONLY"):
        derived.DERIVED = []  # the extracts only: read, check, write
    trace_build_steps()
    announce(STACK[0])
    report = build_database(extracts, db)
    announce("done")
    rows = dict(zip(report["table_name"], report["rows_read"], strict=True))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mb": peak_mb, "rows_read": rows}), flush=True)


def measure(extracts: Path, db: Path, load_only: bool = False) -> dict:
    """Build `extracts` into `db` in a child process; seconds and resident memory, overall and per step.
    `load_only`: without the derived steps (the extracts only)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.build", "--child", str(extracts), str(db)],
        cwd=PROJECT,
        env={**os.environ, "BENCH_LOAD_ONLY": "1" if load_only else ""},
        stdout=subprocess.PIPE,
        text=True,
    )
    process = psutil.Process(child.pid)
    current = [STACK[0]]
    steps: dict[str, dict[str, float]] = {}
    lines: list[str] = []

    def charge(label: str, seconds: float, rss_mb: float) -> None:
        step = steps.setdefault(label, {"seconds": 0.0, "peak_mb": 0.0})
        step["seconds"] += seconds
        step["peak_mb"] = max(step["peak_mb"], rss_mb)

    def read_steps() -> None:
        for line in child.stdout:  # type: ignore[union-attr]
            if line.startswith(STEP):
                current[0] = line[len(STEP) :].strip()
            else:
                lines.append(line)

    reader = threading.Thread(target=read_steps, daemon=True)
    reader.start()
    last = time.perf_counter()
    while child.poll() is None:
        try:
            rss = process.memory_info().rss / 1024**2
        except psutil.Error:
            break
        now = time.perf_counter()
        charge(current[0], now - last, rss)
        last = now
        time.sleep(SAMPLE_SECONDS)
    child.wait()
    reader.join()
    seconds = time.perf_counter() - started
    if child.returncode:
        raise RuntimeError(f"the build failed (exit {child.returncode})")
    info = json.loads(lines[-1])
    return {
        "seconds": seconds,
        "peak_mb": info["peak_mb"],
        "rows_read": info["rows_read"],
        "steps": steps,
        "db_mb": db.stat().st_size / 1e6,
    }


def section(results: dict[float, dict], top: int) -> str:
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    load = os.getloadavg()[0]
    out = [
        "## Build time and memory",
        "",
        f"On {os.cpu_count()} cores, {memory_gb:.0f} GB, {platform.python_implementation()} {platform.python_version()}; "
        f"measured {date.today().isoformat()} on a shared machine (load average {load:.1f} at the end: other work "
        "ran beside it, so times are provisional). Command: `flock /tmp/pulse-heavy.lock .venv/bin/python -m bench.build "
        f"--scales {','.join(f'{s:g}' for s in results)} --write`. The demo extracts (seed 7) are built by "
        "`loaders.build.build_database` in a child process; peak = the child's resident-set high-water mark (Python, "
        "Polars and DuckDB together); per step, the largest resident set sampled every 50 ms while it ran.",
        "",
        "| scale | rows read | build (s) | peak RSS (MB) | database (MB) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for scale, result in results.items():
        rows = sum(result["rows_read"].values())
        out.append(f"| {scale:g} | {rows:,} | {result['seconds']:.1f} | {result['peak_mb']:,.0f} | {result['db_mb']:,.0f} |")
    for scale, result in results.items():
        ranked = sorted(result["steps"].items(), key=lambda item: -item[1]["peak_mb"])[:top]
        out += [
            "",
            f"Scale {scale:g}, the {len(ranked)} steps with the largest resident set (all steps' times add up to the build's):",
            "",
            "| step | seconds | peak RSS while it ran (MB) |",
            "| --- | ---: | ---: |",
        ]
        out += [f"| {label} | {step['seconds']:.1f} | {step['peak_mb']:,.0f} |" for label, step in ranked]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.build", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="10,100")
    parser.add_argument("--top", type=int, default=12, help="steps listed per scale, largest memory first")
    parser.add_argument("--write", action="store_true", help="write the results into bench/RESULTS.md")
    parser.add_argument("--extracts", type=Path, help="build this folder of extracts (one scale) instead of the cached demo")
    parser.add_argument("--load-only", action="store_true", help="the extracts only: no derived steps")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        build_child(*args.child)
        return
    from bench.pages import CACHE, ensure_demo

    results = {}
    for scale in map(float, args.scales.split(",")):
        extracts = args.extracts or ensure_demo(scale)[0]
        db = CACHE / f"scale{scale:g}" / "build-bench.duckdb"
        print(f"scale {scale:g}: building {extracts}", file=sys.stderr)
        results[scale] = result = measure(extracts, db, args.load_only)
        print(f"scale {scale:g}: {result['seconds']:.1f} s, peak {result['peak_mb']:,.0f} MB", file=sys.stderr)
        for label, step in sorted(result["steps"].items(), key=lambda item: -item[1]["peak_mb"]):
            print(f"  {label:50} {step['seconds']:7.1f} s {step['peak_mb']:9,.0f} MB", file=sys.stderr)
    text = section(results, args.top)
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
