"""Stale data: a table lagging the newest data by more than stale_after_days is called out in
the sidebar on every page, in plain words; fresh, absent and naturally old tables are not."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

import queries
import ui
from loaders.build import build_database
from settings import Settings
from tests.conftest import APP, write_extracts

# A program whose newest data is an opportunity created on 2026-11-20. Partners joined long ago
# (that is not staleness); touchpoints are 2 days behind (at the default threshold, not over it);
# October's payouts end 2026-10-31, 20 days behind, within the month payouts are allowed.
FRESH = {
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at
        P1,Acme Partners,referral,gold,2025-03-01
    """,
    "partner_activities.csv": """
        activity_id,partner_id,activity_type,occurred_at
        A1,P1,training_completed,2026-11-19 10:00:00
    """,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date
        O1,1000,Prospecting,2026-11-20,2027-01-31
    """,
    "touchpoints.csv": """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T1,O1,P1,referral,2026-11-18 09:00:00
    """,
    "payouts.csv": """
        payout_id,partner_id,amount,payout_type,period,status
        PO1,P1,100,commission,2026-10-01,accrued
    """,
}
# The payouts export stopped after September: its data ends 2026-09-30, 51 days behind.
OLD_PAYOUTS = """
    payout_id,partner_id,amount,payout_type,period,status
    PO1,P1,100,commission,2026-09-01,accrued
"""
# Touchpoints 3 days behind: over the default threshold of 2.
LATE_TOUCHPOINTS = """
    touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
    T1,O1,P1,referral,2026-11-17 09:00:00
"""


def build(tmp_path: Path, changes: dict[str, str] | None = None, settings: Settings | None = None) -> Path:
    folder = write_extracts(tmp_path / "extracts", {**FRESH, **(changes or {})})
    db = tmp_path / "pulse.duckdb"
    build_database(folder, db, settings=settings)
    return db


def staleness(db: Path, **params) -> pl.DataFrame:
    return queries.execute(queries.connect(db), "stale_tables", **params)


def row(frame: pl.DataFrame, table: str) -> dict:
    return frame.filter(pl.col("table_name") == table).row(0, named=True)


def sidebar_warnings(at) -> list[str]:
    return [w.value for w in at.sidebar.warning]


def test_a_fresh_program_has_no_stale_table_and_no_warning(tmp_path: Path):
    frame = staleness(build(tmp_path))
    assert frame["is_stale"].to_list() == [False] * 7
    assert row(frame, "touchpoints")["days_behind"] == 2
    assert row(frame, "payouts")["covers_through"] == date(2026, 10, 31)
    assert row(frame, "payouts")["days_behind"] == 20
    assert row(frame, "payouts")["days_allowed"] == 33
    assert ui.stale_warning(frame) is None


def test_payouts_a_month_and_more_behind_are_called_out_in_plain_words(tmp_path: Path):
    frame = staleness(build(tmp_path, {"payouts.csv": OLD_PAYOUTS}))
    payouts = row(frame, "payouts")
    assert (payouts["latest_date"], payouts["covers_through"], payouts["days_behind"]) == (
        date(2026, 9, 1),
        date(2026, 9, 30),
        51,
    )
    assert payouts["is_stale"]
    assert frame.filter(pl.col("is_stale"))["table_name"].to_list() == ["payouts"]
    assert ui.stale_warning(frame) == (
        "Payouts data ends 2026-09-30, 51 days behind the newest data (opportunities, 2026-11-20); check the nightly export."
    )


def test_the_latest_join_date_of_partners_never_makes_data_stale(tmp_path: Path):
    partners = row(staleness(build(tmp_path)), "partners")
    assert partners["latest_date"] == date(2025, 3, 1)
    assert partners["counts_for_freshness"] is False
    assert partners["is_stale"] is False and partners["days_behind"] is None


def test_absent_tables_do_not_count(tmp_path: Path):
    frame = staleness(build(tmp_path))
    for table in ("opportunity_history", "deal_registrations"):
        absent = row(frame, table)
        assert absent["status"] == "absent"
        assert absent["is_stale"] is False and absent["days_behind"] is None


def test_the_threshold_is_the_one_the_database_was_built_with(tmp_path: Path):
    late = {"touchpoints.csv": LATE_TOUCHPOINTS}
    assert row(staleness(build(tmp_path / "default", late)), "touchpoints")["is_stale"]
    relaxed = build(tmp_path / "relaxed", late, settings=Settings(stale_after_days=3))
    assert not row(staleness(relaxed), "touchpoints")["is_stale"]
    # An export can still ask with another threshold.
    assert row(staleness(relaxed, stale_after_days=1), "touchpoints")["is_stale"]


def test_several_stale_tables_share_one_warning(tmp_path: Path):
    frame = staleness(build(tmp_path, {"payouts.csv": OLD_PAYOUTS, "touchpoints.csv": LATE_TOUCHPOINTS}))
    assert ui.stale_warning(frame) == (
        "Some extracts lag behind the newest data (opportunities, 2026-11-20); check the nightly export.\n\n"
        "- Touchpoints data ends 2026-11-17, 3 days behind\n"
        "- Payouts data ends 2026-09-30, 51 days behind"
    )


def run_app() -> AppTest:
    """The app's first run (the default page). The sidebar is drawn by app.py before st.navigation
    runs the page, so every page has it; AppTest itself drops the entry script's sidebar elements
    after switch_page (the "Local mode" note vanishes too), so the first run is where to look."""
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def test_the_sidebar_warns_when_a_table_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DB", str(build(tmp_path, {"payouts.csv": OLD_PAYOUTS})))
    at = run_app()
    assert sidebar_warnings(at) == [
        "Payouts data ends 2026-09-30, 51 days behind the newest data (opportunities, 2026-11-20); check the nightly export."
    ]


def test_the_sidebar_shows_data_as_of_per_table_and_no_warning_when_fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DB", str(build(tmp_path)))
    at = run_app()
    assert sidebar_warnings(at) == []
    (expander,) = [e for e in at.sidebar.expander if e.label == "Data as of, per table"]
    assert expander.caption[0].value.split("  \n") == [
        "Partners: 2025-03-01 (latest join)",
        "Partner activities: 2026-11-19",
        "Opportunities: 2026-11-20",
        "Opportunity history: not loaded",
        "Touchpoints: 2026-11-18",
        "Deal registrations: not loaded",
        "Payouts: 2026-10 (monthly)",
    ]
