"""The faster paths give the frames of the slow ones.

- The KPIs stored at build for the default view (queries/program/kpis.py, store_kpis) equal the core's
  frames, and any other view (a filter, another model, a period not stored) runs the core.
- The KPI core with no partner filter reads deal x group rows built at load; with a filter that
  keeps every partner it groups them per query: the same frames.
- engagement_by_month's months scored on their last day come from the build; scoring them live
  gives the same frame.
- rollup_partner_dormancy: the day a partner turns dormant, worked out by hand.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import queries
import queries.program.kpis
from loaders.build import build_database
from tests.conftest import write_extracts

# Every test here only reads the tiny program: one build serves them all (tests/conftest.py, tiny_db).
pytestmark = pytest.mark.reads_tiny_program

# The demo program's data ends 2026-11-20 (FY2026 Q4); the tiny program's 2026-06-20 (FY2026 Q2).
DEFAULT_VIEWS = [
    ("program_kpis", {}),
    ("program_kpis", {"compare": "full_period"}),
    ("kpi_trend_by_quarter", {}),
    ("kpi_trend_by_quarter", {"compare": "full_period"}),
    ("kpi_trend_by_quarter", {"start_date": date(2026, 1, 1), "end_date": date(2026, 12, 31), "model": "linear"}),
    ("kpi_breakdown", {"dimension": "partner_type"}),
    ("kpi_breakdown", {"dimension": "tier", "model": "linear"}),
    ("kpi_breakdown", {"dimension": "region", "start_date": date(2026, 1, 1), "end_date": date(2026, 3, 31)}),
    ("kpi_breakdown", {"dimension": "partner_manager"}),
]
OTHER_VIEWS = [
    ("program_kpis", {"regions": ["EMEA"]}),
    ("program_kpis", {"model": "shapley"}),
    ("program_kpis", {"start_date": date(2026, 2, 3), "end_date": date(2026, 5, 17)}),
    ("kpi_trend_by_quarter", {"tiers": ["gold"]}),
    ("kpi_breakdown", {"dimension": "tier", "partner_types": ["referral"]}),
]


@pytest.fixture(scope="module")
def stored_demo(demo_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stored_copy(demo_db_path, tmp_path_factory.mktemp("stored_demo"))


def stored_copy(db: Path, tmp_path: Path) -> Path:
    """A copy of the database with the KPIs stored (as the build's derived step does)."""
    copy = tmp_path / "stored.duckdb"
    shutil.copy(db, copy)
    con = duckdb.connect(str(copy))
    try:
        queries.program.kpis.store_kpis(con)
    finally:
        con.close()
    return copy


def run(db: Path, name: str, params: dict, monkeypatch: pytest.MonkeyPatch, *, stored: bool) -> tuple[pl.DataFrame, list]:
    """The output's frame, and the outputs the runner ran (stored readers included, stored views not)."""
    ran = []
    compute = queries._compute

    def spy(con, sql_name, params):
        ran.append(sql_name)
        return compute(con, sql_name, params)

    con = queries.connect(db)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(queries, "READ_STORED", stored)
            patch.setattr(queries, "_compute", spy)
            frame = queries.execute(con, name, **params)
    finally:
        con.close()
    return frame, ran


@pytest.mark.parametrize(("name", "params"), DEFAULT_VIEWS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(DEFAULT_VIEWS)])
def test_the_stored_default_view_gives_the_frames_the_core_computes(stored_demo, monkeypatch, name, params):
    db = stored_demo
    from_store, ran = run(db, name, params, monkeypatch, stored=True)
    computed, _ = run(db, name, params, monkeypatch, stored=False)
    assert "kpis_stored_by_period" in ran and "kpis_by_period" not in ran
    assert not from_store.is_empty()
    assert_frame_equal(from_store, computed)


@pytest.mark.parametrize(("name", "params"), OTHER_VIEWS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OTHER_VIEWS)])
def test_a_filter_another_model_or_a_period_not_stored_runs_the_core(stored_demo, monkeypatch, name, params):
    db = stored_demo
    frame, ran = run(db, name, params, monkeypatch, stored=True)
    computed, _ = run(db, name, params, monkeypatch, stored=False)
    assert "kpis_by_period" in ran
    assert_frame_equal(frame, computed)


def test_the_stored_kpis_hold_every_quarter_and_the_periods_it_is_compared_with_on_the_tiny_program(tiny_db, tmp_path):
    db = stored_copy(tiny_db, tmp_path)
    con = queries.connect(db)
    held = con.sql("select period_start, period_end from kpis_stored_periods where dimension = 'all' order by period_end").pl()
    by_tier = con.sql("select period_start, period_end from kpis_stored_periods where dimension = 'tier'").pl()
    con.close()
    # FY2026 Q2 (the as-of quarter, 81 days to 2026-06-20) to date, and 11 quarters before it.
    assert held.row(-1) == (date(2026, 4, 1), date(2026, 6, 20))
    assert (date(2026, 4, 1), date(2026, 6, 30)) not in held.rows()
    assert (date(2026, 1, 1), date(2026, 3, 22)) in held.rows()  # its previous quarter to date, 81 days
    assert (date(2026, 1, 1), date(2026, 3, 31)) in held.rows()  # and the whole of it
    # The period before FY2026 Q1 (90 days) is FY2025 Q4 (92 days), not the 90 days before 1 January.
    assert (date(2025, 10, 1), date(2025, 12, 31)) in held.rows()
    assert (date(2025, 10, 3), date(2025, 12, 31)) not in held.rows()
    assert (date(2025, 10, 1), date(2025, 12, 20)) in held.rows()  # its first 81 days, for the trend
    assert by_tier.height == 12
    assert by_tier.row(-1) == (date(2026, 4, 1), date(2026, 6, 20))


def test_the_tiny_programs_cards_are_the_same_stored_or_computed(tiny_db, tmp_path, monkeypatch):
    db = stored_copy(tiny_db, tmp_path)
    for name, params in [("program_kpis", {}), ("kpi_trend_by_quarter", {}), ("kpi_breakdown", {"dimension": "tier"})]:
        from_store, ran = run(db, name, params, monkeypatch, stored=True)
        computed, _ = run(db, name, params, monkeypatch, stored=False)
        assert "kpis_by_period" not in ran
        assert_frame_equal(from_store, computed)


def test_a_database_built_without_the_stored_kpis_computes_them(tiny_db, tmp_path, monkeypatch):
    copy = tmp_path / "without_stored.duckdb"
    shutil.copy(tiny_db, copy)
    con = duckdb.connect(str(copy))
    for table in (queries.program.kpis.STORED_TABLE, queries.program.kpis.STORED_PERIODS_TABLE):
        con.execute(f'drop table if exists "{table}"')
    con.close()
    frame, ran = run(copy, "program_kpis", {}, monkeypatch, stored=True)
    assert "kpis_by_period" in ran
    assert frame.filter(pl.col("kpi") == "win_rate")["value"].item() == pytest.approx(2 / 3)


def test_without_an_as_of_date_nothing_is_stored_and_the_core_runs(tiny_db, tmp_path, monkeypatch):
    copy = tmp_path / "no_as_of.duckdb"
    shutil.copy(tiny_db, copy)
    con = duckdb.connect(str(copy))
    con.execute("delete from load_meta where key = 'data_as_of'")
    queries.program.kpis.store_kpis(con)
    tables = con.sql("select count(*) from duckdb_tables() where table_name like 'kpis_stored%'").fetchall()[0][0]
    con.close()
    assert tables == 0
    params = {"start_date": date(2026, 4, 1), "end_date": date(2026, 6, 30)}
    frame, ran = run(copy, "program_kpis", params, monkeypatch, stored=True)
    assert "kpis_by_period" in ran and not frame.is_empty()


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("program_kpis", {}),
        ("kpi_trend_by_quarter", {"quarters": 6}),
        ("kpi_breakdown", {"dimension": "partner_type"}),
        ("kpi_breakdown", {"dimension": "region", "regions": ["NA"]}),
    ],
)
def test_a_partner_filter_that_keeps_every_partner_gives_the_kpis_of_no_filter(tiny_db, monkeypatch, name, params):
    # Every tiny partner has a type among these: the filtered core groups deals per query, the
    # unfiltered one reads rollup_deal_groups.
    everyone = {"partner_types": ["referral", "reseller", "integration", "services"]}
    unfiltered, _ = run(tiny_db, name, params, monkeypatch, stored=False)
    filtered, _ = run(tiny_db, name, {**params, **everyone}, monkeypatch, stored=False)
    assert_frame_equal(filtered, unfiltered)


ENGAGEMENT_VIEWS = [
    {},
    {"as_of": date(2026, 10, 31), "months": 12},
    {"as_of": date(2026, 3, 14), "months": 24, "regions": ["EMEA", "NA"]},
    {"as_of": date(2027, 3, 1), "months": 8},
]


@pytest.fixture(scope="module")
def unstored_demo(demo_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo database without the engagement months stored at build."""
    live = tmp_path_factory.mktemp("unstored_demo") / "live.duckdb"
    shutil.copy(demo_db_path, live)
    con = duckdb.connect(str(live))
    stored_months = con.sql("select count(distinct month) from rollup_partner_month_scores").fetchall()[0][0]
    con.execute("delete from rollup_partner_month_scores")
    con.close()
    assert stored_months > 12
    return live


@pytest.mark.parametrize("params", ENGAGEMENT_VIEWS, ids=[str(i) for i in range(len(ENGAGEMENT_VIEWS))])
def test_engagement_months_stored_at_build_equal_scoring_them_on_the_day(demo_db, unstored_demo, params):
    live = unstored_demo
    stored = queries.execute(queries.connect(demo_db), "engagement_by_month", **params)
    scored = queries.execute(queries.connect(live), "engagement_by_month", **params)
    assert not stored.is_empty()
    assert_frame_equal(stored, scored)


# Four partners joined 1 Jan 2025; dormancy after 90 days without an activity other than a portal login.
DORMANCY = {
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at,region,country,partner_manager,status
        D1,Gap Later,referral,gold,2025-01-01,EMEA,DE,Maria Lopez,active
        D2,Slow Start,referral,gold,2025-01-01,EMEA,DE,Maria Lopez,active
        D3,Went Quiet,referral,gold,2025-01-01,EMEA,DE,Maria Lopez,active
        D4,Logins Only,referral,gold,2025-01-01,EMEA,DE,Maria Lopez,active
    """,
    "partner_activities.csv": """
        activity_id,partner_id,activity_type,occurred_at
        A1,D1,training_completed,2025-01-10 10:00:00
        A2,D1,co_marketing,2025-02-01 10:00:00
        A3,D1,co_marketing,2025-06-01 10:00:00
        A4,D1,co_marketing,2025-06-20 10:00:00
        A5,D2,training_completed,2025-05-01 10:00:00
        A6,D3,training_completed,2025-01-05 10:00:00
        A7,D3,co_marketing,2025-03-01 10:00:00
        A8,D4,co_marketing,2024-12-01 10:00:00
        A9,D4,portal_login,2025-01-02 10:00:00
        A10,D4,portal_login,2025-06-20 10:00:00
    """,
}


def test_a_partner_turns_dormant_ninety_days_into_its_first_quiet_stretch(tmp_path, monkeypatch):
    db = tmp_path / "dormancy.duckdb"
    build_database(write_extracts(tmp_path / "extracts", DORMANCY), db)
    con = queries.connect(db)
    dormant = dict(con.sql("select partner_id, dormant_from from rollup_partner_dormancy").fetchall())
    con.close()
    assert dormant == {
        "D1": date(2025, 5, 2),  # 1 Feb, then nothing until 1 Jun (120 days): 1 Feb + 90
        "D2": date(2025, 4, 1),  # first activity 120 days after joining: joining + 90
        "D3": date(2025, 5, 30),  # nothing after 1 Mar: 1 Mar + 90
        "D4": date(2025, 4, 1),  # logins do not count, nor activity before joining
    }
    # The survival curve reads them as the direct computation does, whatever the as-of day.
    reference = (Path(__file__).parent / "reference_sql" / "cohort_curves.sql").read_text(encoding="utf-8")
    load = queries.load_sql
    for as_of in [date(2025, 3, 31), date(2025, 4, 1), date(2025, 5, 2), date(2025, 5, 29), date(2025, 6, 20)]:
        con = queries.connect(db)
        fast = queries.execute(con, "cohort_curves", as_of=as_of)
        with monkeypatch.context() as patch:
            patch.setattr(queries, "load_sql", lambda name: reference if name == "cohort_curves" else load(name))
            direct = queries.execute(con, "cohort_curves", as_of=as_of)
        con.close()
        assert_frame_equal(fast, direct)
