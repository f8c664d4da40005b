"""The outreach log in the app: a partner lead records a contact on Partner 360 and sees it there
and as "Last contact" / "Next step due" in the Engagement page's Dormant list; a failed save says
so and keeps what was typed; another manager's partner and a role without a log show no form.

Runs on the roles program of tests/test_roles_pages.py: Maria Lopez (maria@example.com, partner
lead) manages P1, Acme Partners, which is dormant and at risk as of 2026-06-20."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import notes
import state
from tests.conftest import APP, open_tab
from tests.test_roles_pages import build_roles_program

KEY = "partner_outreach_{}_P1_new"


@pytest.fixture(scope="module")
def roles_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_roles_program(tmp_path_factory.mktemp("outreach"))


@pytest.fixture
def served(roles_db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The roles program served, with a fresh notes file for the test."""
    monkeypatch.setenv("PULSE_DB", str(roles_db_path))
    monkeypatch.setenv("PULSE_NOTES_DB", str(tmp_path / "notes.sqlite"))
    return tmp_path / "notes.sqlite"


def open_as(email: str, page: str, partner: str = "P1") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.user = {"is_logged_in": True, "email": email}
    at.query_params["period"] = "All time"
    at.query_params["partner"] = partner
    at.run()
    at.switch_page(f"pages/{page}.py")
    return at.run()


def fill_and_save(at: AppTest) -> AppTest:
    at = open_tab(at, state.PARTNER_OUTREACH, "Record a contact")
    at.date_input(key=KEY.format("contact_date")).set_value(date(2026, 6, 15))
    at.selectbox(key=KEY.format("channel")).set_value("meeting")
    at.text_input(key=KEY.format("outcome")).input("Agreed a joint webinar")
    at.text_input(key=KEY.format("next_step")).input("Send the webinar deck")
    at.date_input(key=KEY.format("next_step_due")).set_value(date(2026, 6, 30))
    at.text_area(key=KEY.format("note")).input("Their new CEO wants co-marketing")
    [save] = [button for button in at.button if button.label == "Save contact"]
    return save.click().run()


def table_with(at: AppTest, column: str):
    found = [table.value for table in at.dataframe if column in table.value.columns]
    assert found, f"no table with a {column!r} column"
    return found


def test_a_partner_lead_records_a_contact_and_sees_it_in_the_log_and_the_dormant_list(served: Path):
    at = open_as("maria@example.com", "partner")
    assert not at.exception
    assert "Outreach log" in [header.value for header in at.subheader]
    at = fill_and_save(at)
    assert not at.exception
    assert [s.value for s in at.success] == ["Contact recorded, as maria@example.com."]
    # The form is empty again for the next contact.
    assert at.text_input(key=KEY.format("outcome")).value == ""
    at = open_tab(at, state.PARTNER_OUTREACH, "Contacts (1)")
    at.session_state[state.PARTNER_OUTREACH_HISTORY] = True  # as a click on "History: every version" does
    log, history = table_with(at.run(), "recorded_by")  # the log, and every version
    assert log[["contact_date", "channel", "outcome", "next_step", "recorded_by"]].astype(str).values.tolist() == [
        ["2026-06-15", "meeting", "Agreed a joint webinar", "Send the webinar deck", "maria@example.com"]
    ]
    assert history.shape[0] == 1 and notes.Log(served, frozenset({"P1"}), "x").history("P1").height == 1

    at = open_tab(open_as("maria@example.com", "engagement"), state.ENGAGEMENT_LIST, "Dormant")
    assert not at.exception
    [tab] = [tab for tab in at.tabs if tab.label.startswith("Dormant")]
    row = tab.dataframe[0].value.set_index("partner_id").loc["P1"]
    assert (str(row["last_contact_on"])[:10], str(row["next_step_due"])[:10]) == ("2026-06-15", "2026-06-30")
    assert [b.label for b in at.get("download_button") if "outreach" in b.label] == ["Download the outreach log (CSV)"]


def test_before_any_contact_the_lists_show_last_contact_empty(served: Path):
    at = open_as("maria@example.com", "engagement")
    assert not at.exception
    for table in table_with(at, "last_contact_on"):
        assert table["last_contact_on"].isna().all()
    assert not served.exists(), "reading an empty log creates no notes file"


def test_a_save_that_fails_says_so_and_keeps_the_text_in_the_form(served: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = served.parent / "a file, not a folder"
    blocker.write_text("x")
    monkeypatch.setenv("PULSE_NOTES_DB", str(blocker / "notes.sqlite"))
    at = fill_and_save(open_as("maria@example.com", "partner"))
    assert not at.exception
    [error] = at.error
    assert error.value.startswith("Not saved: the notes database") and "cannot be opened" in error.value
    assert at.text_input(key=KEY.format("outcome")).value == "Agreed a joint webinar"
    assert at.text_area(key=KEY.format("note")).value == "Their new CEO wants co-marketing"
    assert at.date_input(key=KEY.format("next_step_due")).value == date(2026, 6, 30)


def test_an_edit_saves_a_new_version_and_the_history_keeps_the_first(served: Path):
    saved = notes.Log(served, frozenset({"P1"}), "maria@example.com").record(
        notes.Contact(partner_id="P1", contact_date=date(2026, 6, 15), channel="call", outcome="Left a voicemail")
    )
    at = open_tab(open_as("maria@example.com", "partner"), state.PARTNER_OUTREACH, "Edit a contact")
    at = at.selectbox(key="partner_outreach_editing_P1_new").set_value(saved.contact_id).run()
    outcome = at.text_input(key=f"partner_outreach_outcome_P1_{saved.contact_id}")
    assert outcome.value == "Left a voicemail"
    outcome.input("Spoke to their CEO")
    [save] = [button for button in at.button if button.label == "Save changes (a new version)"]
    at = save.click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Changes saved as version 2, as maria@example.com."]
    history = notes.Log(served, frozenset({"P1"}), "x").history("P1")
    assert history.select("version", "outcome").rows() == [(1, "Left a voicemail"), (2, "Spoke to their CEO")]


def test_another_managers_partner_and_a_role_without_a_log_show_no_form(served: Path):
    at = open_as("maria@example.com", "partner", partner="P2")
    assert not [tab for tab in at.tabs if tab.label == "Record a contact"]
    assert not at.exception
    assert not [b for b in at.button if b.label == "Save contact"]
    at = open_as("cfo@example.com", "partner")
    assert not at.exception
    assert "Outreach log" not in [header.value for header in at.subheader]
    assert not [b for b in at.button if b.label == "Save contact"]
