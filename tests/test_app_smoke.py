"""Every page renders without an exception, on the tiny program and with no data at all."""

from pathlib import Path

import pytest

from tests.conftest import open_page

PAGES = ["health", "forecast", "engagement", "partner", "attribution", "disagreements", "statement", "data"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_tiny_program(tiny_db: Path, page: str):
    at = open_page(page)
    assert not at.exception, at.exception


def test_without_a_database_the_app_offers_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DB", str(tmp_path / "none.duckdb"))
    at = open_page("data")
    assert not at.exception
    assert any("No data loaded yet" in s.value for s in at.subheader)
    assert any(b.label == "Load the demo program" for b in at.button)
