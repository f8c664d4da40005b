"""What a user feels in a real browser: a shared link reproduces the view, every page's CSV
download downloads, and the dark theme draws charts on a dark background.

Streamlit serves the demo program at scale 0.1 (conftest's `demo_db_path`); Debian's chromium
is driven by Playwright. The server helpers are `scripts.screenshots`'s, which the README's
screenshots use too.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.screenshots import CHROMIUM, PAGES, busiest_partner, serve, wait_until_idle
from tests.conftest import open_in_browser

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (`make chromium` installs it)")
SIDEBAR = '[data-testid="stSidebar"]'


@pytest.fixture(scope="module")
def dark_url(demo_db_path: Path) -> Iterator[str]:
    with serve(demo_db_path, "--theme.base", "dark") as url:
        yield url


# Program health, the default page, is served at / (and at /health once the server has run app.py).
@pytest.mark.parametrize("path", ["/health", "/engagement"], ids=["program health", "engagement"])
def test_a_deep_link_with_filters_shows_those_filters_selected_in_the_sidebar(browser, app_url: str, path: str):
    page = open_in_browser(browser, f"{app_url}{path}?region=EMEA&period=Last+4+fiscal+quarters")
    try:
        sidebar = page.locator(SIDEBAR)
        region = sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Region")
        assert region.get_by_text("EMEA", exact=True).count() == 1
        period = sidebar.get_by_role("combobox", name="Period")
        assert period.input_value() == "Last 4 fiscal quarters"
        assert "Filtering by: last 4 fiscal quarters, region" in sidebar.inner_text()
        # The URL keeps the filters, so copying it shares the view.
        assert "region=EMEA" in page.url and "period=Last" in page.url
    finally:
        page.close()


def test_filters_bound_to_the_url_follow_the_user_keep_a_pages_own_parameter_and_reset_clears_them(
    browser, app_url: str
):
    # Period and region are bound to the URL by Streamlit; Program health (at /) writes health_compare on every run.
    page = open_in_browser(browser, f"{app_url}/?region=EMEA&period=Last+4+fiscal+quarters&health_compare=full_period")
    try:
        sidebar = page.locator(SIDEBAR)
        sidebar.get_by_role("combobox", name="Region").click()
        page.keyboard.type("NA")
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.search.includes('region=NA')", timeout=30_000)
        wait_until_idle(page)
        for kept in ("region=EMEA", "period=Last+4+fiscal+quarters", "health_compare=full_period"):
            assert kept in page.url, page.url
        # Another page keeps the shared filters.
        page.locator('[data-testid="stSidebarNav"] a', has_text="Engagement").first.click()
        page.wait_for_function("() => location.pathname.endsWith('/engagement')", timeout=30_000)
        wait_until_idle(page)
        assert "region=EMEA&region=NA" in page.url and "period=Last" in page.url, page.url
        assert "Filtering by: last 4 fiscal quarters, region" in sidebar.inner_text()
        sidebar.get_by_role("button", name="Reset filters").click()
        page.wait_for_function("() => !location.search.includes('region')", timeout=30_000)
        wait_until_idle(page)
        assert "period=" not in page.url, page.url
        page.reload()
        wait_until_idle(page)
        assert "Filtering by" not in sidebar.inner_text()
    finally:
        page.close()


def test_every_pages_first_csv_download_downloads_a_csv_file(browser, app_url: str, demo_db_path: Path):
    partner = busiest_partner(demo_db_path)
    downloaded, not_offered = {}, []
    for url_path in PAGES:
        query = f"?partner={partner}" if url_path == "partner" else ""
        page = open_in_browser(browser, f"{app_url}/{'' if url_path == 'health' else url_path}{query}")
        try:
            # The first one on show (others may sit in a closed tab or expander).
            button = page.locator('[data-testid="stDownloadButton"] button:visible').first
            if not page.locator('[data-testid="stDownloadButton"] button:visible').count():
                not_offered.append(url_path)
                continue
            button.scroll_into_view_if_needed()
            with page.expect_download(timeout=15_000) as download:
                button.click()
            text = Path(download.value.path()).read_text(encoding="utf-8-sig")
            downloaded[url_path] = (download.value.suggested_filename, text)
        finally:
            page.close()
    problems = {
        name: file_name
        for name, (file_name, text) in downloaded.items()
        if not file_name.endswith(".csv") or "," not in text.splitlines()[0] or len(text.splitlines()) < 2
    }
    assert not problems, f"these downloads are not a CSV with a header and rows: {problems}"
    assert len(downloaded) >= 6, f"only {sorted(downloaded)} offered a download; not offered: {not_offered}"


def test_the_dark_theme_draws_charts_on_a_dark_background(browser, dark_url: str):
    from PIL import Image

    page = open_in_browser(browser, f"{dark_url}/forecast")
    try:
        chart = page.locator('[data-testid="stPlotlyChart"]').first
        chart.scroll_into_view_if_needed()
        image = Image.open(io.BytesIO(chart.screenshot())).convert("L")
    finally:
        page.close()
    pixels = list(image.getdata())
    dark = sum(1 for value in pixels if value < 60) / len(pixels)
    light = sum(1 for value in pixels if value > 150) / len(pixels)
    # The background (most of the chart) follows the theme; labels and gridlines stay readable.
    assert dark > 0.6, f"only {dark:.0%} of the chart is dark: its background does not follow the dark theme"
    assert light > 0.001, "no light pixels: the chart's text would be unreadable on the dark background"


def test_an_open_page_reruns_on_a_newly_built_database_and_stays_on_its_page(browser, demo_db_path: Path, tmp_path: Path):
    # Its own copy of the database, as the build below swaps it.
    import shutil

    from loaders.build import build_database
    from tests.conftest import TINY, write_extracts

    db = tmp_path / "pulse.duckdb"
    shutil.copy(demo_db_path, db)
    with serve(db) as url:
        page = open_in_browser(browser, f"{url}/attribution?period=All+time")
        try:
            sidebar = page.locator(SIDEBAR)
            assert "Data as of 2026-11-20" in sidebar.inner_text()
            build_database(write_extracts(tmp_path / "tiny", TINY), db)  # the tiny program's data ends 2026-06-20
            # The sidebar's check runs every 5 seconds and reruns the page on the new file.
            page.wait_for_function(
                "() => document.querySelector('[data-testid=stSidebar]').innerText.includes('Data as of 2026-06-20')",
                timeout=30_000,
                polling=500,
            )
            wait_until_idle(page)
            assert page.locator('[data-testid="stMain"] h1').first.inner_text() == "Attribution scenarios"
            assert "/attribution" in page.url
        finally:
            page.close()


def test_only_the_open_tab_is_drawn_and_it_stays_open_when_a_filter_changes_its_count(browser, app_url: str):
    # Engagement's lists are tabs whose labels carry their counts; a closed tab's list is not sent.
    page = open_in_browser(browser, f"{app_url}/engagement")
    try:
        main = page.locator('[data-testid="stMain"]')
        lists = main.get_by_role("tabpanel").locator('[data-testid="stDataFrame"], [data-testid="stAlert"]')
        assert lists.count() == 1  # the open tab's list (or its empty note) only
        dormant = main.get_by_role("tab").filter(has_text="Dormant")
        before = dormant.inner_text()
        dormant.click()
        wait_until_idle(page)
        assert dormant.get_attribute("aria-selected") == "true"
        assert lists.count() == 1
        sidebar = page.locator(SIDEBAR)
        sidebar.get_by_role("combobox", name="Region").click()
        page.keyboard.type("EMEA")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")  # the open list hides the page from the accessibility tree
        page.wait_for_function("() => location.search.includes('region=EMEA')", timeout=30_000)
        wait_until_idle(page)
        dormant = main.get_by_role("tab").filter(has_text="Dormant")
        assert dormant.inner_text() != before, "the region filter should change the count, or this test proves nothing"
        assert dormant.get_attribute("aria-selected") == "true"
    finally:
        page.close()
