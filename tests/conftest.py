"""Shared fixtures: tiny hand-checkable extracts loaded by the real loaders, the demo program
at a small scale for the pages, AppTest with clean Streamlit caches, and for the browser tests
Debian's chromium (Playwright) and the app served on the demo program."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from loaders.build import build_database

PROJECT = Path(__file__).resolve().parent.parent
APP = PROJECT / "app.py"
SHARED_DATA = PROJECT.parent / "shared" / "data"

# A tiny program a reader can check by hand. Today (data as of, the latest event) is 2026-06-20, in FY2026 Q2.
TINY = {
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at,region,country,partner_manager,status
        P1,Acme Partners,referral;reseller,gold,2025-01-15,EMEA,DE,Maria Lopez,active
        P2,Beacon Systems,integration,silver,2026-02-01,NA,US,Sam Reed,active
        P3,Cobalt Consulting,services,registered,2024-06-01,NA,CA,Sam Reed,terminated
    """,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,is_closed,is_won,forecast_category,sourced_partner_id,region,account_name
        O1,1000,Closed Won,2026-04-01,2026-05-15,true,true,closed,P1,EMEA,Alpha GmbH
        O2,3000,Closed Won,2026-03-01,2026-06-10,true,true,closed,,NA,Bravo Inc
        O3,2000,Closed Lost,2026-04-10,2026-06-01,true,false,omitted,P2,NA,Charlie Ltd
        O4,5000,Negotiation/Review,2026-05-01,2026-08-30,false,false,commit,,NA,Delta LLC
        O5,4000,Closed Won,2026-01-05,2026-02-20,true,true,closed,,NA,Echo Co
    """,
    "touchpoints.csv": """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T1,O1,P1,referral,2026-04-01 10:00:00
        T2,O2,P1,co_selling,2026-04-01 09:00:00
        T3,O2,P2,integration,2026-05-20 09:00:00
        T4,O4,P2,technical_validation,2026-06-01 09:00:00
    """,
    "partner_activities.csv": """
        activity_id,partner_id,activity_type,occurred_at
        A1,P1,training_completed,2026-06-01 10:00:00
        A2,P2,portal_login,2026-06-20 10:00:00
        A3,P2,deal_registered,2026-02-10 10:00:00
        A4,P3,co_marketing,2025-10-01 10:00:00
    """,
    "deal_registrations.csv": """
        registration_id,partner_id,registered_at,status,opportunity_id,claimed_role,decided_at
        R1,P1,2026-04-02 10:00:00,approved,O1,sourced,2026-04-05 10:00:00
        R2,P2,2026-02-10 10:00:00,rejected,O5,sourced,2026-02-12 10:00:00
    """,
    "payouts.csv": """
        payout_id,partner_id,amount,payout_type,period,opportunity_id,status,paid_at
        PO1,P1,100,commission,2026-05-01,O1,paid,2026-06-15
        PO2,P1,150,commission,2026-06-01,O2,accrued,
    """,
}


def write_extracts(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def tiny_db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny program, built and served (PULSE_DB points at it). A test module marked
    `reads_tiny_program` only reads it: its tests share one build per test session (a build takes
    seconds); any other test gets a build of its own, to change as it likes."""
    shared = request.node.get_closest_marker("reads_tiny_program")
    db = request.getfixturevalue("shared_tiny_program") if shared else build_tiny(tmp_path)
    monkeypatch.setenv("PULSE_DB", str(db))
    return db


@pytest.fixture(scope="session")
def shared_tiny_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny program built once per test session, for the modules marked `reads_tiny_program`."""
    return build_tiny(tmp_path_factory.mktemp("tiny_shared"))


def build_tiny(folder: Path) -> Path:
    """The tiny program's extracts written under `folder` and built into folder/tiny.duckdb."""
    db = folder / "tiny.duckdb"
    build_database(write_extracts(folder / "tiny", TINY), db)
    return db


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo program at a small scale, built once per test session."""
    from loaders.demo import write_demo

    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder / "extracts", scale=0.1, seed=7)
    db = folder / "demo.duckdb"
    build_database(folder / "extracts", db)
    return db


@pytest.fixture
def demo_db(demo_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PULSE_DB", str(demo_db_path))
    return demo_db_path


@pytest.fixture(autouse=True)
def clean_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    # Outside a page run (bare mode) session state is process-wide: drop the pinned version.
    st.session_state.pop("_db_version", None)
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(page: str, query: dict[str, str] | None = None, timeout: float = 30) -> AppTest:
    """Run the app on one page (its url_path), optionally with URL query parameters."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    # The first run registers st.navigation's pages; only then can a page be switched to.
    at.run()
    at.switch_page(f"pages/{page}.py")
    return at.run()


def open_tab(at: AppTest, key: str, starts: str) -> AppTest:
    """Open the tab of ui.tabs(`key`) whose label starts with `starts`, as a click does: only the
    open tab's content runs. AppTest cannot click a tab, so this sets the state a click leaves."""
    labels = [tab.label for tab in at.tabs]
    [label] = [label for label in labels if label == starts] or [label for label in labels if label.startswith(starts)]
    [group] = [group for group in tab_groups(at._tree) if label in group]
    at.session_state[key] = label
    at.session_state[f"_{key}_open"] = group.index(label)  # what the click's callback keeps (ui.tabs)
    return at.run()


def tab_groups(node: Any) -> Iterator[list[str]]:
    """The labels of each tab group under an AppTest node, in order."""
    children = list((getattr(node, "children", None) or {}).values())
    labels = [child.label for child in children if type(child).__name__ == "Tab"]
    if labels:
        yield labels
    for child in children:
        yield from tab_groups(child)


# ---- the browser tests (test_browser*.py, test_deep_links.py) ----------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright's sync API, one per test file that asks for it.

    Not one per session: between its calls the sync API leaves its event loop marked as the
    thread's running loop, so while a browser is open `asyncio.run` fails in every other test
    (test_concurrency.py's load sessions). Closed at the end of each file, it is gone by then."""
    from playwright.sync_api import sync_playwright

    from scripts.screenshots import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def app_url(demo_db_path: Path) -> Iterator[str]:
    """The app (`streamlit run app.py`) serving the demo program, one server per test session.
    A test that swaps the database or needs a fresh server's first visit serves its own."""
    from scripts.screenshots import serve

    with serve(demo_db_path) as url:
        yield url


def open_in_browser(browser: Any, url: str) -> Any:
    """A new tab on `url`, downloads allowed, once the app has stopped running."""
    from scripts.screenshots import wait_until_idle

    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.goto(url, timeout=30_000)
    wait_until_idle(page)
    return page
