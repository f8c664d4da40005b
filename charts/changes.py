"""Figures for the Pipeline changes page: the waterfall from the opening pipeline to the
closing one, and each method's forecast for the quarter week by week.

Pure builders: frames from `queries.forecast.pipeline_changes` and `queries.forecast.forecast_history` in,
`go.Figure` out.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts import NEUTRAL, Amounts, figure
from charts.forecast import METHOD_COLORS, METHOD_ORDER
from queries.forecast.pipeline_changes import STEPS

UP, DOWN, TOTAL = "#009E73", "#D55E00", "#0072B2"


def waterfall(row: dict[str, object], title: str, currency: str = "USD") -> go.Figure:
    """Opening, then each kind of change (up green, down orange), then closing, from one row of
    `pipeline_changes.waterfall`."""
    amounts = Amounts(currency)
    steps = list(STEPS)
    fig = figure(title, yaxis_title="Pipeline (reporting currency)", showlegend=False, hovermode="closest")
    fig.add_trace(
        go.Waterfall(
            x=[STEPS[s] for s in steps],
            y=[float(row[s] or 0) for s in steps],  # type: ignore[arg-type]
            measure=["absolute", *["relative"] * (len(steps) - 2), "total"],
            increasing={"marker": {"color": UP}},
            decreasing={"marker": {"color": DOWN}},
            totals={"marker": {"color": TOTAL}},
            connector={"line": {"color": NEUTRAL, "width": 1}},
            texttemplate=amounts.number("y", ",.3s"),
            textposition="outside",
            hovertemplate="%{x}: " + amounts.number("y", ",.2f") + "<extra></extra>",
        )
    )
    fig.update_yaxes(**amounts.ticks(), rangemode="tozero")
    return fig


def history_lines(history: pl.DataFrame, quarter: str, currency: str = "USD") -> go.Figure:
    """Each method's forecast for the quarter at the end of every week, the historical method's
    P10-P90 as a band, and what was won by then (grey), which the forecasts converge on."""
    amounts = Amounts(currency)
    fig = figure(
        f"Forecast for {quarter}, week by week",
        yaxis_title="Amount won (reporting currency)",
        xaxis_title="Forecast as of",
        margin={"t": 120},  # six legend entries wrap to two rows above the plot: clear of the title
    )
    if history.is_empty():
        return fig
    rows = history.sort("as_of")
    historical = rows.filter(pl.col("method") == "historical")
    if historical.height and historical["p10"].is_not_null().all():
        days = historical["as_of"].to_list()
        fig.add_scatter(
            x=days + days[::-1],
            y=historical["p90"].to_list() + historical["p10"].to_list()[::-1],
            fill="toself",
            fillcolor="rgba(0,158,115,0.15)",
            line={"width": 0},
            name="Historical P10-P90",
            hoverinfo="skip",
        )
    for method in METHOD_ORDER:
        series = rows.filter(pl.col("method") == method)
        if series.is_empty():
            continue
        label = series["method_label"][0]
        fig.add_scatter(
            name=label,
            x=series["as_of"].to_list(),
            y=series["expected"].to_list(),
            mode="lines+markers",
            line={"color": METHOD_COLORS[method], "dash": "dot" if method.startswith("sales") else "solid"},
            hovertemplate="%{x|%Y-%m-%d}<br>" + label + ": " + amounts.number("y") + "<extra></extra>",
        )
    won = rows.unique("as_of", keep="first").sort("as_of")
    fig.add_scatter(
        name="Won so far",
        x=won["as_of"].to_list(),
        y=won["won_to_date"].to_list(),
        mode="lines+markers",
        line={"color": METHOD_COLORS["actual"], "width": 3},
        hovertemplate="%{x|%Y-%m-%d}<br>Won so far: " + amounts.number("y") + "<extra></extra>",
    )
    fig.update_yaxes(**amounts.ticks(), rangemode="tozero")
    return fig
