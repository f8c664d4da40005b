"""Figures of the partner health score and the win model: frames in, `go.Figure` out, no st.* calls.

The numbers come from `queries.health.health_score` (partner_health, partner_health_history) and
`queries.health.win_model` (win_model_calibration); this module only draws them.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts import NEUTRAL, OKABE_ITO, figure

COMPONENT_LABELS = {
    "revenue": "Revenue (12 mo)",
    "pipeline": "Open pipeline",
    "engagement": "Engagement",
    "enablement": "Enablement",
    "relationship": "Relationship",
}
TIER_COLORS = {"registered": "#999999", "silver": "#56B4E9", "gold": "#E69F00", "platinum": "#0072B2"}


SCORE_BIN = 5  # points per bar of the score histogram


def score_histogram(health: pl.DataFrame) -> go.Figure:
    """How health scores spread over partners, stacked by tier (bins of 5 points, 100 in the last).

    Counted here, not by Plotly in the browser: the figure carries at most 20 bars per tier
    whatever the number of partners (50,000 scores at demo scale 100 were sent one by one)."""
    fig = figure(xaxis_title="Health score (0-100)", yaxis_title="Partners", barmode="stack", hovermode="closest")
    if health.is_empty():
        return fig
    last = 100 // SCORE_BIN - 1
    binned = (
        health.filter(pl.col("health_score").is_not_null())
        .with_columns((pl.col("health_score") // SCORE_BIN).clip(0, last).cast(pl.Int32).alias("bin"))
        .group_by("tier", "bin")
        .len()
        .sort("bin")
    )
    tiers = binned["tier"].unique().to_list()
    order = [t for t in TIER_COLORS if t in tiers] + sorted(t for t in tiers if t not in TIER_COLORS and t is not None)
    for i, tier in enumerate(order):
        bins = binned.filter(pl.col("tier") == tier)
        starts = [b * SCORE_BIN for b in bins["bin"].to_list()]
        fig.add_trace(
            go.Bar(
                x=[start + SCORE_BIN / 2 for start in starts],
                y=bins["len"].to_list(),
                width=SCORE_BIN,
                name=str(tier).capitalize(),
                marker_color=TIER_COLORS.get(tier, OKABE_ITO[i % len(OKABE_ITO)]),
                customdata=[f"{start}-{start + SCORE_BIN}" for start in starts],
                hovertemplate="%{customdata}: %{y} partners<extra>" + str(tier) + "</extra>",
            )
        )
    fig.update_layout(bargap=0)
    fig.update_xaxes(range=[0, 100])
    return fig


def component_bars(row: dict) -> go.Figure:
    """One partner's five components (0-100) with their weights, and its segment's prior as a marker."""
    names = list(COMPONENT_LABELS)
    labels = [f"{COMPONENT_LABELS[c]} · weight {row[f'{c}_weight']:.0f}%" for c in names]
    fig = figure(
        xaxis_title="Component (0-100, percentile rank)", hovermode="closest", height=300, margin={"l": 190}
    )
    fig.add_trace(
        go.Bar(
            y=labels,
            x=[row[f"{c}_component"] for c in names],
            orientation="h",
            name="Component",
            marker_color=OKABE_ITO[0],
            hovertemplate="%{y}: %{x:.1f}<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 100])
    fig.update_yaxes(autorange="reversed")
    return fig


def score_history(history: pl.DataFrame) -> go.Figure:
    """A partner's health score and components at each quarter start (and the day), as lines."""
    # Six lines' legend takes three rows above the plot in a half-width column.
    fig = figure(yaxis_title="0-100", hovermode="x unified", margin={"t": 100})
    if history.is_empty():
        return fig
    x = history["scored_on"].to_list()
    fig.add_trace(
        go.Scatter(x=x, y=history["health_score"].to_list(), name="Health score", line={"width": 4, "color": NEUTRAL})
    )
    for i, (component, label) in enumerate(COMPONENT_LABELS.items()):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=history[f"{component}_component"].to_list(),
                name=label,
                line={"width": 1.5, "dash": "dot", "color": OKABE_ITO[i % len(OKABE_ITO)]},
            )
        )
    fig.update_yaxes(range=[0, 100])
    return fig


def calibration(calibrated: pl.DataFrame) -> go.Figure:
    """Predicted vs actual share winning a deal next quarter: model deciles, baseline groups, and the diagonal."""
    fig = figure(
        xaxis_title="Predicted P(won deal next quarter)",
        yaxis_title="Actual share that won",
        hovermode="closest",
    )
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Perfect calibration", line={"dash": "dash", "color": "#999999"})
    )
    for predictor, name, color in (
        ("model", "Model (deciles)", OKABE_ITO[0]),
        ("baseline", "Baseline: won last quarter", OKABE_ITO[1]),
    ):
        part = calibrated.filter(pl.col("predictor") == predictor)
        if part.is_empty():
            continue
        fig.add_trace(
            go.Scatter(
                x=part["mean_predicted"].to_list(),
                y=part["actual_rate"].to_list(),
                mode="lines+markers" if predictor == "model" else "markers",
                marker={"size": 10, "color": color},
                name=name,
                text=part["label"].to_list(),
                customdata=part["partners"].to_list(),
                hovertemplate="%{text}: predicted %{x:.0%}, actual %{y:.0%} (%{customdata} partner-quarters)<extra></extra>",
            )
        )
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig
