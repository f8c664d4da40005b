"""The pipeline forecast and its backtest, on hand-built histories whose numbers are worked out
by hand in each test, plus the page on the tiny program, the demo and the Maven CRM export."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import queries
from charts import forecast as charts
from loaders.build import build_database
from queries.forecast import methods as forecast
from settings import load_settings, salesforce_stages
from tests.conftest import PROJECT, SHARED_DATA, open_page, write_extracts

PARTNERS = """
    partner_id,partner_name,partner_types,tier,joined_at,region,partner_manager
    P1,Acme Partners,referral,gold,2024-01-01,EMEA,Maria Lopez
    P2,Beacon Systems,reseller,silver,2024-01-01,NA,Sam Reed
"""

# Live forecast as of 2026-05-15 (FY2026 Q2, April-June). Open: A (sourced by P1, 90%, commit,
# Q2), B (influenced by P2 through a touch, 50%, best case, Q3), C (direct, 10%, past its close
# date: stale, left out unless the settings count it in Q2). D was won in Q2 already (sourced by P1).
LIVE = {
    "partners.csv": PARTNERS,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,forecast_category,sourced_partner_id,region
        A,1000,Negotiation/Review,2026-03-01,2026-06-10,commit,P1,EMEA
        B,2000,Value Proposition,2026-03-01,2026-08-01,best_case,,NA
        C,4000,Prospecting,2026-01-10,2026-04-20,pipeline,,NA
        D,500,Closed Won,2026-02-01,2026-04-10,closed,P1,EMEA
    """,
    "touchpoints.csv": """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T1,B,P2,co_selling,2026-04-01 10:00:00
    """,
    "opportunity_history.csv": """
        opportunity_id,stage,changed_at,amount,close_date,forecast_category
        A,Negotiation/Review,2026-05-15 09:00:00,1000,2026-06-10,commit
    """,
}

# Closed history to learn from: T1-T4 were open at Prospecting, due in FY2026 Q1, on the eve of
# that quarter: two won in it, one lost, one slipped (won in Q2). E is open now (Prospecting, Q2).
HISTORICAL = {
    "partners.csv": PARTNERS,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,forecast_category
        T1,1000,Closed Won,2025-12-01,2026-02-10,closed
        T2,1000,Closed Won,2025-12-01,2026-03-05,closed
        T3,1000,Closed Lost,2025-12-01,2026-01-20,omitted
        T4,1000,Closed Won,2025-12-01,2026-04-15,closed
        E,2000,Prospecting,2026-04-01,2026-06-30,pipeline
    """,
    "opportunity_history.csv": """
        opportunity_id,stage,changed_at,amount,close_date,forecast_category
        T1,Prospecting,2025-12-01 09:00:00,1000,2026-03-15,pipeline
        T1,Closed Won,2026-02-10 09:00:00,1000,2026-02-10,closed
        T2,Prospecting,2025-12-01 09:00:00,1000,2026-03-15,pipeline
        T2,Closed Won,2026-03-05 09:00:00,1000,2026-03-05,closed
        T3,Prospecting,2025-12-01 09:00:00,1000,2026-03-15,pipeline
        T3,Closed Lost,2026-01-20 09:00:00,1000,2026-01-20,omitted
        T4,Prospecting,2025-12-01 09:00:00,1000,2026-03-15,pipeline
        T4,Prospecting,2026-03-20 09:00:00,1000,2026-04-15,pipeline
        T4,Closed Won,2026-04-15 09:00:00,1000,2026-04-15,closed
        E,Prospecting,2026-04-01 09:00:00,2000,2026-06-30,pipeline
        E,Prospecting,2026-05-15 09:00:00,2000,2026-06-30,pipeline
    """,
}

# Backtest of FY2026 Q2 (data runs to 2026-07-15). On its eve (2026-03-31):
# - M (90%, commit, 3000) was due 2026-05-20, in Q2; on 2026-04-20 it moved to August; still open.
# - N (50%, best case, 2000) was due in September; it moved into May and was won on 2026-05-05.
# - L did not exist yet: created 2026-04-10, won 5000 on 2026-06-01.
# - K gives the closed history to learn from: open at Prospecting on the eve of Q1, won in it.
# - Z was created on 2026-07-15, the last day of the data (so Q2 is over even without history).
BACKTEST = {
    "partners.csv": PARTNERS,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,forecast_category
        K,1000,Closed Won,2025-12-01,2026-02-01,closed
        M,3000,Negotiation/Review,2026-03-01,2026-08-15,commit
        N,2000,Closed Won,2026-02-01,2026-05-05,closed
        L,5000,Closed Won,2026-04-10,2026-06-01,closed
        Z,100,Prospecting,2026-07-15,2026-09-30,pipeline
    """,
    "opportunity_history.csv": """
        opportunity_id,stage,changed_at,amount,close_date,forecast_category
        K,Prospecting,2025-12-01 09:00:00,1000,2026-02-01,pipeline
        K,Closed Won,2026-02-01 09:00:00,1000,2026-02-01,closed
        M,Negotiation/Review,2026-03-01 09:00:00,3000,2026-05-20,commit
        M,Negotiation/Review,2026-04-20 09:00:00,3000,2026-08-15,commit
        M,Negotiation/Review,2026-07-15 09:00:00,3000,2026-08-15,commit
        N,Value Proposition,2026-02-01 09:00:00,2000,2026-09-10,best_case
        N,Closed Won,2026-05-05 09:00:00,2000,2026-05-05,closed
        L,Negotiation/Review,2026-04-10 09:00:00,5000,2026-06-01,commit
        L,Closed Won,2026-06-01 09:00:00,5000,2026-06-01,closed
    """,
}


def build(tmp_path: Path, files: dict[str, str], name: str = "program", **kwargs) -> Path:
    db = tmp_path / f"{name}.duckdb"
    build_database(write_extracts(tmp_path / name, files), db, **kwargs)
    return db


def row(frame: pl.DataFrame, **where) -> dict:
    matches = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert matches.height == 1, (where, matches)
    return matches.row(0, named=True)


@pytest.fixture
def live(tmp_path: Path):
    return queries.connect(build(tmp_path, LIVE))


def test_crm_weighted_is_amount_times_stage_probability_plus_what_is_already_won(live):
    result = queries.execute(live, "pipeline_forecast")
    # FY2026 Q2: D won 500 + A 1000 x 0.9 (partner); C (direct) is past its close date: left out.
    assert row(result, fiscal_quarter="FY2026 Q2", method="crm_weighted", segment="partner")["expected"] == 1400
    assert row(result, fiscal_quarter="FY2026 Q2", method="crm_weighted", segment="partner_sourced")["expected"] == 1400
    assert row(result, fiscal_quarter="FY2026 Q2", method="crm_weighted", segment="direct")["expected"] == 0
    assert row(result, fiscal_quarter="FY2026 Q2", method="crm_weighted", segment="partner")["won_to_date"] == 500
    # FY2026 Q3: B 2000 x 0.5, influenced by P2's touch.
    assert row(result, fiscal_quarter="FY2026 Q3", method="crm_weighted", segment="partner_influenced")["expected"] == 1000
    assert row(result, fiscal_quarter="FY2027 Q1", method="crm_weighted", segment="all")["expected"] == 0
    assert sorted(result["fiscal_quarter"].unique()) == ["FY2026 Q2", "FY2026 Q3", "FY2026 Q4", "FY2027 Q1"]


def test_a_stale_deal_counts_in_the_current_quarter_when_the_settings_say_so(tmp_path: Path):
    settings = load_settings(None).model_copy(update={"forecast_stale_deals": "current_quarter"})
    con = queries.connect(build(tmp_path, LIVE, settings=settings))
    result = queries.execute(con, "pipeline_forecast")
    # C 4000 x 0.1 (Prospecting), due 2026-04-20, counts in FY2026 Q2 with the direct deals.
    assert row(result, fiscal_quarter="FY2026 Q2", method="crm_weighted", segment="direct")["expected"] == 400
    assert row(result, fiscal_quarter="FY2026 Q2", method="crm_weighted", segment="all")["expected"] == 1800
    assert row(queries.execute(con, "forecast_deals"), opportunity_id="C")["fiscal_quarter"] == "FY2026 Q2"
    assert queries.execute(con, "forecast_caveats")["message"].to_list()[-1] == (
        "1 open deal, $4.0k, has a close date before 2026-05-15: every method counts it in FY2026 Q2 (setting "
        "forecast_stale_deals; the historical method at the share of past stale deals like it won in the quarter "
        "after); update or close it in the CRM."
    )


def test_sales_call_counts_commit_and_commit_plus_best_case(live):
    result = queries.execute(live, "pipeline_forecast")
    assert row(result, fiscal_quarter="FY2026 Q2", method="sales_commit", segment="partner")["expected"] == 1500
    assert row(result, fiscal_quarter="FY2026 Q3", method="sales_commit", segment="partner")["expected"] == 0
    assert row(result, fiscal_quarter="FY2026 Q3", method="sales_best_case", segment="partner")["expected"] == 2000
    assert row(result, fiscal_quarter="FY2026 Q2", method="sales_best_case", segment="direct")["expected"] == 0
    assert row(result, fiscal_quarter="FY2026 Q2", method="sales_commit", segment="partner")["p10"] is None


def test_partner_filters_keep_only_matching_deals_and_drop_direct_ones(live):
    emea = queries.execute(live, "pipeline_forecast", regions=["EMEA"])
    assert row(emea, fiscal_quarter="FY2026 Q2", method="crm_weighted", segment="all")["expected"] == 1400
    assert row(emea, fiscal_quarter="FY2026 Q3", method="crm_weighted", segment="all")["expected"] == 0
    resellers = queries.execute(live, "pipeline_forecast", partner_types=["reseller"])
    assert row(resellers, fiscal_quarter="FY2026 Q2", method="crm_weighted", segment="all")["expected"] == 0
    assert row(resellers, fiscal_quarter="FY2026 Q3", method="crm_weighted", segment="all")["expected"] == 1000


def test_historical_rates_come_from_what_happened_to_deals_in_the_same_state(tmp_path: Path):
    con = queries.connect(build(tmp_path, HISTORICAL))
    # Of four deals at Prospecting due in Q1: 2 won, 1 lost, 1 slipped -> won 0.5, slip 0.25.
    # E (2000, due in Q2): Q2 2000 x 0.5 = 1000; Q3 x 0.25 x 0.5 = 250; Q4 62.5; then 15.625.
    result = queries.execute(con, "pipeline_forecast", min_group_deals=4)
    historical = result.filter((pl.col("method") == "historical") & (pl.col("segment") == "direct")).sort("quarter_start")
    assert historical["expected"].to_list() == pytest.approx([1000 + 1000, 250, 62.5, 15.625], abs=0.01)  # Q2: T4 won in April
    deals = queries.execute(con, "forecast_deals", min_group_deals=4)
    # E is 44 days old, the examples were 30 days old: no match on age, so stage x involvement.
    assert row(deals, opportunity_id="E")["historical_group"] == "stage x involvement"
    assert row(deals, opportunity_id="E")["p_win"] == pytest.approx(0.5 + 0.125 + 0.03125 + 0.0078125, abs=1e-4)
    coarser = queries.execute(con, "forecast_deals", min_group_deals=5)
    assert row(coarser, opportunity_id="E")["historical_group"] == "all deals"
    note = row(result, fiscal_quarter="FY2026 Q2", method="historical", segment="all")["note"]
    assert "stage x involvement for 100%" in note


def test_the_state_on_a_past_day_is_rebuilt_from_the_history(tmp_path: Path):
    con = queries.connect(build(tmp_path, BACKTEST))
    eve = queries.execute(con, "pipeline_as_of", as_of=date(2026, 3, 31))
    assert sorted(eve["opportunity_id"]) == ["M", "N"]  # K closed, L not created yet
    assert row(eve, opportunity_id="M")["close_date"] == date(2026, 5, 20)
    assert row(eve, opportunity_id="N")["stage"] == "Value Proposition"
    later = queries.execute(con, "pipeline_as_of", as_of=date(2026, 4, 30))
    assert row(later, opportunity_id="M")["close_date"] == date(2026, 8, 15)
    assert row(later, opportunity_id="M")["times_slipped"] == 1
    assert row(later, opportunity_id="M")["first_close_date"] == date(2026, 5, 20)


def test_backtest_counts_a_moved_deal_at_the_close_date_known_then_and_ignores_later_deals(tmp_path: Path):
    con = queries.connect(build(tmp_path, BACKTEST))
    result = queries.execute(con, "forecast_backtest", min_group_deals=1)
    assert result["fiscal_quarter"].unique().to_list() == ["FY2026 Q2"]
    # On 2026-03-31 only M (3000 at 90%, commit, due in May) was due in Q2; N was due in
    # September and L did not exist. Actual: N 2000 + L 5000 = 7000.
    crm = row(result, method="crm_weighted", segment="all")
    assert (crm["forecast"], crm["actual"], crm["abs_pct_error"]) == (2700, 7000, 61.4)
    assert row(result, method="sales_commit", segment="all")["forecast"] == 3000
    assert row(result, method="sales_best_case", segment="all")["forecast"] == 3000
    # The only closed example (K) was won in its quarter: every deal is won, the band collapses.
    historical = row(result, method="historical", segment="all")
    assert (historical["forecast"], historical["p10"], historical["p90"], historical["in_band"]) == (3000, 3000, 3000, False)
    assert set(result["basis"]) == {"history"}
    accuracy = queries.execute(con, "forecast_accuracy", segment="all", min_group_deals=1)  # ties: by method name
    assert accuracy["verdict"][0] == (
        "Historical was closest in 1 of the last 1 quarter, mean error 57%; CRM weighted understated by 61%."
    )


def test_the_historical_forecast_adds_new_business_learned_from_past_quarters(tmp_path: Path):
    # J was created and won inside FY2026 Q1 (800, direct): the new business of the one quarter to
    # learn from (FY2025 Q4 is the program's first, partial quarter).
    files = dict(BACKTEST)
    files["opportunities.csv"] = (
        BACKTEST["opportunities.csv"].rstrip() + "\n        J,800,Closed Won,2026-01-20,2026-02-15,closed\n"
    )
    files["opportunity_history.csv"] = (
        BACKTEST["opportunity_history.csv"].rstrip()
        + "\n        J,Negotiation/Review,2026-01-20 09:00:00,800,2026-02-15,commit"
        + "\n        J,Closed Won,2026-02-15 09:00:00,800,2026-02-15,closed\n"
    )
    con = queries.connect(build(tmp_path, files))
    backtest = queries.execute(con, "forecast_backtest", min_group_deals=1)
    historical = row(backtest, method="historical", segment="all")
    # FY2026 Q2: M 3000 (certain: the one example was won) + new business 800. What came: N 2000,
    # pulled in from September, and L 5000, created in the quarter; M, the deal counted, won nothing.
    assert (historical["forecast"], historical["new_business"], historical["p10"], historical["p90"]) == (3800, 800, 3800, 3800)
    assert (historical["actual"], historical["new_business_actual"], historical["pipeline_actual"]) == (7000, 5000, 0)
    assert row(backtest, method="crm_weighted", segment="all")["new_business"] == 0
    # As of 2026-07-15, 15 days into FY2026 Q3: from FY2026 Q1 what deals created from 16 January
    # won (J), from FY2026 Q2 what deals created from 16 April won (none): mean 400. FY2026 Q4
    # learns from FY2026 Q2: deals created from 16 January won there, N and L. FY2027 Q1 would
    # need a quarter over whose quarter two before was whole: none yet.
    result = queries.execute(con, "pipeline_forecast", min_group_deals=1)
    new = {r["fiscal_quarter"]: r["new_business"] for r in result.filter(
        (pl.col("method") == "historical") & (pl.col("segment") == "all")).iter_rows(named=True)}  # fmt: skip
    assert new == {"FY2026 Q3": 400, "FY2026 Q4": 7000, "FY2027 Q1": 0, "FY2027 Q2": 0}
    assert set(result.filter(pl.col("method") != "historical")["new_business"]) == {0}


def test_without_history_the_backtest_uses_created_and_close_dates_and_says_so(tmp_path: Path):
    files = {name: text for name, text in BACKTEST.items() if name != "opportunity_history.csv"}
    con = queries.connect(build(tmp_path, files))
    result = queries.execute(con, "forecast_backtest", min_group_deals=1)
    assert set(result["basis"]) == {"created_close_dates"}
    assert set(result["method"]) == {"crm_weighted", "historical"}  # no forecast category then
    # On 2026-03-31 M and N were open (created before, closed after), at the first open stage
    # (Prospecting, 10%), at their final close dates: M in August, N (2000) in Q2.
    assert row(result, method="crm_weighted", segment="all")["forecast"] == 200
    assert row(result, method="historical", segment="all")["forecast"] == 2000  # K was won: p_won = 1
    verdict = queries.execute(con, "forecast_accuracy", segment="all", min_group_deals=1)["verdict"][0]
    assert verdict.endswith("(backtest from created and close dates only).")


def test_percentiles_are_ordered_and_collapse_when_every_deal_is_certain():
    rng = np.random.default_rng(3)
    deals = 300
    amounts, segments = rng.random(deals) * 1e5, rng.integers(0, 3, deals)
    quarter = rng.integers(0, 4, deals)
    uncertain = forecast.won_by_quarter(quarter, rng.random(deals), rng.random(deals) * 0.5, 4)
    certain = forecast.won_by_quarter(quarter, rng.integers(0, 2, deals).astype(float), np.zeros(deals), 4)
    uncertain_totals, certain_totals = forecast.simulate(amounts, segments, [uncertain, certain], runs=2000)
    for totals in (uncertain_totals, certain_totals):
        p10, p50, p90 = np.percentile(totals.sum(axis=2), [10, 50, 90], axis=0)
        assert np.all(p10 <= p50) and np.all(p50 <= p90)
    assert np.all(uncertain_totals.sum(axis=2).std(axis=0) > 0)
    assert np.all(np.ptp(certain_totals, axis=0) == 0)
    expected = (np.diff(certain, axis=1, prepend=0) * amounts[:, None]).sum(axis=0)
    assert certain_totals[0].sum(axis=1) == pytest.approx(expected)


def test_with_stage_probabilities_of_zero_or_one_the_crm_band_collapses(tmp_path: Path):
    stages = salesforce_stages()
    stages["Negotiation/Review"] = stages["Negotiation/Review"].model_copy(update={"probability": 1.0})
    stages["Value Proposition"] = stages["Value Proposition"].model_copy(update={"probability": 0.0})
    stages["Prospecting"] = stages["Prospecting"].model_copy(update={"probability": 0.0})
    settings = load_settings(None).model_copy(update={"stage_map": stages})
    con = queries.connect(build(tmp_path, LIVE, settings=settings))
    result = queries.execute(con, "pipeline_forecast").filter(pl.col("method") == "crm_weighted")
    assert (result["p10"] == result["p90"]).all() and (result["p50"] == result["expected"]).all()
    assert row(result, fiscal_quarter="FY2026 Q2", segment="partner")["expected"] == 1500


def test_the_simulation_is_repeatable(live):
    first = queries.execute(live, "pipeline_forecast")
    forecast.MEMO.clear()
    assert first.equals(queries.execute(live, "pipeline_forecast"))


def test_forecast_percentiles_are_ordered_on_the_demo(demo_db: Path):
    con = queries.connect(demo_db)
    result = queries.execute(con, "pipeline_forecast").filter(pl.col("p10").is_not_null())
    assert result.height and (result["p10"] <= result["p50"]).all() and (result["p50"] <= result["p90"]).all()
    backtest = queries.execute(con, "forecast_backtest")
    assert backtest.height and set(backtest["basis"]) == {"history"}


def test_figures_have_a_bar_per_method_with_a_band_and_a_line_per_method(tmp_path: Path):
    con = queries.connect(build(tmp_path, BACKTEST))
    bars = charts.forecast_bars(queries.execute(con, "pipeline_forecast", min_group_deals=1))
    assert [trace.name for trace in bars.data] == [
        "Historical",
        "CRM weighted",
        "Sales call: commit",
        "Sales call: commit + best case",
    ]
    assert bars.data[0].error_y.array is not None and bars.data[2].error_y.array is None
    lines = charts.backtest_lines(queries.execute(con, "forecast_backtest", min_group_deals=1), "all")
    assert lines.data[0].name == "Actual (closed won)" and list(lines.data[0].y) == [7000]


def test_the_page_renders_on_the_tiny_program(tiny_db: Path):
    at = open_page("forecast")
    assert not at.exception, at.exception
    assert [m.label for m in at.metric][:2] == ["Historical, FY2026 Q2", "CRM weighted, FY2026 Q2"]
    assert any("No past quarter to backtest" in i.value for i in at.info)


def test_the_page_renders_on_the_demo_with_a_verdict(demo_db: Path):
    at = open_page("forecast", timeout=120)
    assert not at.exception, at.exception
    assert at.success and "was closest in" in at.success[0].value
    # The open tab's deal list (the largest expected values), with deals in it.
    assert [len(t.value) for t in at.dataframe if "opportunity_id" in t.value.columns] == [100]


def test_the_page_says_the_full_backtest_needs_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    files = {name: text for name, text in BACKTEST.items() if name != "opportunity_history.csv"}
    db = build(tmp_path, files)
    monkeypatch.setenv("PULSE_DB", str(db))
    at = open_page("forecast")
    assert not at.exception, at.exception
    assert any("needs the **opportunity_history** extract" in w.value for w in at.warning)


MAVEN = SHARED_DATA / "maven-crm"


@pytest.mark.skipif(not MAVEN.is_dir(), reason="the Maven CRM export is not in ../shared/data")
def test_the_maven_export_forecasts_and_backtests_from_created_and_close_dates(tmp_path: Path):
    db = tmp_path / "maven.duckdb"
    build_database(MAVEN, db, settings_path=PROJECT / "examples" / "maven-crm.toml")
    con = queries.connect(db)
    result = queries.execute(con, "pipeline_forecast")
    # Every open Maven deal lacks an amount and a close date and is quarantined: nothing is open, so
    # after this quarter the pipeline methods forecast nothing and the historical method only the
    # new business the quarters before brought.
    later = result.filter(pl.col("quarter_start") > pl.col("quarter_start").min())
    assert later.filter(pl.col("method") != "historical")["expected"].sum() == 0
    historical = later.filter(pl.col("method") == "historical")
    assert (historical["expected"] == historical["new_business"]).all() and historical["new_business"].sum() > 0
    backtest = queries.execute(con, "forecast_backtest")
    assert backtest.height and set(backtest["basis"]) == {"created_close_dates"}
    assert (backtest.filter(pl.col("segment") == "direct")["actual"] > 0).all()


# ---- fit once per build: the stored default view and stored states ----------------------

OUTPUTS = ("pipeline_forecast", "forecast_deals", "forecast_backtest", "forecast_accuracy")


def computed_on_demand(con, monkeypatch: pytest.MonkeyPatch, name: str, **params) -> pl.DataFrame:
    """The output computed from the extracts alone, as if the build had stored nothing."""
    with monkeypatch.context() as patch:
        patch.setattr(queries, "READ_STORED", False)
        forecast.MEMO.clear()
        frame = queries.execute(con, name, **params)
    forecast.MEMO.clear()
    return frame


def test_the_build_stores_the_default_view_and_the_page_reads_it_without_simulating(live, monkeypatch: pytest.MonkeyPatch):
    tables = {row[0] for row in live.sql("select table_name from duckdb_tables()").fetchall()}
    assert {"forecast_precomputed", "forecast_deals_precomputed", "forecast_backtest_precomputed"} <= tables
    forecast.MEMO.clear()

    def no_simulation(*args, **kwargs):
        raise AssertionError("the default view should be read, not simulated")

    monkeypatch.setattr(forecast, "simulate", no_simulation)
    as_of = date(2026, 5, 15)  # the data's last day, as the page passes it
    result = queries.execute(live, "pipeline_forecast", as_of=as_of)
    assert row(result, fiscal_quarter="FY2026 Q2", method="crm_weighted", segment="partner")["expected"] == 1400
    assert queries.execute(live, "forecast_deals", as_of=as_of).height == 3
    with pytest.raises(AssertionError, match="read, not simulated"):  # a filtered view computes
        queries.execute(live, "pipeline_forecast", as_of=as_of, regions=["EMEA"])


def test_the_stored_default_view_gives_the_same_numbers_as_computing_on_demand(demo_db: Path, monkeypatch: pytest.MonkeyPatch):
    con = queries.connect(demo_db)
    as_of = forecast._meta(con)[0]
    for name in OUTPUTS:
        # The backtest and the accuracy take no as_of: they look back from the data's last day.
        for params in ({}, {"as_of": as_of}) if queries.output(name).takes("as_of") else ({},):
            stored = queries.execute(con, name, **params)
            assert stored.height, name
            assert_frame_equal(stored, computed_on_demand(con, monkeypatch, name, **params))
    for segment in ("all", "direct"):
        stored = queries.execute(con, "forecast_accuracy", segment=segment)
        assert_frame_equal(stored, computed_on_demand(con, monkeypatch, "forecast_accuracy", segment=segment))


def test_filtered_views_from_the_stored_states_give_the_same_numbers_as_computing_on_demand(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
):
    con = queries.connect(demo_db)
    region, manager, tier = con.sql(
        "select region, partner_manager, tier from partners where partner_manager is not null order by partner_id limit 1"
    ).fetchall()[0]
    views = [{"regions": [region], "partner_types": ["reseller", "referral"]}, {"managers": [manager], "tiers": [tier]}]
    for params in views:
        for name in OUTPUTS:
            forecast.MEMO.clear()
            from_stored = queries.execute(con, name, **params)
            assert_frame_equal(from_stored, computed_on_demand(con, monkeypatch, name, **params))


def test_a_past_as_of_is_computed_not_read_from_the_stored_view(demo_db: Path, monkeypatch: pytest.MonkeyPatch):
    con = queries.connect(demo_db)
    day = forecast._meta(con)[0] - timedelta(days=45)
    result = queries.execute(con, "pipeline_forecast", as_of=day)
    assert set(result["as_of"]) == {day}
    assert_frame_equal(result, computed_on_demand(con, monkeypatch, "pipeline_forecast", as_of=day))


def test_touches_at_the_same_moment_name_the_partner_of_the_first_touchpoint(tmp_path: Path):
    # B is touched by P1 (T2) and P2 (T1) in the same minute: the first in path order is T1, P2.
    files = dict(LIVE)
    files["touchpoints.csv"] = """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T2,B,P1,co_selling,2026-04-01 10:00:00
        T1,B,P2,co_selling,2026-04-01 10:00:00
    """
    con = queries.connect(build(tmp_path, files))
    state = row(queries.execute(con, "pipeline_as_of"), opportunity_id="B")
    assert (state["partner_id"], state["segment"]) == ("P2", "partner_influenced")


def test_won_since_adds_the_deals_won_since_that_day_to_the_open_ones(tmp_path: Path):
    con = queries.connect(build(tmp_path, BACKTEST))
    # On 2026-07-15: M and Z open; L won 2026-06-01; N won 2026-05-05 and K in February, before the day.
    states = queries.execute(con, "pipeline_as_of", won_since=date(2026, 5, 10))
    assert sorted(states["opportunity_id"]) == ["L", "M", "Z"]
    everything = queries.execute(con, "pipeline_as_of", include_closed=True)
    assert_frame_equal(states, everything.filter(pl.col("opportunity_id").is_in(["L", "M", "Z"])))
