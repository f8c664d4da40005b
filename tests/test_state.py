"""Session and URL state (state.py): every key is named there, the sidebar filters Streamlit binds
to the URL keep a link's view, and "Reset filters" clears bound and hand-synced ones alike.

The tiny program: P1 (EMEA, Maria Lopez), P2 and P3 (NA, Sam Reed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import state
import ui
from tests.conftest import APP, open_page

# Every test here only reads the tiny program: one build serves them all (tests/conftest.py, tiny_db).
pytestmark = pytest.mark.reads_tiny_program

PROJECT = APP.parent
# Streamlit's state read or written with a key spelt out as a string, rather than through state.py.
LITERAL_KEY = re.compile(
    r"""(session_state|query_params)\s*(\[\s*f?["']|\.(get|get_all|pop|setdefault)\(\s*f?["'])"""
    r"""|["'][\w-]*["']\s+(not\s+)?in\s+st\.(session_state|query_params)"""
)


def test_no_session_or_url_key_is_spelt_out_outside_state_py():
    sources = [PROJECT / "app.py", PROJECT / "ui.py", *sorted((PROJECT / "pages").glob("*.py"))]
    sources += sorted(path for path in PROJECT.glob("*.py") if path.name != "state.py")
    sources += sorted((PROJECT / "queries").rglob("*.py"))
    found = [
        f"{path.relative_to(PROJECT)}:{number}: {line.strip()}"
        for path in dict.fromkeys(sources)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if LITERAL_KEY.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_frame_and_pages_reach_session_and_url_state_only_through_state_py():
    sources = [PROJECT / "app.py", PROJECT / "ui.py", *sorted((PROJECT / "pages").glob("*.py"))]
    found = [
        f"{path.relative_to(PROJECT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"st\.(session_state|query_params)\b", line)
    ]
    assert not found, "\n".join(found)


def test_the_bound_filters_defaults_are_known_for_each_bound_key():
    assert set(ui.BOUND_DEFAULTS) == set(state.BOUND)
    assert set(state.BOUND) <= set(state.LINK_KEYS)


def partner_links(at) -> list[str]:
    return list(at.dataframe[0].value["partner_link"])


def test_a_link_with_bound_filters_selects_them_and_its_partner_links_carry_them(tiny_db: Path):
    at = open_page("engagement", {"period": "All time", "region": ["NA", "Atlantis"]})
    assert not at.exception, at.exception
    assert at.selectbox(key="period").value == "All time"
    assert at.multiselect(key="region").value == ["NA"]  # a region the data does not have is dropped
    assert partner_links(at) == ["./partner?partner=P2&period=All+time&region=NA"]


def test_partner_links_follow_a_bound_filter_the_user_changes(tiny_db: Path):
    at = open_page("engagement", {"period": "All time", "region": "NA"})
    at.multiselect(key="region").set_value(["EMEA"]).run()
    assert not at.exception, at.exception
    assert partner_links(at) == ["./partner?partner=P1&period=All+time&region=EMEA"]


def test_reset_filters_clears_bound_and_hand_synced_filters_and_the_url(tiny_db: Path):
    at = open_page("engagement", {"period": "All time", "region": "NA", "manager": "Sam Reed"})
    assert at.multiselect(key="manager").value == ["Sam Reed"]
    next(button for button in at.sidebar.button if button.label == "Reset filters").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="period").value == ui.PERIODS[0]
    assert at.multiselect(key="region").value == [] and at.multiselect(key="manager").value == []
    assert at.query_params == {}
    assert not [button for button in at.sidebar.button if button.label == "Reset filters"]
    assert partner_links(at) and all(re.fullmatch(r"\./partner\?partner=P\d", link) for link in partner_links(at))
