"""The "My partners" switch at the top of the sidebar: a partner lead's own partners, one click
from every page, kept in the URL, with a clear way back; an admin picks a manager once.

The tiny program: Maria Lopez manages P1 (Acme Partners); Sam Reed manages P2 (Beacon Systems)
and P3 (Cobalt Consulting, terminated, so not on the Engagement page's books).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loaders.build import build_database
from settings import Role, Settings
from tests.conftest import APP, TINY, write_extracts

ROLES = {
    "maria@example.com": Role(role="partner_lead", partner_managers=["Maria Lopez"]),
    "both@example.com": Role(role="partner_lead", partner_managers=["Maria Lopez", "Sam Reed"]),
    "exec@example.com": Role(role="executive"),
}


@pytest.fixture(scope="module")
def roles_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("my_partners")
    db = folder / "roles.duckdb"
    build_database(write_extracts(folder / "x", TINY), db, settings=Settings(roles=ROLES))
    return db


@pytest.fixture
def roles_db(roles_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PULSE_DB", str(roles_db_path))
    return roles_db_path


def open_as(email: str | None, page: str = "engagement", query: dict[str, str] | None = None) -> AppTest:
    """The page as this user sees it; None = local mode (no login configured: admin)."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    if email:
        at.user = {"is_logged_in": True, "email": email}
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"pages/{page}.py")
    return at.run()


def partners_card(at: AppTest) -> str:
    return next(metric.value for metric in at.metric if metric.label == "Partners")


def managers(at: AppTest) -> list[str]:
    return at.multiselect(key="manager").value


def url_values(at: AppTest, key: str) -> list[str]:
    value = at.query_params.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def test_a_partner_lead_starts_on_their_partners_and_the_page_says_whose(roles_db: Path):
    at = open_as("maria@example.com")
    assert not at.exception, at.exception
    switch = at.toggle(key="mine")
    assert switch.label == "My partners" and switch.value is True
    # One name: nothing to narrow or widen, so the switch only says what the lead sees.
    assert switch.disabled
    assert managers(at) == ["Maria Lopez"]
    assert url_values(at, "manager") == ["Maria Lopez"]
    assert any("Partners of **Maria Lopez**" in caption.value for caption in at.sidebar.caption)
    assert partners_card(at) == "1"
    # The default view of a lead is not a filter to reset.
    assert not [button for button in at.sidebar.button if button.label == "Reset filters"]


def test_a_lead_with_two_names_narrows_to_one_and_is_back_on_all_theirs_in_one_click(roles_db: Path):
    at = open_as("both@example.com")
    assert not at.exception, at.exception
    assert at.toggle(key="mine").value is True and not at.toggle(key="mine").disabled
    assert sorted(managers(at)) == ["Maria Lopez", "Sam Reed"] and partners_card(at) == "2"

    at.multiselect(key="manager").set_value(["Sam Reed"]).run()
    assert at.toggle(key="mine").value is False and partners_card(at) == "1"

    at.toggle(key="mine").set_value(True).run()
    assert not at.exception, at.exception
    assert sorted(managers(at)) == ["Maria Lopez", "Sam Reed"] and partners_card(at) == "2"


def test_an_admin_picks_a_manager_once_then_switches_that_view_on_and_off_from_any_page(roles_db: Path):
    at = open_as(None)  # local mode: admin
    assert not at.exception, at.exception
    assert at.toggle(key="mine").label == "A manager's partners" and at.toggle(key="mine").value is False
    assert partners_card(at) == "2"

    at.toggle(key="mine").set_value(True).run()
    assert at.toggle(key="mine").value is True, "stays on while asking whose partners"
    at.selectbox(key="mine_manager").select("Sam Reed").run()
    assert not at.exception, at.exception
    assert managers(at) == ["Sam Reed"] and partners_card(at) == "1"
    assert url_values(at, "mine") == ["Sam Reed"] and url_values(at, "manager") == ["Sam Reed"]
    assert list(at.dataframe[-1].value["partner_id"]) == ["P2"]

    # Another page keeps the view: Partner 360 searches Sam Reed's partners only.
    at.switch_page("pages/partner.py").run()
    assert not at.exception, at.exception
    assert at.toggle(key="mine").value is True
    assert set(at.selectbox(key="partner_pick").options) == {"Beacon Systems (P2)", "Cobalt Consulting (P3)"}

    # The way back: off restores the filters as they were, and the URL forgets the view.
    at.switch_page("pages/engagement.py").run()
    at.toggle(key="mine").set_value(False).run()
    assert managers(at) == [] and partners_card(at) == "2"
    assert "mine" not in at.query_params and "manager" not in at.query_params

    # Back on: one click, the manager is remembered.
    at.toggle(key="mine").set_value(True).run()
    assert managers(at) == ["Sam Reed"] and partners_card(at) == "1"


def test_a_link_with_the_view_reproduces_it_and_its_partner_links_carry_it(roles_db: Path):
    at = open_as(None, query={"mine": "Sam Reed"})
    assert not at.exception, at.exception
    assert at.toggle(key="mine").value is True
    assert at.selectbox(key="mine_manager").value == "Sam Reed"
    assert managers(at) == ["Sam Reed"] and partners_card(at) == "1"
    link = at.dataframe[0].value["partner_link"][0]
    assert link.startswith("./partner?partner=P2&") and "manager=Sam+Reed" in link and "mine=Sam+Reed" in link


def test_turning_the_view_off_keeps_a_manager_filter_chosen_before(roles_db: Path):
    at = open_as(None, query={"manager": "Maria Lopez"})
    at.toggle(key="mine").set_value(True).run()
    at.selectbox(key="mine_manager").select("Sam Reed").run()
    assert managers(at) == ["Sam Reed"]
    at.toggle(key="mine").set_value(False).run()
    assert managers(at) == ["Maria Lopez"] and partners_card(at) == "1"


def test_executives_have_no_switch(roles_db: Path):
    at = open_as("exec@example.com")
    assert not at.exception, at.exception
    assert not [toggle for toggle in at.toggle if toggle.key == "mine"]
