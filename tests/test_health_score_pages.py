"""The health score on the pages (Engagement & burnout, Program health, Partner 360) and its figures."""

from __future__ import annotations

import duckdb
import plotly.graph_objects as go
import polars as pl

import queries
from charts import health_score as charts
from tests.conftest import open_page


def health_frames(db) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        health = queries.execute(con, "partner_health")
        history = queries.execute(con, "partner_health_history", partner_id=health["partner_id"][0], quarters=4)
        calibration = queries.execute(con, "win_model_calibration")
        return health, history, calibration
    finally:
        con.close()


def test_engagement_page_ranks_partners_by_health_with_weight_sliders(demo_db):
    at = open_page("engagement")
    assert not at.exception
    assert len(at.slider) >= 5
    ranked = [frame.value for frame in at.dataframe if "health_score" in frame.value.columns]
    assert ranked and ranked[0]["health_score"].is_monotonic_decreasing


def test_moving_a_weight_slider_reranks_the_table(demo_db):
    at = open_page("engagement")
    for slider in at.slider:
        if slider.key and slider.key.startswith("engagement_w_"):
            slider.set_value(100 if slider.key == "engagement_w_pipeline" else 0)
    at.run()
    assert not at.exception
    ranked = next(frame.value for frame in at.dataframe if "health_score" in frame.value.columns)
    assert (ranked["health_score"] == ranked["pipeline_component"]).all()


def test_program_health_page_shows_the_distribution_and_movers(demo_db):
    at = open_page("health")
    assert not at.exception
    assert any(metric.label == "Median health score" for metric in at.metric)


def test_partner_360_shows_the_partners_health_history(demo_db):
    health, _, _ = health_frames(demo_db)
    at = open_page("partner", query={"partner": health["partner_id"][0]})
    assert not at.exception
    assert any(metric.label == "Health score" for metric in at.metric)


def test_figures_draw_from_the_outputs(demo_db):
    health, history, calibration = health_frames(demo_db)
    histogram = charts.score_histogram(health)
    assert isinstance(histogram, go.Figure)
    # Counted before drawing: every partner in one bar, at most 20 bars of 5 points per tier.
    assert sum(sum(trace.y) for trace in histogram.data) == health.height
    assert all(len(trace.x) <= 20 for trace in histogram.data)
    bars = charts.component_bars(history.row(-1, named=True))
    assert len(bars.data[0].x) == 5
    assert len(charts.score_history(history).data) == 6
    assert len(charts.calibration(calibration).data) == 3
