"""Screenshots of every page of the served demo app, for the README: `make screenshots`.

Serves `app.py` on a demo database (data/pulse.duckdb when present, else the demo program at
scale 0.3 built into a temporary folder), drives Debian's chromium with Playwright, and
writes one full-page PNG per page to docs/screenshots/<page>.png, 1400 px wide, once the
app has finished running and its charts have drawn. PNGs are reduced to a 256-colour
palette so each stays well under 500 KB.

This module also owns `serve()` and `wait_until_idle()`, which the browser UX tests reuse.

    python -m scripts.screenshots [--db FILE] [--out DIR] [--scale 0.3] [--page health ...]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# url_path -> title in the navigation (app.py). Partner 360 and the statement open on the busiest partner.
PAGES = {
    "health": "Program health",
    "forecast": "Pipeline forecast",
    "engagement": "Engagement & burnout",
    "partner": "Partner 360",
    "attribution": "Attribution scenarios",
    "disagreements": "Disagreements",
    "statement": "Partner statement",
    "data": "Data",
    "glossary": "Glossary",
}
WIDTH = 1400


class ServedURL(str):
    """The served app's URL, which also knows the server's process id (bench/browser.py reads its CPU time)."""

    pid: int

    def __new__(cls, url: str, pid: int) -> ServedURL:
        served = super().__new__(cls, url)
        served.pid = pid
        return served


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(db: Path | None, *extra_args: str, timeout: float = 30, script: str = "app.py") -> Iterator[str]:
    """`streamlit run app.py` on `db` (PULSE_DB) on a free local port; yields its URL. Another
    `script` is served with the same options and the project's config (bench/browser.py's floor)."""
    port = free_port()
    log = tempfile.TemporaryFile("w+")
    server = subprocess.Popen(  # noqa: S603 (a fixed command line)
        [
            sys.executable, "-m", "streamlit", "run", script,
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
            "--client.showErrorDetails", "full",
            *extra_args,
        ],
        cwd=PROJECT,
        env={**os.environ, "PULSE_DB": str(db)} if db else dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:  # noqa: S310 (local URL)
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"streamlit did not come up on port {port}:\n{log.read()[-3000:]}")
            time.sleep(0.25)
        yield ServedURL(url, server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
        log.close()


def wait_until_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait for the script run to finish (the app root's `data-test-script-state` turns
    `notRunning`; Streamlit 1.67 has no status widget to watch), for every Plotly chart on the
    page to have drawn, and for the page to stop growing."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=timeout_ms,
        polling=200,
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')].every(chart => chart.querySelector('.main-svg'))",
        timeout=timeout_ms,
        polling=200,
    )
    # The browser keeps drawing elements for a moment after the run ends: wait until it stops.
    last, steady = -1, 0
    while steady < 3:
        page.wait_for_timeout(250)
        count = page.evaluate("() => document.querySelectorAll('[data-testid]').length")
        last, steady = count, steady + 1 if count == last else 0


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def busiest_partner(db: Path) -> str | None:
    """The partner with the most touchpoints, so Partner 360 shows a full page."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.sql(
            "select partner_id from touchpoints group by partner_id order by count(*) desc, partner_id limit 1"
        ).fetchall()
    finally:
        con.close()
    return rows[0][0] if rows else None


def shrink(path: Path, budget: int = 450_000) -> None:
    """Reduce a screenshot to a palette: 256 colours (UI colours survive; ~4x smaller), fewer
    for a long page of text until it fits the budget (bytes), so the README stays light."""
    from PIL import Image

    with Image.open(path) as image:
        original = image.convert("RGB")
    for colors in (256, 128, 64, 32):
        original.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
        if path.stat().st_size <= budget:
            return


def full_height(page) -> int:
    """The bottom of the page's content in CSS pixels (Streamlit sizes its containers to the
    viewport, so the document's own scroll height is no guide)."""
    return int(
        page.evaluate(
            "() => Math.max(...[...document.querySelectorAll("
            "'[data-testid=stMainBlockContainer], [data-testid=stSidebarContent] > *')]"
            ".map(el => el.getBoundingClientRect().bottom + window.scrollY))"
        )
    )


def fit_viewport(page, limit: int = 12_000) -> None:
    """Grow the viewport until the whole page fits, so a plain screenshot holds all of it."""
    for _ in range(5):
        needed = min(full_height(page) + 40, limit)
        if needed <= page.viewport_size["height"]:
            return
        page.set_viewport_size({"width": WIDTH, "height": needed})
        wait_until_idle(page)


def screenshot_pages(url: str, out: Path, pages: list[str], partner: str | None) -> dict[str, tuple[float, int]]:
    """One PNG per page; returns {page: (seconds, bytes)}."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    results = {}
    with sync_playwright() as p:
        browser = launch(p)
        try:
            for name in pages:
                started = time.monotonic()
                page = browser.new_page(viewport={"width": WIDTH, "height": 900})
                query = f"?partner={partner}" if name in ("partner", "statement") and partner else ""
                query += "&period=Last+4+fiscal+quarters" if name == "statement" and partner else ""
                # The default page (Program health) is served at "/": Streamlit ignores its url_path.
                path = "" if name == "health" else name
                page.goto(f"{url}/{path}{query}", timeout=30_000)
                wait_until_idle(page)
                fit_viewport(page)
                target = out / f"{name}.png"
                page.screenshot(path=str(target), full_page=True, animations="disabled")
                page.close()
                shrink(target)
                results[name] = (time.monotonic() - started, target.stat().st_size)
        finally:
            browser.close()
    return results


def demo_database(folder: Path, scale: float, seed: int = 7) -> Path:
    from loaders.build import build_database
    from loaders.demo import write_demo

    write_demo(folder / "extracts", scale=scale, seed=seed)
    db = folder / "pulse.duckdb"
    build_database(folder / "extracts", db)
    return db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="database to serve (default: data/pulse.duckdb, else a fresh demo)")
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "screenshots")
    parser.add_argument("--scale", type=float, default=0.3, help="demo scale when a demo is built")
    parser.add_argument("--page", action="append", choices=list(PAGES), help="only these pages (repeatable)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print("Debian's chromium is missing: `make chromium` installs it.", file=sys.stderr)
        return 1
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pulse-screenshots-") as tmp:
        db = args.db or (PROJECT / "data" / "pulse.duckdb")
        if args.db is None and not db.exists():
            print(f"Building the demo program at scale {args.scale} ...", file=sys.stderr)
            db = demo_database(Path(tmp), args.scale)
        built = time.monotonic()
        partner = busiest_partner(db)
        with serve(db) as url:
            results = screenshot_pages(url, args.out, args.page or list(PAGES), partner)
    for name, (seconds, size) in results.items():
        print(f"{name:<14} {seconds:5.1f} s  {size / 1024:6.0f} KB  {args.out / (name + '.png')}")
    print(f"database {built - started:.1f} s, total {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
