"""Charts draw once: every side of the margin fixed, automargin off on every axis (issue 20).

Plotly's automargin measures the labels and then draws the chart a second time; Streamlit's
theme turns it on in the template, so the figure's own axes must say off."""

from __future__ import annotations

import polars as pl

from charts import MARGIN, figure, shorten
from charts.engagement import cohort_curves, engagement_heatmap


def axes(fig) -> list:
    layout = fig.layout
    return [getattr(layout, name) for name in dir(layout) if name.startswith(("xaxis", "yaxis")) and getattr(layout, name)]


def test_a_figure_has_every_margin_fixed_and_automargin_off():
    plain, titled = figure(), figure("A title", margin={"l": 200})
    assert (plain.layout.margin.l, plain.layout.margin.r, plain.layout.margin.t, plain.layout.margin.b) == (
        MARGIN["l"], MARGIN["r"], MARGIN["t"], MARGIN["b"],
    )
    # A title gets a row above the legend's; a chart's own side is kept, the others stay fixed.
    assert (titled.layout.margin.l, titled.layout.margin.t, titled.layout.margin.b) == (200, 80, MARGIN["b"])
    assert titled.layout.title.text == "A title" and titled.layout.title.yanchor == "top"
    for fig in (plain, titled):
        assert [axis.automargin for axis in axes(fig)] == [False, False]


def test_the_two_panel_cohort_chart_and_the_heat_map_keep_automargin_off():
    curves = pl.DataFrame(
        {
            "curve": ["activation", "survival"],
            "cohort": ["FY2026 Q1", "FY2026 Q1"],
            "cohort_start": ["2026-01-01", "2026-01-01"],
            "months_since_joining": [1, 1],
            "share": [0.5, 0.9],
            "partners": [10, 10],
            "at_risk": [10, 10],
        }
    )
    fig = cohort_curves(curves)
    assert len(axes(fig)) == 4 and all(axis.automargin is False for axis in axes(fig))
    assert fig.layout.margin.l == MARGIN["l"] and fig.layout.margin.b == 130  # the legend's rows under the plots
    monthly = pl.DataFrame(
        {
            "partner_id": ["P1"],
            "partner_name": ["Northwind Managed Services S.A. de C.V."],
            "month": ["2026-06-01"],
            "engagement_score": [80.0],
        }
    )
    heat = engagement_heatmap(monthly)
    assert heat.layout.margin.l == 260 and all(axis.automargin is False for axis in axes(heat))
    # A name past 30 characters is cut so it fits the fixed margin; the id keeps the row's label unique.
    assert list(heat.data[0].y) == ["Northwind Managed Services S.… (P1)"]


def test_shorten_keeps_short_labels_and_cuts_long_ones_to_thirty_characters():
    assert shorten("Acme Partners") == "Acme Partners"
    assert shorten(None) == ""
    cut = shorten("Northwind Managed Services S.A. de C.V.")
    assert len(cut) == 30 and cut.endswith("…")

