"""Figures for the Pipeline forecast page: the forecast by quarter and method with its
P10-P90 band, and the backtest (each method's forecast against what actually closed).

Pure builders: frames from `queries.forecast.methods` in, `go.Figure` out. The numbers are
computed in `queries/forecast/methods.py`; this module only decides how they look.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts import NEUTRAL, Amounts, figure

METHOD_COLORS = {
    "crm_weighted": "#E69F00",
    "sales_commit": "#56B4E9",
    "sales_best_case": "#0072B2",
    "historical": "#009E73",
    "actual": NEUTRAL,
}
METHOD_ORDER = ["historical", "crm_weighted", "sales_commit", "sales_best_case"]
SEGMENT_LABELS = {
    "partner": "Partner (sourced + influenced)",
    "partner_sourced": "Partner-sourced",
    "partner_influenced": "Partner-influenced",
    "direct": "Direct",
    "all": "All pipeline",
}


def _methods(frame: pl.DataFrame) -> list[tuple[str, str]]:
    present = dict(frame.select("method", "method_label").unique().iter_rows())
    return [(method, present[method]) for method in METHOD_ORDER if method in present]


def forecast_bars(forecast: pl.DataFrame, segment: str = "partner", currency: str = "USD") -> go.Figure:
    """Expected amount per fiscal quarter, one bar per method, whiskers from P10 to P90."""
    amounts = Amounts(currency)
    rows = forecast.filter(pl.col("segment") == segment).sort("quarter_start")
    fig = figure(
        f"{SEGMENT_LABELS.get(segment, segment)}: expected to close won",
        yaxis_title="Amount won (reporting currency)",
        xaxis_title="Fiscal quarter",
        barmode="group",
        hovermode="closest",
    )
    for method, label in _methods(rows):
        series = rows.filter(pl.col("method") == method)
        has_band = series["p10"].is_not_null().all()
        fig.add_bar(
            name=label,
            x=series["fiscal_quarter"].to_list(),
            y=series["expected"].to_list(),
            marker_color=METHOD_COLORS[method],
            error_y=(
                {
                    "type": "data",
                    "symmetric": False,
                    "array": (series["p90"] - series["expected"]).clip(lower_bound=0).to_list(),
                    "arrayminus": (series["expected"] - series["p10"]).clip(lower_bound=0).to_list(),
                    "color": "#444444",
                }
                if has_band
                else None
            ),
            customdata=series.select("p10", "p90", pl.col("new_business").fill_null(0.0)).to_numpy() if has_band else None,
            hovertemplate=(
                "%{x}<br>" + label + ": " + amounts.number("y")
                + (f"<br>P10-P90: {amounts.number('customdata[0]')} to {amounts.number('customdata[1]')}" if has_band else "")
                + ("<br>of which new business: " + amounts.number("customdata[2]") if method == "historical" else "")
                + "<extra></extra>"
            ),
        )
    fig.update_yaxes(**amounts.ticks())
    return fig


def backtest_lines(backtest: pl.DataFrame, segment: str = "partner", currency: str = "USD") -> go.Figure:
    """Per past quarter: what actually closed won (grey) and what each method had forecast on day one."""
    amounts = Amounts(currency)
    rows = backtest.filter(pl.col("segment") == segment).sort("quarter_start")
    fig = figure(
        "Backtest: forecast on the first day of each quarter vs actual",
        yaxis_title="Amount won (reporting currency)",
        xaxis_title="Fiscal quarter",
    )
    if rows.is_empty():
        return fig
    actual = rows.unique("fiscal_quarter", keep="first").sort("quarter_start")
    fig.add_scatter(
        name="Actual (closed won)",
        x=actual["fiscal_quarter"].to_list(),
        y=actual["actual"].to_list(),
        mode="lines+markers",
        line={"color": METHOD_COLORS["actual"], "width": 3},
        hovertemplate="%{x}<br>Actual: " + amounts.number("y") + "<extra></extra>",
    )
    for method, label in _methods(rows):
        series = rows.filter(pl.col("method") == method)
        fig.add_scatter(
            name=label,
            x=series["fiscal_quarter"].to_list(),
            y=series["forecast"].to_list(),
            mode="lines+markers",
            line={"color": METHOD_COLORS[method], "dash": "dot" if method.startswith("sales") else "solid"},
            customdata=series.select(pl.col("abs_pct_error").fill_null(float("nan"))).to_numpy(),
            hovertemplate="%{x}<br>" + label + ": " + amounts.number("y") + " (off by %{customdata[0]:.0f}%)<extra></extra>",
        )
    fig.update_yaxes(**amounts.ticks(), rangemode="tozero")
    return fig
