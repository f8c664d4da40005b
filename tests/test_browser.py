"""The served app in a real browser: `streamlit run app.py` on the demo program, Debian's
chromium driven by Playwright clicks every page in the sidebar navigation, and the test fails
on any exception box or error message."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from loaders.build import build_database
from tests.conftest import PROJECT, TINY, write_extracts

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
# Page title in the navigation -> its url_path (app.py).
PAGES = {
    "Program health": "health",
    "Pipeline forecast": "forecast",
    "Engagement & burnout": "engagement",
    "Partner 360": "partner",
    "Attribution scenarios": "attribution",
    "Disagreements": "disagreements",
    "Data": "data",
}
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (`make chromium` installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo program at scale 0.1, shared with the other tests (conftest's session fixture);
    the tiny program while the demo generator is missing."""
    try:
        from loaders.demo import write_demo  # noqa: F401
    except ImportError:
        folder = tmp_path_factory.mktemp("browser")
        build_database(write_extracts(folder / "extracts", TINY), folder / "pulse.duckdb")
        return folder / "pulse.duckdb"
    return request.getfixturevalue("demo_db_path")


@pytest.fixture(scope="module")
def app_url(served_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("streamlit") / "server.log").open("w+")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            "--client.showErrorDetails",
            "full",
        ],
        cwd=PROJECT,
        env={**os.environ, "PULSE_DB": str(served_db)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"streamlit did not come up on port {port}:\n{log.read()[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
        log.close()


def wait_until_idle(page) -> None:
    """Wait for the script run to start and finish: the status widget shows while it runs."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=30_000)
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=45_000, polling=200)
    page.wait_for_timeout(300)


def test_every_page_opens_from_the_navigation_without_an_error(app_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app_url, timeout=30_000)
            wait_until_idle(page)
            problems = {}
            for title, url_path in PAGES.items():
                page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
                # The default page (Program health) lives at "/".
                page.wait_for_function(
                    "path => location.pathname.endsWith('/' + path) || (path === 'health' && location.pathname === '/')",
                    arg=url_path,
                    timeout=15_000,
                )
                wait_until_idle(page)
                heading = page.locator('[data-testid="stMain"] h1').first.inner_text()
                errors = page.locator(ERRORS)
                if errors.count():
                    problems[title] = "\n---\n".join(errors.nth(i).inner_text()[:2000] for i in range(errors.count()))
                elif title not in heading:
                    problems[title] = f"the page shows {heading!r}, not {title!r}"
            assert not problems, "\n\n".join(f"{title}:\n{text}" for title, text in problems.items())
        finally:
            browser.close()
