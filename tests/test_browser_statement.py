"""The CFO's files in a real browser: a partner statement prints on its own (the print styles hide
the sidebar and the buttons, one click opens the print dialog, and chromium makes a PDF of it), and
the Excel files the pages hand out add up to the tables beside them, to the cent.

Streamlit serves the demo program at scale 0.1 (conftest's `demo_db_path`); Debian's chromium is
driven by Playwright, with the server helpers of `scripts.screenshots`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from scripts.screenshots import CHROMIUM, busiest_partner
from tests.conftest import open_in_browser

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (`make chromium` installs it)")


def download(page, label: str) -> tuple[str, bytes]:
    button = page.locator('[data-testid="stDownloadButton"] button', has_text=label).first
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=30_000) as started:
        button.click()
    return started.value.suggested_filename, Path(started.value.path()).read_bytes()


def test_a_statement_prints_without_the_sidebar_or_buttons_in_one_click(browser, app_url: str, demo_db_path: Path):
    partner = busiest_partner(demo_db_path)
    page = open_in_browser(browser, f"{app_url}/statement?partner={partner}&period=All+time")
    try:
        assert page.locator('[data-testid="stMain"] h1').first.inner_text().startswith("Partner statement")
        # On a fresh server's first visit the tables can still be arriving when the page looks idle.
        page.locator('[data-testid="stTable"]').first.wait_for(state="visible", timeout=60_000)
        # One click opens the browser's print dialog (stubbed here: a headless browser has no dialog).
        page.evaluate("window.print = () => { window.__printed = (window.__printed || 0) + 1 }")
        page.get_by_role("button", name="Print or save as PDF").click()
        assert page.evaluate("window.__printed") == 1
        sidebar, actions = page.locator('[data-testid="stSidebar"]'), page.locator(".st-key-statement_actions")
        assert sidebar.is_visible() and actions.is_visible()
        page.emulate_media(media="print")
        assert not sidebar.is_visible() and not actions.is_visible()
        assert not page.locator(".st-key-statement_partner").is_visible()
        assert page.get_by_text("Deals credited under the plan").is_visible()
        assert page.locator('[data-testid="stTable"]').first.is_visible()
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    finally:
        page.close()


def test_the_statement_excel_adds_up_to_its_deals_csv(browser, app_url: str, demo_db_path: Path):
    partner = busiest_partner(demo_db_path)
    page = open_in_browser(browser, f"{app_url}/statement?partner={partner}&period=All+time")
    try:
        name, data = download(page, "Excel")
        _, deals_csv = download(page, "CSV: deals")
    finally:
        page.close()
    assert name.startswith(f"statement_{partner}_") and name.endswith(".xlsx")
    rows = list(csv.DictReader(io.StringIO(deals_csv.decode("utf-8"))))
    items = {
        row[0]: row[1] for row in openpyxl.load_workbook(io.BytesIO(data))["Statement"].iter_rows(min_row=2, values_only=True)
    }
    assert items["Deals credited"] == len(rows) > 0
    assert items["Commission"] == round(sum(float(row["commission"]) for row in rows), 2)
    assert items["Owed"] == round(sum(float(row["owed"]) for row in rows), 2)


def test_the_scenario_workbook_adds_up_to_the_attribution_pages_totals(browser, app_url: str):
    page = open_in_browser(browser, f"{app_url}/attribution?period=All+time")
    try:
        name, data = download(page, "Download the scenario workbook (Excel)")
        _, totals_csv = download(page, "Download CSV")  # the first table: each scenario's totals
    finally:
        page.close()
    assert name.startswith("scenarios_linear_vs_time-decay") and name.endswith(".xlsx")
    page_totals = list(csv.DictReader(io.StringIO(totals_csv.decode("utf-8"))))
    summary = list(openpyxl.load_workbook(io.BytesIO(data))["Summary"].iter_rows(min_row=2, max_row=3, values_only=True))
    for shown, row in zip(page_totals, summary, strict=True):
        assert shown["scenario"].startswith(row[0])
        assert (float(shown["won_revenue"]), float(shown["credited"]), float(shown["liability"])) == (row[10], row[11], row[13])
