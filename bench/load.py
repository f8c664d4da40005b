"""Load: browser-like sessions on a real `streamlit run` server while the database is rebuilt and
swapped; every page run must show the old data or the new, never a mix.

Each session is a websocket client speaking Streamlit's own protocol (what the browser
sends: `rerun_script` with the page and the URL query), going round every page. The
observable: two extract sets, A and B, that differ on every page (see
tests/test_concurrency.py); each page's rendering (metrics, tables, text, sidebar included)
is fingerprinted alone on A and on B first, and every page run under load must equal one of
them.

    .venv/bin/python -m bench.load [--sessions 20] [--swaps 2] [--scale 0.3] [--think 0] [--write]

`--think S`: each user reads a page before the next click, for a time drawn uniformly from
S/2 to 3S/2 seconds (seeded, so runs compare). With 0 the clients click back to back, which
measures the server saturated, not what a user waits for: 20 clients without a pause offer
as many page runs as 2 cores can serve, so the median wait is the queue, whatever a page costs.

`--write` replaces the `<!-- load -->` section of bench/RESULTS.md with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

PROJECT = Path(__file__).resolve().parent.parent
PAGES = sorted(path.stem for path in (PROJECT / "pages").glob("*.py"))
RESULTS = PROJECT / "bench" / "RESULTS.md"


@dataclass
class PageRun:
    page: str
    fingerprint: str
    seconds: float
    exceptions: list[str]
    shown: list[str] = field(default_factory=list, repr=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`streamlit run app.py` on a free port, serving `db`."""

    def __init__(self, db: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "PULSE_DB": str(db)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(PROJECT / "app.py"),
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                "--server.runOnSave",
                "false",
            ],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the Streamlit server did not start")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/_stcore/stream"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# Significant digits a float is compared to. Two builds of the same extracts can differ in a
# float's last bits (a sum taken in another order by DuckDB's parallel aggregation: 2e-14 in
# engagement_by_month's raw_engagement at scale 1), which no table or chart shows; a mix of two
# databases differs far above this.
FLOAT_DIGITS = 10


def as_shown(value: Any) -> Any:
    """A value as a fingerprint compares it: floats to FLOAT_DIGITS significant digits, inside
    rows (dicts) and chart specs (nested lists and dicts) too."""
    if isinstance(value, float):
        return float(f"{value:.{FLOAT_DIGITS}g}")
    if isinstance(value, dict):
        return {key: as_shown(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_shown(item) for item in value]
    return value


def describe(message: ForwardMsg) -> str | None:
    """One rendered element as text (what a user sees), or None for layout and widgets' chrome."""
    if not message.HasField("delta") or not message.delta.HasField("new_element"):
        return None
    element = message.delta.new_element
    kind = element.WhichOneof("type")
    if kind == "metric":
        return f"metric {element.metric.label}={element.metric.body} ({element.metric.delta})"
    if kind == "markdown":
        body = element.markdown.body
        return None if body.startswith("Built ") else f"markdown {body}"
    if kind == "heading":
        return f"heading {element.heading.body}"
    if kind == "alert":
        return f"alert {element.alert.body}"
    if kind == "exception":
        return f"exception {element.exception.type}: {element.exception.message}"
    if kind == "dataframe":
        # Rows as a sorted multiset: the order of tied rows may differ between two computations of
        # the same data (not a mix), the rows themselves may not.
        if not element.dataframe.arrow_data.data:
            # A table over 1,000 rows is sent lazily: its rows come on scroll, not in the page's
            # messages, so only that a table is there can be compared.
            return "dataframe (rows sent on scroll)"
        table = pyarrow.ipc.open_stream(element.dataframe.arrow_data.data).read_all()
        rows = sorted(repr(as_shown(row)) for row in table.to_pylist())
        return f"dataframe {table.column_names} " + hashlib.sha256("\n".join(rows).encode()).hexdigest()
    if kind == "plotly_chart":
        spec = json.dumps(as_shown(json.loads(element.plotly_chart.spec)), sort_keys=True)
        return "plotly " + hashlib.sha256(spec.encode()).hexdigest()
    if kind == "selectbox":
        return f"selectbox {element.selectbox.label} {list(element.selectbox.options)}"
    if kind == "multiselect":
        return f"multiselect {element.multiselect.label} {list(element.multiselect.options)}"
    return None


async def open_page(ws: websockets.ClientConnection, page: str, query: str) -> PageRun:
    """Ask the server to run one page (as the browser does on navigation) and collect what it drew."""
    request = BackMsg()
    request.rerun_script.query_string = query
    request.rerun_script.page_name = page
    started = time.perf_counter()
    await ws.send(request.SerializeToString())
    shown: list[str] = []
    exceptions: list[str] = []
    while True:
        message = ForwardMsg()
        message.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=300))
        if message.WhichOneof("type") == "script_finished":
            if message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                shown, exceptions = [], []  # the page reran itself (a swap was noticed): keep the last run
                continue
            if message.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                continue
            break
        if message.HasField("delta") and message.delta.fragment_id:
            continue  # the freshness fragment's own reruns
        text = describe(message)
        if text is not None:
            shown.append(text)
            if text.startswith("exception"):
                exceptions.append(text)
    fingerprint = hashlib.sha256("\n".join(shown).encode()).hexdigest()
    RENDERINGS.setdefault(fingerprint, shown)
    return PageRun(page, fingerprint, time.perf_counter() - started, exceptions, shown)


# Every rendering seen, by fingerprint: a mixed run is reported by its lines that differ from the
# nearest reference rendering of its page.
RENDERINGS: dict[str, list[str]] = {}


def difference(run: PageRun, references: set[str]) -> str:
    """The lines of `run` not in the nearest of the reference renderings, and the reference's lines
    missing from it."""
    nearest = min(
        (RENDERINGS[f] for f in references if f in RENDERINGS),
        key=lambda lines: len(set(lines) ^ set(run.shown)),
        default=[],
    )
    extra = [line for line in run.shown if line not in nearest]
    missing = [line for line in nearest if line not in run.shown]
    return f"shown {extra[:5]} instead of {missing[:5]}"


# The URL each page is opened with. Widgets keep their defaults: this client, unlike a browser,
# does not echo widget states back, so a URL-seeded widget would not stick between runs.
QUERY = "partner=P1"


async def connect(url: str) -> websockets.ClientConnection:
    """A new browser-like session; its first run registers the app's pages (st.navigation), as a
    browser's first load does, so later runs can open any page by name."""
    ws = await websockets.connect(url, max_size=None)
    await open_page(ws, PAGES[0], QUERY)
    return ws


async def visit(url: str, page: str) -> PageRun:
    """Open one page in a new session, as a browser tab opening its URL does. A new session per
    visit keeps a rendering independent of the pages visited before (session state)."""
    async with await connect(url) as ws:
        return await open_page(ws, page, QUERY)


async def fingerprint_pages(url: str, rounds: int = 2) -> dict[str, set[str]]:
    """Each page's renderings on the served data alone (every round should give the same)."""
    seen: dict[str, set[str]] = {page: set() for page in PAGES}
    for _ in range(rounds):
        for page in PAGES:
            seen[page].add((await visit(url, page)).fingerprint)
    return seen


@dataclass
class Load:
    runs: list[PageRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mixed: list[str] = field(default_factory=list)
    # Runs that showed another page whole (old or new data, not a mix): Streamlit answered the
    # request with the default page. Seen now and then on a loaded machine; not a data finding.
    wrong_page: list[str] = field(default_factory=list)
    swaps: int = 0
    build_seconds: list[float] = field(default_factory=list)


async def session(
    url: str, index: int, expected: dict[str, dict[str, set[str]]], load: Load, done: asyncio.Event, think: float = 0.0
) -> None:
    """One user going round the pages until the swaps are over, and once more after, reading each
    page for `think` seconds on average before the next click."""
    after_done = 0
    turn = index
    reading = random.Random(index)
    while not done.is_set() or after_done < 1:
        if done.is_set():
            after_done += 1
        page = PAGES[turn % len(PAGES)]
        turn += 1
        try:
            run = await visit(url, page)
        except Exception as exc:  # noqa: BLE001 - every failure is a finding
            load.errors.append(f"session {index} {page}: {type(exc).__name__}: {exc}")
            return
        load.runs.append(run)
        load.errors.extend(f"session {index} {page}: {e}" for e in run.exceptions)
        if all(run.fingerprint not in fingerprints[page] for fingerprints in expected.values()):
            shown_as = [other for other in PAGES for fingerprints in expected.values() if run.fingerprint in fingerprints[other]]
            if shown_as:
                load.wrong_page.append(f"session {index} asked for {page}, was shown {shown_as[0]}")
            else:
                # What it showed that its page never shows alone on A or B, so a failure can be read.
                references = set().union(*(fingerprints[page] for fingerprints in expected.values()))
                load.mixed.append(f"session {index} {page}: {difference(run, references)}"[:3000])
        if think:
            await asyncio.sleep(reading.uniform(think / 2, think * 3 / 2))


async def run_load(  # noqa: PLR0913 - the load's shape, each named
    url: str,
    sessions: int,
    expected: dict[str, dict[str, set[str]]],
    rebuild,  # noqa: ANN001
    swaps: int,
    pause: float,
    think: float = 0.0,
) -> Load:
    """`sessions` clients going round the pages while `rebuild(i)` swaps the database `swaps` times."""
    load = Load()
    done = asyncio.Event()
    clients = [asyncio.create_task(session(url, i, expected, load, done, think)) for i in range(sessions)]
    try:
        for i in range(swaps):
            await asyncio.sleep(pause)
            started = time.perf_counter()
            await asyncio.to_thread(rebuild, i)
            load.build_seconds.append(time.perf_counter() - started)
            load.swaps += 1
        await asyncio.sleep(pause)
    finally:
        done.set()
    await asyncio.gather(*clients)
    return load


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def write_demo_sets(folder: Path, scale: float) -> tuple[Path, Path]:
    """A demo program (A) and the same with every deal amount doubled and a later activity (B)."""
    import polars as pl

    from loaders.demo import write_demo

    a = folder / "a"
    write_demo(a, scale=scale, seed=7)
    b = folder / "b"
    shutil.copytree(a, b)
    opps = pl.read_csv(b / "opportunities.csv", infer_schema=False)
    opps = opps.with_columns((pl.col("amount").cast(pl.Float64) * 2).round(2).cast(pl.String))
    opps.write_csv(b / "opportunities.csv")
    return a, b


def measure(sessions: int, swaps: int, scale: float, pause: float, think: float = 0.0) -> tuple[dict, Load, list[str]]:
    """Run the load: its figures (the RESULTS.md row), the runs and findings, and the pages that
    look the same on A and B (where a mix cannot show)."""
    from loaders.build import build_database

    with tempfile.TemporaryDirectory() as tmp:
        a, b = write_demo_sets(Path(tmp), scale)
        db = Path(tmp) / "pulse.duckdb"
        build_database(b, db)
        server = Server(db)
        try:
            expected_b = asyncio.run(fingerprint_pages(server.url))
            build_database(a, db)
            expected_a = asyncio.run(fingerprint_pages(server.url))
            same = [page for page in PAGES if expected_a[page] & expected_b[page]]
            load = asyncio.run(
                run_load(
                    server.url,
                    sessions,
                    {"a": expected_a, "b": expected_b},
                    lambda i: build_database(b if i % 2 == 0 else a, db),
                    swaps,
                    pause,
                    think,
                )
            )
        finally:
            server.stop()

    seconds = [run.seconds for run in load.runs]
    figures = {
        "sessions": sessions,
        "reading s": think,
        "swaps": load.swaps,
        "page runs": len(load.runs),
        "errors": len(load.errors),
        "mixed": len(load.mixed),
        "another page": len(load.wrong_page),
        "p50 page s": round(percentile(seconds, 50), 2),
        "p95 page s": round(percentile(seconds, 95), 2),
        "build s": ", ".join(f"{s:.1f}" for s in load.build_seconds),
    }
    return figures, load, same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--swaps", type=int, default=2)
    parser.add_argument("--scale", type=float, default=0.3, help="demo program scale")
    parser.add_argument("--pause", type=float, default=20.0, help="seconds of load before, between and after swaps")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a user reads a page before the next click")
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args(argv)

    figures, load, same = measure(args.sessions, args.swaps, args.scale, args.pause, args.think)
    for key, value in figures.items():
        print(f"{key:>12}: {value}")
    for line in (load.errors + load.mixed + load.wrong_page)[:20]:
        print("  ", line)
    if same:
        print(f"pages identical on A and B (cannot show a mix): {', '.join(same)}")
    if args.write:
        write_results(args, figures, same, load)
    return 0 if not load.errors and not load.mixed else 1


MIXED_NOTE = (
    "\"mixed\" = a page run whose rendering equals neither A's nor B's (floats compared to "
    f"{FLOAT_DIGITS} significant digits). Each finding below lists what the run showed instead of the nearest "
    "rendering of its page alone: lines of both A and B mean two database versions in one page run (each page "
    "run pins one, `queries/serving.py`); lines of neither, a page that renders differently from run to run."
)


def write_results(args: argparse.Namespace, figures: dict, same: list[str], load: Load) -> None:  # type: ignore[type-arg]
    per_page = {page: [r.seconds for r in load.runs if r.page == page] for page in PAGES}
    lines = [
        "<!-- load -->",
        "## Load: concurrent sessions while the database is swapped",
        "",
        f"`{args.sessions}` websocket sessions (Streamlit's browser protocol) on a real `streamlit run` server, "
        f"going round all {len(PAGES)} pages, while the demo program (scale {args.scale}) is rebuilt and swapped "
        f"{load.swaps} times (A -> B -> A, B = every deal amount doubled). Every page run is compared with the page "
        "rendered alone on A and on B. Command: "
        f"`.venv/bin/python -m bench.load --sessions {args.sessions} --swaps {args.swaps} --scale {args.scale} "
        f"--think {args.think} --write`.",
        "",
        "| " + " | ".join(figures) + " |",
        "| " + " | ".join("---:" for _ in figures) + " |",
        "| " + " | ".join(str(v) for v in figures.values()) + " |",
        "",
        "| page | runs | p50 s | p95 s |",
        "| --- | ---: | ---: | ---: |",
        *[
            f"| {page} | {len(values)} | {percentile(values, 50):.2f} | {percentile(values, 95):.2f} |"
            for page, values in per_page.items()
        ],
    ]
    if same:
        lines += ["", f"Pages that look the same on A and B (a mix there cannot show): {', '.join(same)}."]
    if load.mixed:
        lines += ["", MIXED_NOTE]
    if load.errors or load.mixed:
        lines += ["", "Findings:", *[f"- {line}" for line in (load.errors + load.mixed)[:20]]]
    lines.append("<!-- /load -->")
    section = "\n".join(lines)
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if "<!-- load -->" in text:
        start, end = text.index("<!-- load -->"), text.index("<!-- /load -->") + len("<!-- /load -->")
        text = text[:start] + section + text[end:]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
