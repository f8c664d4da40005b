"""The sidebar's filters together: how many partners they match, and the warning when none does."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import queries
from tests.conftest import APP

# Every test here only reads the tiny program: one build serves them all (tests/conftest.py, tiny_db).
pytestmark = pytest.mark.reads_tiny_program

NO_MATCH = "No partner matches these filters together: partner figures are empty."


@pytest.mark.parametrize(
    ("filters", "partners"),
    [
        ({}, 3),  # P1, P2, P3 (the terminated P3 is still a partner of the program)
        ({"regions": ["NA"]}, 2),  # P2, P3
        ({"regions": ["NA"], "tiers": ["silver"]}, 1),  # P2
        ({"partner_types": ["reseller"]}, 1),  # P1 is referral and reseller
        ({"regions": ["EMEA"], "managers": ["Sam Reed"]}, 0),  # Sam Reed's partners are all in NA
    ],
)
def test_partners_matching_counts_the_partners_all_the_filters_keep(tiny_db: Path, filters: dict, partners: int):
    con = queries.connect(tiny_db)
    try:
        assert queries.execute(con, "partners_matching", **filters)["partners"].to_list() == [partners]
    finally:
        con.close()


def sidebar_warnings(region: str, manager: str) -> list[str]:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["region"] = region
    at.query_params["manager"] = manager
    at.run()
    assert not at.exception, at.exception
    return [warning.value for warning in at.sidebar.warning]


def test_the_sidebar_says_when_no_partner_matches_the_filters_together(tiny_db: Path):
    assert NO_MATCH in sidebar_warnings("EMEA", "Sam Reed")


def test_the_sidebar_says_nothing_of_the_kind_when_a_partner_matches(tiny_db: Path):
    assert NO_MATCH not in sidebar_warnings("NA", "Sam Reed")
