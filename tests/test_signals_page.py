"""The Engagement & burnout page on the tiny program and the demo, and its figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from charts import engagement as charts
from tests.conftest import open_page

# Every test here only reads the tiny program: one build serves them all (tests/conftest.py, tiny_db).
pytestmark = pytest.mark.reads_tiny_program


def metrics(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_the_page_lists_the_tiny_programs_dormant_partner_with_its_reason(tiny_db: Path):
    at = open_page("engagement")
    assert not at.exception, at.exception
    # As of 2026-06-20: P1 active (training on 2026-06-01); P2 quiet since 2026-02-10 with a
    # 5,000 open deal and 120 unpaid commission; P3 terminated, not listed.
    assert metrics(at) == {"Partners": "2", "At risk": "1", "Dormant": "1", "Overdue": "0", "Burning out": "0", "Returned": "0"}
    at_risk = at.dataframe[0].value
    assert list(at_risk["partner_id"]) == ["P2"]
    assert at_risk["at_risk_reasons"][0] == "quiet 130 days; open pipeline $5,000 (1 deal); unpaid commission $120"


def test_the_manager_filter_shows_only_my_partners(tiny_db: Path):
    at = open_page("engagement", query={"manager": "Maria Lopez"})
    assert not at.exception, at.exception
    assert metrics(at)["Partners"] == "1" and metrics(at)["Dormant"] == "0"


def test_the_page_replays_an_earlier_day_from_the_url(tiny_db: Path):
    at = open_page("engagement", query={"engagement_as_of": "2026-03-01"})
    assert not at.exception, at.exception
    # On 2026-03-01 P2 was active (registration 2026-02-10); P1 had never acted (joined 2025-01-15).
    assert metrics(at)["Dormant"] == "1"
    assert any("2026-03-01" in caption.value for caption in at.caption)


def test_the_page_renders_on_the_demo_program(demo_db: Path):
    at = open_page("engagement", timeout=60)
    assert not at.exception, at.exception
    values = metrics(at)
    assert int(values["Partners"]) > 20 and int(values["Dormant"]) > 0 and int(values["Burning out"]) > 0


def test_heatmap_orders_partners_by_this_months_score():
    monthly = pl.DataFrame(
        {
            "partner_id": ["A", "A", "B", "B"],
            "partner_name": ["Alpha", "Alpha", "Beta", "Beta"],
            "month": [date(2026, 5, 1), date(2026, 6, 1)] * 2,
            "engagement_score": [90.0, 20.0, 10.0, 80.0],
        }
    )
    fig = charts.engagement_heatmap(monthly)
    heatmap = fig.data[0]
    assert list(heatmap.y) == ["Beta (B)", "Alpha (A)"]
    assert list(heatmap.x) == ["2026-05", "2026-06"]
    assert heatmap.z.tolist() == [[10.0, 80.0], [90.0, 20.0]]


def test_cohort_chart_draws_one_line_per_cohort_in_each_panel():
    curves = pl.DataFrame(
        {
            "cohort": ["FY2026 Q1"] * 4 + ["FY2026 Q2"] * 4,
            "cohort_start": [date(2026, 1, 1)] * 4 + [date(2026, 4, 1)] * 4,
            "curve": ["activation", "activation", "survival", "survival"] * 2,
            "partners": [3] * 8,
            "months_since_joining": [0, 1] * 4,
            "at_risk": [3, 3, 3, 2] * 2,
            "events": [0, 1, 0, 1] * 2,
            "share": [0.0, 1 / 3, 1.0, 2 / 3] * 2,
        }
    )
    fig = charts.cohort_curves(curves)
    assert len(fig.data) == 4
    assert [trace.name for trace in fig.data if trace.showlegend] == ["FY2026 Q1 (3)", "FY2026 Q2 (3)"]
    # Under the plots: above them the legend covered the two subplot titles.
    assert fig.layout.legend.y < 0
