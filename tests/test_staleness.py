"""Stale data: a table lagging the newest data by more than its own rhythm allows (the 95th percentile of
its gaps between event days over 180 days, and at least stale_after_days; a per-table setting overrides
both) is called out in the sidebar on every page, in plain words; fresh, absent and naturally old tables
are not."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

import queries
import ui
from loaders.build import build_database
from settings import Settings, SettingsError, load_settings
from tests.conftest import APP, write_extracts

# A program whose newest data is an opportunity created on 2026-11-20. Partners joined long ago
# (that is not staleness); touchpoints are 2 days behind (at the default threshold, not over it);
# payouts come monthly (August to October: gaps of 31 and 30 days), and October's end 2026-10-31, 20 days
# behind, within their rhythm of 31 days.
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
        PO1,P1,100,commission,2026-08-01,paid
        PO2,P1,100,commission,2026-09-01,paid
        PO3,P1,100,commission,2026-10-01,accrued
    """,
}
# The payouts export stopped after September: its data ends 2026-09-30, 51 days behind.
OLD_PAYOUTS = """
    payout_id,partner_id,amount,payout_type,period,status
    PO1,P1,100,commission,2026-07-01,paid
    PO2,P1,100,commission,2026-08-01,paid
    PO3,P1,100,commission,2026-09-01,accrued
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
    assert (row(frame, "payouts")["rhythm_days"], row(frame, "payouts")["days_allowed"]) == (31, 31)
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


def registrations(days: list[date]) -> str:
    """A deal registrations extract with one registration on each day."""
    lines = ["registration_id,partner_id,registered_at,status"]
    lines += [f"R{i},P1,{day.isoformat()} 11:00:00,submitted" for i, day in enumerate(days, start=1)]
    return "\n".join(lines)


def every_days(last: date, step: int, count: int) -> list[date]:
    return [last - timedelta(days=step * i) for i in range(count)]


def test_a_table_that_comes_every_few_days_is_judged_by_its_own_rhythm(tmp_path: Path):
    # Registrations every 5 days: 5 days behind is their rhythm, 6 days is a missed export.
    on_time = row(
        staleness(build(tmp_path / "on_time", {"deal_registrations.csv": registrations(every_days(date(2026, 11, 15), 5, 30))})),
        "deal_registrations",
    )
    assert (on_time["days_behind"], on_time["rhythm_days"], on_time["days_allowed"]) == (5, 5, 5)
    assert on_time["allowed_by"] == "usual rhythm" and not on_time["is_stale"]
    late = row(
        staleness(build(tmp_path / "late", {"deal_registrations.csv": registrations(every_days(date(2026, 11, 14), 5, 30))})),
        "deal_registrations",
    )
    assert (late["days_behind"], late["days_allowed"]) == (6, 5) and late["is_stale"]


def test_the_rhythm_is_the_95th_percentile_of_the_gaps_so_a_rare_long_gap_does_not_excuse_a_lag(tmp_path: Path):
    # 40 daily registrations up to 2026-11-10, and one 20 days before them: 40 gaps, 39 of 1 day and one of 20.
    days = [*every_days(date(2026, 11, 10), 1, 40), date(2026, 9, 12)]
    frame = staleness(build(tmp_path, {"deal_registrations.csv": registrations(days)}))
    regs = row(frame, "deal_registrations")
    assert (regs["rhythm_days"], regs["days_allowed"], regs["days_behind"]) == (1, 2, 10)
    assert regs["allowed_by"] == "stale_after_days" and regs["is_stale"]


def test_only_the_last_180_days_of_gaps_make_the_rhythm(tmp_path: Path):
    # Monthly registrations a year ago, then every 2 days for the last 120 days of the table.
    days = [*every_days(date(2026, 11, 16), 2, 60), *every_days(date(2025, 10, 1), 30, 6)]
    regs = row(staleness(build(tmp_path, {"deal_registrations.csv": registrations(days)})), "deal_registrations")
    assert (regs["rhythm_days"], regs["days_behind"]) == (2, 4) and regs["is_stale"]


def test_a_per_table_setting_replaces_the_rhythm_and_the_floor(tmp_path: Path):
    late = {"touchpoints.csv": LATE_TOUCHPOINTS}
    relaxed = row(
        staleness(build(tmp_path / "relaxed", late, settings=Settings(stale_after_days_by_table={"touchpoints": 3}))),
        "touchpoints",
    )
    assert (relaxed["days_behind"], relaxed["days_allowed"], relaxed["allowed_by"]) == (3, 3, "setting for this table")
    assert not relaxed["is_stale"]
    # Stricter than the payouts' monthly rhythm: October's payouts, 20 days behind, are now late.
    strict = staleness(build(tmp_path / "strict", settings=Settings(stale_after_days_by_table={"payouts": 10})))
    assert row(strict, "payouts")["is_stale"] and not row(strict, "touchpoints")["is_stale"]


def test_the_per_table_setting_names_event_tables_only(tmp_path: Path):
    path = tmp_path / "settings.toml"
    path.write_text("[stale_after_days_by_table]\npartners = 30\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not event tables"):
        load_settings(path)


def test_the_demo_programs_tables_are_fresh_by_their_own_rhythm(demo_db_path: Path):
    frame = staleness(demo_db_path)
    assert frame.filter(pl.col("is_stale")).is_empty(), frame.filter(pl.col("is_stale")).to_dicts()
    # At scale 0.1 registrations come every few days: their rhythm, not the 2-day floor, allows their lag.
    regs = row(frame, "deal_registrations")
    assert regs["rhythm_days"] > 2 and regs["days_behind"] <= regs["days_allowed"]


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
