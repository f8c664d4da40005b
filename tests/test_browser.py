"""The served app in a real browser: `streamlit run app.py` on the demo program, Debian's
chromium driven by Playwright clicks every page in the sidebar navigation, and the test fails
on any exception box or error message."""

from __future__ import annotations

import pytest

from scripts.screenshots import CHROMIUM, PAGES, wait_until_idle
from tests.conftest import open_in_browser

ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (`make chromium` installs it)")


def test_every_page_opens_from_the_navigation_without_an_error(browser, app_url: str):
    page = open_in_browser(browser, app_url)
    try:
        problems = {}
        for url_path, title in PAGES.items():
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
        page.close()
