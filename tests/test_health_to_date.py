"""Program health while a period is not over: counted to the as-of date and compared with the
same days of the previous period (quarter-to-date, year-to-date), the whole previous period as
a choice in the URL, the dates written under the title, and a change of zero shown as neutral.
A tiny program whose data ends 2026-05-10, day 40 of FY2026 Q2."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.proto.Metric_pb2 import Metric

import queries
from charts import health as charts
from loaders.build import build_database
from queries.__main__ import main as queries_cli
from queries.program.kpis import compared_periods, previous_period
from tests.conftest import open_page, write_extracts

# Q1 to date is 2026-01-01 to 2026-02-09 (40 days, as Q2's 2026-04-01 to 2026-05-10).
# P1 sources O1 (won 01-20, in Q1's first 40 days), O2 (won 03-15, later in Q1) and O3 (won in Q2);
# P2 sources the lost deals O4 (Q2), O5 (Q1's first 40 days) and O6 (later in Q1).
TO_DATE = {
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at,region,country,partner_manager,status
        P1,Acme Partners,referral,gold,2025-01-15,EMEA,DE,Maria Lopez,active
        P2,Beacon Systems,integration,silver,2025-03-01,NA,US,Sam Reed,active
    """,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,is_closed,is_won,forecast_category,sourced_partner_id,region
        O1,1000,Closed Won,2026-01-05,2026-01-20,true,true,closed,P1,EMEA
        O2,4000,Closed Won,2026-02-01,2026-03-15,true,true,closed,P1,EMEA
        O3,2000,Closed Won,2026-04-02,2026-04-25,true,true,closed,P1,EMEA
        O4,500,Closed Lost,2026-04-03,2026-05-02,true,false,omitted,P2,NA
        O5,700,Closed Lost,2026-01-06,2026-01-30,true,false,omitted,P2,NA
        O6,300,Closed Lost,2026-02-10,2026-03-20,true,false,omitted,P2,NA
    """,
    "partner_activities.csv": """
        activity_id,partner_id,activity_type,occurred_at
        A1,P1,training_completed,2026-05-10 10:00:00
    """,
}
Q2 = {"start_date": date(2026, 4, 1), "end_date": date(2026, 6, 30)}


@pytest.fixture(scope="module")
def to_date_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("to_date")
    db = folder / "to_date.duckdb"
    build_database(write_extracts(folder / "extracts", TO_DATE), db)
    return db


@pytest.fixture
def to_date_db(to_date_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PULSE_DB", str(to_date_db_path))
    return to_date_db_path


def kpis(db: Path, **params) -> dict[str, dict]:
    frame = queries.execute(queries.connect(db), "program_kpis", **params)
    return {row["kpi"]: row for row in frame.iter_rows(named=True)}


def test_the_quarter_in_progress_is_compared_with_the_same_days_of_the_previous_quarter(to_date_db_path: Path):
    rows = kpis(to_date_db_path, **Q2)
    sourced = rows["sourced_revenue"]
    dates = [sourced[k] for k in ("start_date", "end_date", "previous_start_date", "previous_end_date")]
    assert dates == [date(2026, 4, 1), date(2026, 5, 10), date(2026, 1, 1), date(2026, 2, 9)]
    assert sourced["in_progress"] is True
    assert (sourced["value"], sourced["previous_value"]) == (2000, 1000)  # O3 against O1 (O2 closed on day 74)
    assert (rows["sourced_pipeline"]["value"], rows["sourced_pipeline"]["previous_value"]) == (
        2500,
        5700,
    )  # O3 + O4; O1 + O2 + O5
    assert (rows["avg_deal_size"]["value"], rows["avg_deal_size"]["previous_value"]) == (2000, 1000)
    assert (rows["win_rate"]["value"], rows["win_rate"]["previous_value"]) == (0.5, 0.5)  # O3 of O3, O4; O1 of O1, O5


def test_the_whole_previous_quarter_stays_a_choice(to_date_db_path: Path):
    rows = kpis(to_date_db_path, **Q2, compare="full_period")
    sourced = rows["sourced_revenue"]
    dates = [sourced[k] for k in ("start_date", "end_date", "previous_start_date", "previous_end_date")]
    assert dates == [date(2026, 4, 1), date(2026, 5, 10), date(2026, 1, 1), date(2026, 3, 31)]
    assert (sourced["value"], sourced["previous_value"]) == (2000, 5000)  # O1 + O2
    assert (rows["sourced_pipeline"]["value"], rows["sourced_pipeline"]["previous_value"]) == (2500, 6000)  # + O6
    assert (rows["win_rate"]["value"], rows["win_rate"]["previous_value"]) == (0.5, 0.5)  # O1, O2 of four


def test_the_default_period_is_this_quarter_to_date(to_date_db_path: Path):
    assert kpis(to_date_db_path)["sourced_revenue"]["previous_end_date"] == date(2026, 2, 9)


def test_the_fiscal_year_in_progress_is_compared_year_to_date(to_date_db_path: Path):
    rows = kpis(to_date_db_path, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))
    sourced = rows["sourced_revenue"]
    # 130 days: 2026-01-01 to 2026-05-10 against 2025-01-01 to 2025-05-10, before any deal.
    assert (sourced["end_date"], sourced["previous_start_date"], sourced["previous_end_date"]) == (
        date(2026, 5, 10),
        date(2025, 1, 1),
        date(2025, 5, 10),
    )
    assert (sourced["value"], sourced["previous_value"]) == (7000, 0)


def test_a_period_that_is_over_is_compared_whole_whatever_the_choice(to_date_db_path: Path):
    q1 = {"start_date": date(2026, 1, 1), "end_date": date(2026, 3, 31)}
    for compare in ("to_date", "full_period"):
        sourced = kpis(to_date_db_path, **q1, compare=compare)["sourced_revenue"]
        assert (sourced["end_date"], sourced["previous_start_date"], sourced["previous_end_date"]) == (
            date(2026, 3, 31),
            date(2025, 10, 1),  # FY2025 Q4 whole, although Q1 has 90 days and Q4 92
            date(2025, 12, 31),
        )
        assert sourced["in_progress"] is False
        assert sourced["value"] == 5000


def test_the_day_before_the_period_ends_is_still_to_date_and_its_last_day_is_not():
    q2 = (date(2026, 4, 1), date(2026, 6, 30))
    assert compared_periods(*q2, date(2026, 6, 29)) == (
        (date(2026, 4, 1), date(2026, 6, 29)),
        (date(2026, 1, 1), date(2026, 3, 31)),  # 90 days each: all of Q1
    )
    assert compared_periods(*q2, date(2026, 6, 30)) == (q2, (date(2026, 1, 1), date(2026, 3, 31)))
    # FY2026 Q3 has 92 days and Q2 91: on Q3's 91st day the same days of Q2 are the whole of it.
    q3 = (date(2026, 7, 1), date(2026, 9, 30))
    assert compared_periods(*q3, date(2026, 9, 29))[1] == (date(2026, 4, 1), date(2026, 6, 30))


def test_a_range_that_is_not_whole_quarters_is_compared_with_as_many_days_before_it():
    assert previous_period(date(2026, 2, 3), date(2026, 5, 17)) == (date(2025, 10, 22), date(2026, 2, 2))  # 104 days each
    # With a fiscal year starting in February, February to April is a quarter.
    assert previous_period(date(2026, 2, 1), date(2026, 4, 30), start_month=2) == (date(2025, 11, 1), date(2026, 1, 31))


def test_a_trend_reads_the_quarter_in_progress_against_the_same_days_of_each_quarter(to_date_db_path: Path):
    trend = queries.execute(queries.connect(to_date_db_path), "kpi_trend_by_quarter", **Q2, quarters=2)
    sourced = trend.filter(pl.col("kpi") == "sourced_revenue")
    assert sourced.select("fiscal_quarter", "quarter_end", "in_progress", "value", "same_days_value").rows() == [
        ("FY2026 Q1", date(2026, 3, 31), False, 5000, 1000),
        ("FY2026 Q2", date(2026, 5, 10), True, 2000, 2000),
    ]
    whole = queries.execute(queries.connect(to_date_db_path), "kpi_trend_by_quarter", **Q2, quarters=2, compare="full_period")
    assert whole.filter(pl.col("kpi") == "sourced_revenue")["same_days_value"].to_list() == [None, None]


def test_the_trend_chart_labels_the_quarter_in_progress_and_draws_the_same_days_dotted(to_date_db_path: Path):
    trend = queries.execute(queries.connect(to_date_db_path), "kpi_trend_by_quarter", **Q2, quarters=2)
    figure = charts.kpi_trend(trend, "sourced_revenue")
    same_days = [trace for trace in figure.data if "first 40 days" in trace.name]
    assert len(same_days) == 1 and same_days[0].line.dash == "dot"
    assert list(same_days[0].x) == ["FY2026 Q1", "FY2026 Q2 to 05-10"]
    assert list(same_days[0].y) == [1000, 2000]


def test_the_breakdown_counts_the_period_to_the_as_of_date_as_the_cards_do(to_date_db_path: Path):
    breakdown = queries.execute(queries.connect(to_date_db_path), "kpi_breakdown", **Q2, dimension="tier")
    assert dict(breakdown.select("tier", "sourced_revenue").rows()) == {"gold": 2000, "silver": 0}


def test_the_command_line_export_compares_to_date_unless_asked_for_the_whole_period(to_date_db_path: Path, tmp_path: Path):
    for extra, previous in [([], 1000), (["--param", "compare=full_period"], 5000)]:
        out = tmp_path / "kpis.csv"
        args = ["export", "program_kpis", "--db", str(to_date_db_path), "--out", str(out)]
        assert queries_cli([*args, "--param", "start_date=2026-04-01", "--param", "end_date=2026-06-30", *extra]) == 0
        row = pl.read_csv(out).filter(pl.col("kpi") == "sourced_revenue").row(0, named=True)
        assert (row["value"], row["previous_value"]) == (2000, previous)


def test_a_change_of_zero_is_neutral_and_a_change_either_way_is_coloured():
    assert charts.format_change(0.5, 0.5, "share") == "0.0 pts"
    assert charts.change_color(0.5, 0.5, "share", higher_is_better=True) == "off"
    assert charts.change_color(0.5004, 0.5, "share", higher_is_better=True) == "off"  # shows as 0.0 pts
    assert charts.change_color(0.501, 0.5, "share", higher_is_better=True) == "normal"  # +0.1 pts
    assert charts.format_change(2000, 1000, "money") == "+$1.0k"
    assert charts.format_change(1000.4, 1000, "money") == "$0"
    assert charts.change_color(1001, 1000, "money", higher_is_better=False) == "inverse"


def metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


def test_the_page_says_which_dates_it_compares_and_colours_only_real_changes(to_date_db: Path):
    at = open_page("health")
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert (
        "2026-04-01 to 2026-05-10, the first 40 days of a period not over yet, compared with the same days of the "
        "previous period, 2026-01-01 to 2026-02-09."
    ) in captions
    revenue = metric(at, "Partner-sourced revenue")
    assert (revenue.value, revenue.delta) == ("$2.0k", "+$1.0k")
    assert revenue.proto.color == Metric.MetricColor.GREEN
    win_rate = metric(at, "Win rate")
    assert win_rate.delta == "0.0 pts"
    assert win_rate.proto.color == Metric.MetricColor.GRAY and win_rate.proto.direction == Metric.MetricDirection.NONE


def test_the_whole_previous_period_is_a_control_kept_in_the_url(to_date_db: Path):
    at = open_page("health", {"health_compare": "full_period"})
    assert not at.exception, at.exception
    assert "compared with the whole previous period, 2026-01-01 to 2026-03-31." in " ".join(c.value for c in at.caption)
    revenue = metric(at, "Partner-sourced revenue")
    assert revenue.delta == "-$3.0k" and revenue.proto.color == Metric.MetricColor.RED
    at.segmented_control(key="health_compare").set_value("to_date").run()
    assert "health_compare" not in at.query_params
    assert metric(at, "Partner-sourced revenue").delta == "+$1.0k"
