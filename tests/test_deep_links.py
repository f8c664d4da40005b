"""A link from an email opened as the first visit after the server starts lands on its page.

Until some run has called st.navigation, Streamlit takes the pages/ folder next to app.py for an
app of the old kind and runs the linked page without app.py (`ui.run_frame` puts the frame
around it in the same run). Each test starts its own server (`streamlit run app.py` on the demo
program at scale 0.1) and opens one link in Debian's chromium as the server's very first request.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.browser import RunCounter
from scripts.screenshots import CHROMIUM, PAGES, serve, wait_until_idle

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (`make chromium` installs it)")
SIDEBAR = '[data-testid="stSidebar"]'


@pytest.mark.parametrize("url_path", ["forecast", "engagement", "attribution", "data"])
def test_a_deep_link_as_the_first_visit_after_start_lands_on_its_page_in_one_run(browser, demo_db_path: Path, url_path: str):
    with serve(demo_db_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        runs = RunCounter(page)
        try:
            page.goto(f"{url}/{url_path}?region=EMEA", timeout=60_000)
            wait_until_idle(page)
            assert page.locator('[data-testid="stMain"] h1').first.inner_text() == PAGES[url_path]
            assert page.evaluate("() => location.pathname") == f"/{url_path}"
            assert runs.runs == 1, f"the page ran {runs.runs} times"
            # The frame ran: the app's own navigation (no entry for app.py itself) and the link's filters.
            navigation = page.locator('[data-testid="stSidebarNav"]').inner_text()
            assert "Program health" in navigation and "Glossary" in navigation and "\napp\n" not in f"\n{navigation}\n"
            sidebar = page.locator(SIDEBAR)
            region = sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Region")
            assert region.get_by_text("EMEA", exact=True).count() == 1
            assert "region=EMEA" in page.url
        finally:
            page.close()


def test_a_filter_changed_right_after_a_first_visit_keeps_the_other_filters_and_the_page(browser, demo_db_path: Path):
    # The first run's sidebar widgets are the same widgets as on every later run: nothing is lost.
    with serve(demo_db_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{url}/engagement?region=EMEA", timeout=60_000)
            wait_until_idle(page)
            sidebar = page.locator(SIDEBAR)
            sidebar.get_by_role("combobox", name="Period").click()
            page.locator('[role="option"]', has_text="Last 4 fiscal quarters").click()
            page.wait_for_function("() => location.search.includes('period=Last')", timeout=30_000)
            wait_until_idle(page)
            assert page.locator('[data-testid="stMain"] h1').first.inner_text() == "Engagement & burnout"
            region = sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Region")
            assert region.get_by_text("EMEA", exact=True).count() == 1
            assert "Filtering by: last 4 fiscal quarters, region" in sidebar.inner_text()
        finally:
            page.close()
