"""Pages as a user feels them: Debian's chromium (Playwright) on a real `streamlit run` server,
timed from the click to a finished page, against a trivial Streamlit app served and timed the
same way in the same run (the floor).

`python -m bench.browser [--scales 1,10,100] [--repeats 3] [--deep-links 100] [--freshness-tabs 5] [--load-sessions 20] [--write]`
(`make bench` runs it). For each scale it takes the demo program (extracts cached under
bench/cache/ as bench/pages.py does, the database built again only when the build format or
the generator changed), serves the app and the floor side by side, and times every page:

- new tab: a new tab opens the page's URL (Partner 360 with its busiest partner);
- in-app navigation: in one tab, every page is visited once by its sidebar link, then again:
  the second visit is timed (the session and the server's caches are warm, as when a user
  goes back to a page).

A page is *finished* when a whole script run has finished (its script_finished message on the
tab's websocket), the app reports no run under way (`data-test-script-state` is `notRunning`,
so no running indicator), the heading is drawn, no element is left stale from the previous
page, every Plotly chart shown has drawn its SVG and every table shown its canvas, no skeleton
is left, and nothing in the page changes for QUIET_MS (so a second run or a late element would
be seen). The time is the moment of the last change, not the end of the quiet wait. Whole
script runs are counted over the visit (a page should run once); the sidebar's timed new-data
check runs as a fragment, is counted apart, and its running indicator is not a change.

The floor: four metrics, one Plotly chart and a 200-row table, two such pages under
st.navigation, so its new tab and its in-app navigation are timed as the app's. Results are
ratios to the floor's median.

Deep links: `--deep-links N` first visits, each on a freshly started server, round the pages:
the visit lands when the finished page is the one its URL asked for.

Load: bench/load.py's concurrent sessions at scale 1 (`--load-sessions`, database swaps
included), each user reading a page for `--load-think` seconds on average before the next
click (0: back to back, the server saturated), its page-time percentiles and counts beside the
browser figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
# Nothing may change in the page for this long before it counts as finished (ms).
QUIET_MS = 1000
TIMEOUT_MS = 180_000
VIEWPORT = {"width": 1400, "height": 1000}
DEFAULT_PAGE = "health"

FLOOR_APP = '''"""The floor for bench/browser.py: the least a Streamlit page with data can cost."""
import numpy as np
import plotly.graph_objects as go
import polars as pl
import streamlit as st


def trivial(title: str) -> None:
    st.title(title)
    rng = np.random.default_rng(7)
    for column, label in zip(st.columns(4), ["Revenue", "Pipeline", "Partners", "Win rate"], strict=True):
        column.metric(label, f"{rng.integers(100, 999)}", "+3%")
    days = pl.date_range(pl.date(2026, 1, 1), pl.date(2026, 12, 31), eager=True)
    st.plotly_chart(go.Figure(go.Scatter(x=days.to_list(), y=rng.normal(size=days.len()).cumsum())))
    st.dataframe(
        pl.DataFrame({"partner": [f"Partner {i}" for i in range(200)], "amount": rng.normal(1000, 100, 200)}),
        hide_index=True,
    )


st.navigation([
    st.Page(lambda: trivial("Floor A"), title="Floor A", url_path="floor_a", default=True),
    st.Page(lambda: trivial("Floor B"), title="Floor B", url_path="floor_b"),
]).run()
'''
FLOOR_PAGES = {"floor_a": "Floor A", "floor_b": "Floor B"}

# Installed in every document before the app's own scripts: records the time of the last change
# in the page. The header's running indicator and the app root's run state change on the
# sidebar's timed new-data check too (a fragment run that draws nothing): they are not a change
# of the page. (Runs are counted off the websocket: a quick run never shows in the DOM.)
WATCH_JS = """
(() => {
  const state = window.__pulse = {last: performance.now()};
  const chrome = '[data-testid=stHeader], [data-testid=stStatusWidget], [data-testid=stToolbar]';
  new MutationObserver(records => {
    const now = performance.now();
    for (const record of records) {
      if (record.type === 'attributes' && record.attributeName === 'data-test-script-state') continue;
      const element = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      if (element && element.closest(chrome)) continue;
      state.last = now;
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();
"""

# Whether the page is finished (see the module docstring); the time of its last change, or null.
FINISHED_JS = """
([quiet]) => {
  const state = window.__pulse;
  const app = document.querySelector('[data-testid=stApp]');
  if (!state || !app || app.getAttribute('data-test-script-state') !== 'notRunning') return null;
  if (!document.querySelector('[data-testid=stMain] h1')) return null;
  if (document.querySelector('[data-stale=true], [data-testid=stSkeleton]')) return null;
  // Charts and tables in a closed expander or another tab are not drawn until opened.
  const shown = selector => [...document.querySelectorAll(selector)].filter(element => element.checkVisibility());
  if (shown('[data-testid=stPlotlyChart]').some(chart => !chart.querySelector('.main-svg'))) return null;
  if (shown('[data-testid=stDataFrame]').some(table => !table.querySelector('canvas'))) return null;
  return performance.now() - state.last >= quiet ? state.last : null;
}
"""


@dataclass
class Visit:
    page: str
    seconds: float
    runs: int
    landed_on: str  # the page's heading when it finished
    path: str

    def landed(self, title: str, url_path: str) -> bool:
        """On the page with this title, at its URL (the default page, Program health, lives at "/")."""
        expected = "" if url_path == DEFAULT_PAGE else url_path
        return title in self.landed_on and self.path.rstrip("/").endswith(expected)


def page_paths() -> dict[str, str]:
    """url_path -> title of the app's pages, as the navigation shows them."""
    from scripts.screenshots import PAGES

    return dict(PAGES)


class RunCounter:
    """Script runs of one tab, read off its websocket: a run starts with a new_session message
    and ends with script_finished, both tagged with the fragments they rerun (none for a whole
    run of the page)."""

    def __init__(self, tab) -> None:
        self.runs = 0
        self.finished = 0
        self.fragment_runs = 0
        tab.on("websocket", lambda socket: socket.on("framereceived", self.received))

    def received(self, payload: bytes | str) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, str):
            return
        message = ForwardMsg()
        try:
            message.ParseFromString(payload)
        except Exception:  # noqa: BLE001 - not a message of ours
            return
        kind = message.WhichOneof("type")
        fragment = bool(message.metadata.run.fragment_ids)
        if kind == "new_session":
            if fragment:
                self.fragment_runs += 1
            else:
                self.runs += 1
        elif kind == "script_finished" and not fragment and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            self.finished += 1

    def reset(self) -> None:
        self.runs = self.finished = self.fragment_runs = 0


def finished_at(tab, counter: RunCounter) -> float:
    """Wait until a whole run has finished and the page is finished; its last change, in the
    tab's own clock (ms)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not counter.finished:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no script run finished in {TIMEOUT_MS / 1000:.0f} s")
        tab.wait_for_timeout(50)  # Playwright's own wait: the websocket's messages keep arriving
    handle = tab.wait_for_function(FINISHED_JS, arg=[QUIET_MS], timeout=TIMEOUT_MS, polling=100)
    return float(handle.json_value())


def describe(tab, counter: RunCounter, page: str, seconds: float) -> Visit:
    heading = tab.locator('[data-testid="stMain"] h1').first.inner_text()
    path = tab.evaluate("() => location.pathname")
    return Visit(page, seconds, counter.runs, heading, path)


def new_tab_visit(context, base: str, page: str, query: str = "") -> Visit:
    """A new tab opening the page's URL: from the start of the navigation to the finished page."""
    tab = context.new_page()
    counter = RunCounter(tab)
    try:
        tab.goto(f"{base}/{page}{query}", wait_until="commit", timeout=TIMEOUT_MS)
        last = finished_at(tab, counter)  # ms since the tab's navigation started
        return describe(tab, counter, page, last / 1000)
    finally:
        tab.close()


def click_visit(tab, counter: RunCounter, page: str, title: str) -> Visit:
    """Click the page's link in the sidebar navigation: from the click to the finished page."""
    link = tab.locator('[data-testid="stSidebarNav"] a', has_text=title).first
    link.wait_for(timeout=TIMEOUT_MS)
    counter.reset()
    started = float(tab.evaluate("() => performance.now()"))
    link.click()
    last = finished_at(tab, counter)
    return describe(tab, counter, page, (last - started) / 1000)


def in_app_visits(context, base: str, pages: dict[str, str], home: str) -> list[Visit]:
    """Every page by its sidebar link, twice in one tab; the second round's visits."""
    tab = context.new_page()
    counter = RunCounter(tab)
    try:
        tab.goto(f"{base}/{home}", wait_until="commit", timeout=TIMEOUT_MS)
        finished_at(tab, counter)
        for page, title in pages.items():
            click_visit(tab, counter, page, title)
        return [click_visit(tab, counter, page, title) for page, title in pages.items()]
    finally:
        tab.close()


@contextlib.contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    from scripts.screenshots import launch

    with sync_playwright() as p:
        browser = launch(p)
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(WATCH_JS)
    return context


@contextlib.contextmanager
def floor_server() -> Iterator[str]:
    """The trivial app, served like the app (same server options and config)."""
    from scripts.screenshots import serve

    with tempfile.TemporaryDirectory(prefix="pulse-floor-") as folder:
        script = Path(folder) / "floor.py"
        script.write_text(FLOOR_APP)
        with serve(None, script=str(script)) as url:
            yield url


def ensure_database(scale: float) -> Path:
    """The demo program's database at this scale, built again only when it is missing or was
    built by another build format or from other extracts."""
    import duckdb

    from bench.pages import CACHE, ensure_demo
    from loaders.build import build_database, outdated

    extracts, generated = ensure_demo(scale)
    db = CACHE / f"scale{scale:g}" / "pulse.duckdb"
    if db.exists() and generated is None:
        con = duckdb.connect(str(db), read_only=True)
        try:
            meta = dict(con.execute("select key, value from load_meta").fetchall())
        finally:
            con.close()
        if outdated(meta) is None:
            return db
    print(f"scale {scale:g}: building {db}", file=sys.stderr)
    build_database(extracts, db)
    return db


def busiest_partner(db: Path) -> str | None:
    from scripts.screenshots import busiest_partner as busiest

    return busiest(db)


@dataclass
class ScaleResult:
    scale: float
    new_tab: dict[str, list[Visit]] = field(default_factory=dict)
    in_app: dict[str, list[Visit]] = field(default_factory=dict)
    floor_new_tab: list[Visit] = field(default_factory=list)
    floor_in_app: list[Visit] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


def bench_scale(browser, scale: float, repeats: int, pages: dict[str, str]) -> ScaleResult:
    from playwright.sync_api import Error as PlaywrightError

    from scripts.screenshots import serve

    db = ensure_database(scale)
    partner = busiest_partner(db)
    queries = {page: f"?partner={partner}" if page == "partner" and partner else "" for page in pages}
    result = ScaleResult(scale)
    with serve(db) as app, floor_server() as floor:
        context = new_context(browser)
        try:
            # The first visits after start are the deep-link benchmark's business: every page once,
            # so the server's caches hold what any earlier visitor left (untimed).
            for page in pages:
                new_tab_visit(context, app, page, queries[page])
            new_tab_visit(context, floor, "")
            for round_ in range(repeats):
                print(f"scale {scale:g}: round {round_ + 1} of {repeats}", file=sys.stderr)
                try:
                    for page, title in pages.items():
                        visit = new_tab_visit(context, app, page, queries[page])
                        result.new_tab.setdefault(page, []).append(visit)
                        if not visit.landed(title, page):
                            result.wrong.append(f"new tab {page}: finished on {visit.landed_on!r} at {visit.path}")
                        result.floor_new_tab.append(new_tab_visit(context, floor, "floor_b"))
                    for visit in in_app_visits(context, app, pages, "glossary"):
                        result.in_app.setdefault(visit.page, []).append(visit)
                        if not visit.landed(pages[visit.page], visit.page):
                            result.wrong.append(f"in-app {visit.page}: finished on {visit.landed_on!r} at {visit.path}")
                    result.floor_in_app.extend(in_app_visits(context, floor, FLOOR_PAGES, "floor_b"))
                except PlaywrightError as exc:  # a page that never finishes is a finding, not the end of the run
                    result.wrong.append(f"round {round_ + 1}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        finally:
            context.close()
    return result


@dataclass
class DeepLinks:
    visits: list[Visit] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    start_seconds: list[float] = field(default_factory=list)


def bench_deep_links(browser, scale: float, count: int, pages: dict[str, str]) -> DeepLinks:
    """`count` first visits, each on a freshly started server, round the pages (not the default one)."""
    from scripts.screenshots import serve

    db = ensure_database(scale)
    partner = busiest_partner(db)
    linked = [page for page in pages if page != DEFAULT_PAGE]
    result = DeepLinks()
    for i in range(count):
        page = linked[i % len(linked)]
        query = f"?partner={partner}" if page == "partner" and partner else ""
        started = time.perf_counter()
        with serve(db) as app:
            result.start_seconds.append(time.perf_counter() - started)
            context = new_context(browser)
            try:
                visit = new_tab_visit(context, app, page, query)
            except Exception as exc:  # noqa: BLE001 - a visit that never finishes is a finding
                result.missed.append(f"{page}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            finally:
                context.close()
        result.visits.append(visit)
        if not visit.landed(pages[page], page) or visit.runs != 1:
            result.missed.append(f"{page}: finished on {visit.landed_on!r} at {visit.path} after {visit.runs} runs")
        print(f"deep link {i + 1}/{count} {page}: {visit.seconds:.2f} s, {visit.runs} run(s), {visit.path}", file=sys.stderr)
    return result


@dataclass
class Freshness:
    tabs: int
    seconds: float
    checks: int  # the new-data check's runs (fragment runs) seen by the tabs
    page_runs: int  # whole script runs while idle (there should be none: the data did not change)
    cpu_seconds: float  # the server's CPU time over the idle minute

    def per_check_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.checks if self.checks else float("nan")


def bench_freshness(browser, scale: float, tabs: int, seconds: float) -> Freshness:
    """What open tabs that nobody touches cost the server: the sidebar checks every few seconds
    whether a build swapped the database (one stat) and reruns nothing while it did not."""
    import psutil

    from scripts.screenshots import serve

    db = ensure_database(scale)
    with serve(db) as app:
        context = new_context(browser)
        try:
            counters = []
            for _ in range(tabs):
                tab = context.new_page()
                counters.append(RunCounter(tab))
                tab.goto(f"{app}/glossary", wait_until="commit", timeout=TIMEOUT_MS)
                finished_at(tab, counters[-1])
            for counter in counters:
                counter.reset()
            server = psutil.Process(app.pid)
            before = server.cpu_times()
            tab.wait_for_timeout(seconds * 1000)  # Playwright's own wait: the tabs' messages keep being counted
            after = server.cpu_times()
        finally:
            context.close()
    return Freshness(
        tabs,
        seconds,
        sum(c.fragment_runs for c in counters),
        sum(c.runs for c in counters),
        (after.user + after.system) - (before.user + before.system),
    )


def median(visits: list[Visit]) -> float:
    return statistics.median(v.seconds for v in visits) if visits else float("nan")


def scale_table(result: ScaleResult, pages: dict[str, str]) -> list[str]:
    tab_floor, app_floor = median(result.floor_new_tab), median(result.floor_in_app)
    new_tab_target = 1.5 if result.scale == 10 else None
    in_app_target = {10: 2.0, 100: 3.0}.get(result.scale)
    lines = [
        f"### Scale {result.scale:g}",
        "",
        f"Floor (trivial page): new tab **{tab_floor:.2f} s**, in-app navigation **{app_floor:.2f} s** "
        f"(medians of {len(result.floor_new_tab)} and {len(result.floor_in_app)} visits).",
        "",
        "| page | new tab (s) | x floor | in-app, second visit (s) | x floor | runs per visit |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for page, title in pages.items():
        tab, nav = result.new_tab.get(page, []), result.in_app.get(page, [])
        tab_ratio, nav_ratio = median(tab) / tab_floor, median(nav) / app_floor
        runs = sorted({v.runs for v in tab + nav})
        mark_tab = " (over)" if new_tab_target and tab_ratio > new_tab_target else ""
        mark_nav = " (over)" if in_app_target and nav_ratio > in_app_target else ""
        lines.append(
            f"| {title} | {median(tab):.2f} | {tab_ratio:.1f}x{mark_tab} | {median(nav):.2f} | {nav_ratio:.1f}x{mark_nav} "
            f"| {', '.join(map(str, runs))} |"
        )
    if result.wrong:
        lines += ["", "Visits that finished on another page:", *[f"- {line}" for line in result.wrong[:10]]]
    return lines


def run_load(sessions: int, think: float) -> dict | None:
    """bench/load.py at scale 1, users reading each page `think` s on average: its figures, or
    None when it was not asked for."""
    if not sessions:
        return None
    from bench import load

    figures, runs, _ = load.measure(sessions=sessions, swaps=2, scale=1.0, pause=20.0, think=think)
    # What a mixed or failed run showed (see bench/load.py), so the figures can be read.
    figures["findings"] = (runs.errors + runs.mixed)[:10]
    for line in figures["findings"]:
        print(f"load: {line}", file=sys.stderr)
    return figures


def write_results(
    args: argparse.Namespace,
    results: list[ScaleResult],
    deep: DeepLinks | None,
    freshness: Freshness | None,
    load: dict | None,
) -> str:
    pages = page_paths()
    command = (
        f"flock /tmp/pulse-heavy.lock .venv/bin/python -m bench.browser --scales {args.scales} --repeats {args.repeats} "
        f"--deep-links {args.deep_links} --freshness-tabs {args.freshness_tabs} --load-sessions {args.load_sessions} "
        f"--load-think {args.load_think:g} --write"
    )
    load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        "<!-- browser -->",
        "## Pages in the browser (issue 20)",
        "",
        f"Debian's chromium (Playwright) on `streamlit run app.py`, {platform.machine()}, {os.cpu_count()} cores shared "
        f"with other work (load average at the end {load_average}); measured {date.today():%Y-%m-%d}. "
        "From the click (or the new tab's navigation start) to the finished page: no script run under way, the "
        "page's heading, no stale element, every chart and table drawn, and nothing changing for "
        f"{QUIET_MS} ms (the time is the last change). Medians of {args.repeats} rounds. The floor is a trivial "
        "Streamlit app (four metrics, one Plotly chart, a 200-row table) served and timed the same way in the same "
        "run. Targets: in-app navigation within 2x the floor at scale 10 and 3x at scale 100; a new tab within "
        f"1.5x at scale 10. Command: `{command}`.",
        "",
    ]
    for result in results:
        lines += [*scale_table(result, pages), ""]
    if deep is not None:
        landed = len(deep.visits) - len([m for m in deep.missed if "finished on" in m])
        lines += [
            "### Deep links, first visit after a fresh start",
            "",
            f"{len(deep.visits) + len([m for m in deep.missed if 'Error' in m])} first visits, each on a freshly "
            f"started server (scale {args.deep_link_scale:g}), round the pages other than the default one: "
            f"**{landed} landed** on the page their URL named, in one script run; median "
            f"{median(deep.visits):.2f} s to the finished page.",
        ]
        if deep.missed:
            lines += ["", *[f"- {line}" for line in deep.missed[:10]]]
        lines.append("")
    if freshness is not None:
        lines += [
            "### The sidebar's new-data check, tabs left open",
            "",
            f"{freshness.tabs} tabs open on the Glossary for {freshness.seconds:.0f} s, nobody touching them: "
            f"{freshness.checks} checks (each a fragment run: one stat of the database file), {freshness.page_runs} "
            f"whole page runs; the server spent {freshness.cpu_seconds:.2f} s of CPU, "
            f"**{freshness.per_check_ms():.1f} ms per check**, "
            f"{100 * freshness.cpu_seconds / freshness.seconds / freshness.tabs:.2f}% of a core per open tab.",
            "",
        ]
    if load is not None:
        findings = load.pop("findings", [])
        lines += [
            f"### {load['sessions']} sessions at scale 1 (bench/load.py, two database swaps, "
            f"each user reading a page {load['reading s'] / 2:g}-{load['reading s'] * 3 / 2:g} s before the next click)",
            "",
            "| " + " | ".join(load) + " |",
            "| " + " | ".join("---:" for _ in load) + " |",
            "| " + " | ".join(str(v) for v in load.values()) + " |",
            "",
            "Target: p95 page under 2 s, 0 errors, 0 mixed, 0 other pages.",
            "",
            *[f"- {line}" for line in findings],
            *([""] if findings else []),
        ]
    lines.append("<!-- /browser -->")
    section = "\n".join(lines)
    if args.write:
        text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
        if "<!-- browser -->" in text:
            start, end = text.index("<!-- browser -->"), text.index("<!-- /browser -->") + len("<!-- /browser -->")
            text = text[:start] + section + text[end:]
        else:
            text = text.rstrip() + "\n\n" + section + "\n"
        RESULTS.write_text(text)
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,100", help="demo scales, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of every page per scale")
    parser.add_argument("--page", action="append", help="only these pages (url paths; repeatable)")
    parser.add_argument("--deep-links", type=int, default=100, help="first visits after a fresh start (0: none)")
    parser.add_argument("--deep-link-scale", type=float, default=1.0)
    parser.add_argument("--freshness-tabs", type=int, default=5, help="idle tabs for the new-data check's cost (0: none)")
    parser.add_argument("--load-sessions", type=int, default=20, help="bench/load.py sessions at scale 1 (0: none)")
    parser.add_argument("--load-think", type=float, default=5.0, help="mean seconds a user reads a page (bench/load.py --think)")
    parser.add_argument("--write", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args(argv)
    pages = page_paths()
    if args.page:
        pages = {page: title for page, title in pages.items() if page in args.page}

    results = []
    deep = freshness = None
    with chromium() as browser:
        for scale in (float(s) for s in args.scales.split(",") if s):
            results.append(bench_scale(browser, scale, args.repeats, pages))
            print("\n".join(scale_table(results[-1], pages)), file=sys.stderr)
        if args.deep_links:
            deep = bench_deep_links(browser, args.deep_link_scale, args.deep_links, page_paths())
        if args.freshness_tabs:
            freshness = bench_freshness(browser, 1.0, args.freshness_tabs, 60.0)
    load = run_load(args.load_sessions, args.load_think)
    print(write_results(args, results, deep, freshness, load))
    missed = (deep.missed if deep else []) + [line for result in results for line in result.wrong]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
