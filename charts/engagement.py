"""Figures of the Engagement & burnout page: the engagement heat map and the cohort curves.

Pure builders (frame in, `go.Figure` out); the numbers come from `engagement_by_month` and
`cohort_curves` under `queries/`.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from charts import MARGIN, OKABE_ITO, figure, fixed_margins, shorten

# Most recent cohorts drawn darkest: a sequential blue ramp, oldest first.
COHORT_RAMP = ["#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]


def engagement_heatmap(monthly: pl.DataFrame, max_partners: int = 60) -> go.Figure:
    """Partners (rows, most engaged this month first) x months, coloured by engagement score 0-100."""
    fig = figure(hovermode="closest", margin={"l": 260, "r": 100})
    if monthly.is_empty():
        return fig
    latest = monthly["month"].max()
    order = (
        monthly.filter(pl.col("month") == latest)
        .sort(["engagement_score", "partner_name"], descending=[True, False])
        .head(max_partners)["partner_id"]
        .to_list()
    )
    shown = monthly.filter(pl.col("partner_id").is_in(order))
    wide = shown.pivot(on="month", index=["partner_id", "partner_name"], values="engagement_score", sort_columns=True)
    wide = wide.join(pl.DataFrame({"partner_id": order, "rank": list(range(len(order)))}), on="partner_id").sort("rank")
    months = [column for column in wide.columns if column not in ("partner_id", "partner_name", "rank")]
    labels = [f"{shorten(name)} ({pid})" for pid, name in zip(wide["partner_id"], wide["partner_name"], strict=True)]
    fig.add_trace(
        go.Heatmap(
            z=wide.select(months).to_numpy(),
            x=[str(m)[:7] for m in months],
            y=labels,
            zmin=0,
            zmax=100,
            colorscale="Blues",
            colorbar={"title": "Score"},
            hovertemplate="%{y}<br>%{x}: %{z:.0f}<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    fig.update_layout(
        height=max(320, 18 * len(labels) + 120),
        yaxis={"autorange": "reversed", "title": None},
        xaxis={"title": "Month", "type": "category"},
    )
    return fig


# The two panels of cohort_curves, side by side: make_subplots' layout (less the template, which
# every figure starts from anyway), made once: making it per figure took 0.1 s, and adding traces
# by row and column a few ms each.
PANELS = {
    key: value
    for key, value in make_subplots(
        rows=1, cols=2, subplot_titles=("Activated: first won partner deal", "Survival: not yet dormant"), shared_xaxes=True
    )
    .layout.to_plotly_json()
    .items()
    if key != "template"
}


def cohort_curves(curves: pl.DataFrame, max_cohorts: int = 7) -> go.Figure:
    """Activation (left) and survival (right) by months since joining, one line per join quarter."""
    fig = go.Figure(layout=PANELS)
    # The legend goes under the plots: above them it would cover the two subplot titles.
    fig.update_layout(
        hovermode="closest",
        height=430,
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        margin={**MARGIN, "t": 60, "b": 130},
    )
    fixed_margins(fig)
    if curves.is_empty():
        return fig
    cohorts = curves.select("cohort", "cohort_start").unique().sort("cohort_start").tail(max_cohorts)["cohort"].to_list()
    ramp = COHORT_RAMP[-len(cohorts) :] if len(cohorts) <= len(COHORT_RAMP) else OKABE_ITO
    lines = curves.sort("months_since_joining").partition_by("curve", "cohort", as_dict=True)
    for panel, curve in enumerate(("activation", "survival"), start=1):
        axis = "" if panel == 1 else str(panel)
        for index, cohort in enumerate(cohorts):
            line = lines.get((curve, cohort), curves.clear())
            fig.add_trace(
                go.Scatter(
                    x=line["months_since_joining"].to_list(),
                    y=line["share"].to_list(),
                    mode="lines",
                    line={"shape": "hv", "color": ramp[index % len(ramp)], "width": 2},
                    name=f"{cohort} ({line['partners'][0] if line.height else 0})",
                    legendgroup=cohort,
                    showlegend=panel == 1,
                    customdata=line["at_risk"].to_list(),
                    hovertemplate=cohort + "<br>month %{x}: %{y:.0%}<br>%{customdata} still followed<extra></extra>",
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                )
            )
        fig.update_layout(
            {
                f"yaxis{axis}": {"tickformat": ".0%", "range": [0, 1.02]},
                f"xaxis{axis}": {"title": {"text": "Months since joining"}},
            }
        )
    return fig
