"""The outreach log in a real browser: on Partner 360 someone records a contact with a dormant
partner, and the Engagement page's Dormant list then shows that contact's day as "Last contact"
and its next step's due date.

Streamlit serves the roles program of tests/test_roles_pages.py (Acme Partners, P1, is dormant)
in local mode (no login: an admin, who keeps the log for every partner), with a notes file of
the test's own; Debian's chromium is driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import notes
from scripts.screenshots import CHROMIUM, serve, wait_until_idle
from tests.test_roles_pages import build_roles_program

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (`make chromium` installs it)")


@pytest.fixture(scope="module")
def served(browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str, Path]]:
    folder = tmp_path_factory.mktemp("outreach_browser")
    db, notes_file = build_roles_program(folder), folder / "notes.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULSE_NOTES_DB", str(notes_file))  # the server inherits it
        with serve(db) as url:
            yield browser, url, notes_file


def dormant_rows(page) -> list[dict[str, str]]:
    """The Dormant tab's table as its cells read (the grid's accessible table)."""
    page.get_by_role("tab", name="Dormant").click()
    grid = page.locator('[role="tabpanel"]:visible [data-testid="stDataFrame"]').first
    grid.locator('[role="gridcell"]').first.wait_for(state="attached")  # the accessible table is not drawn
    headers = grid.locator('[role="columnheader"]').all_inner_texts()
    cells = grid.locator('[role="gridcell"]').all_inner_texts()
    return [dict(zip(headers, cells[i : i + len(headers)], strict=True)) for i in range(0, len(cells), len(headers))]


def test_a_contact_recorded_on_partner_360_shows_in_the_dormant_list(served):
    browser, url, notes_file = served
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/engagement?period=All+time", timeout=30_000)
        wait_until_idle(page)
        before = {row["Partner"]: row for row in dormant_rows(page)}
        assert before["Acme Partners"]["Last contact"] == ""

        page.goto(f"{url}/partner?partner=P1&period=All+time", timeout=30_000)
        wait_until_idle(page)
        # The form is drawn only in its tab; what is typed stays when the tab is closed and opened again.
        assert page.get_by_label("Outcome").count() == 0
        page.get_by_role("tab", name="Record a contact").click()
        page.get_by_label("Outcome").fill("Agreed a joint webinar")
        page.get_by_label("Next step", exact=True).fill("Send the webinar deck")
        page.get_by_role("tab", name="Contacts (0)").click()
        wait_until_idle(page)
        assert page.get_by_label("Outcome").count() == 0
        page.get_by_role("tab", name="Record a contact").click()
        wait_until_idle(page)
        assert page.get_by_label("Outcome").input_value() == "Agreed a joint webinar"
        assert page.get_by_label("Next step", exact=True).input_value() == "Send the webinar deck"
        # The date field's segments (year, month, day): typing fills one and moves to the next.
        page.get_by_role("spinbutton", name="year, Next step due").click()
        page.keyboard.type("20300131")
        page.get_by_role("button", name="Save contact").click()
        wait_until_idle(page)
        assert (
            page.locator('[data-testid="stAlertContentSuccess"]')
            .inner_text()
            .endswith("Contact recorded, as local mode (no login).")
        )
        assert page.get_by_label("Outcome").input_value() == ""  # emptied for the next contact
        page.get_by_role("tab", name="Contacts (1)").click()
        wait_until_idle(page)
        contact = page.locator('[role="tabpanel"]:visible [role="gridcell"]', has_text="Agreed a joint webinar")
        contact.first.wait_for(state="attached")  # the log's grid (its accessible table: the cells are drawn)

        page.goto(f"{url}/engagement?period=All+time", timeout=30_000)
        wait_until_idle(page)
        after = {row["Partner"]: row for row in dormant_rows(page)}
        assert (after["Acme Partners"]["Last contact"], after["Acme Partners"]["Next step due"]) == (
            f"{date.today():%Y-%m-%d}",
            "2030-01-31",
        )
        assert after["Beacon Systems"]["Last contact"] == ""  # dormant too, and nobody has called
    finally:
        page.close()
    [saved] = notes.Log(notes_file, frozenset({"P1"}), "x").contacts("P1").rows(named=True)
    assert (saved["outcome"], saved["next_step_due"]) == ("Agreed a joint webinar", date(2030, 1, 31))
