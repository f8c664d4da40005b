"""Partner 360 figures: one zoomable timeline of everything a partner did, and its activity by month.

Pure builders: frames from the `partner_*` outputs in, `go.Figure` out.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts import OKABE_ITO, Amounts, figure

# Rows of the timeline, top to bottom; deals and money on their own rows so they stand out.
KIND_ORDER = ["Deal won", "Deal lost", "Payout", "Registration", "Touchpoint", "Activity"]
KIND_COLORS = {
    "Deal won": "#009E73",
    "Deal lost": "#D55E00",
    "Payout": "#E69F00",
    "Registration": "#CC79A7",
    "Touchpoint": "#0072B2",
    "Activity": "#56B4E9",
}


# Events of one kind in one marker's hover listed, at most this many (then "and N more").
DAY_EVENTS_SHOWN = 10
# Up to this many markers (kind x day) the timeline shows each day; past it, each week: a busy
# partner's 2,000 day markers are 2,000 SVG nodes, seconds of a new tab's drawing, and more
# dots than the chart's 1,000 pixels can tell apart. The deals and payouts tables hold the detail.
DAY_MARKERS_UP_TO = 1000


def event_text(
    event: str, when: object, opp: str | None, amount: float | None, detail: str | None, currency: str = "USD"
) -> str:
    amounts = Amounts(currency)
    return (
        f"{event}<br>{when:%Y-%m-%d}"
        + (f"<br>{opp}" if opp else "")
        + (f"<br>{amounts.prefix}{amount:,.0f}{amounts.suffix}" if amount is not None else "")
        + (f"<br>{detail}" if detail else "")
    )


def day_text(day: object, texts: list[str]) -> str:
    """A day's events of one kind in one hover: the event's own text when it is alone."""
    if len(texts) == 1:
        return texts[0]
    lines = [text.replace(f"<br>{day:%Y-%m-%d}", "", 1).replace("<br>", " · ") for text in texts[:DAY_EVENTS_SHOWN]]
    more = [f"and {len(texts) - DAY_EVENTS_SHOWN} more"] if len(texts) > DAY_EVENTS_SHOWN else []
    return "<br>".join([f"{day:%Y-%m-%d}: {len(texts)} events", *lines, *more])


def week_text(week: object, texts: list[str]) -> str:
    """A week's events of one kind in one hover, each with its day."""
    if len(texts) == 1:
        return texts[0]
    lines = [text.replace("<br>", " · ") for text in texts[:DAY_EVENTS_SHOWN]]
    more = [f"and {len(texts) - DAY_EVENTS_SHOWN} more"] if len(texts) > DAY_EVENTS_SHOWN else []
    return "<br>".join([f"Week of {week:%Y-%m-%d}: {len(texts)} events", *lines, *more])


def timeline(events: pl.DataFrame, currency: str = "USD") -> go.Figure:
    """Every event on one time axis, one row per kind (activities by type in the hover), zoomable.

    One marker per kind and day (per kind and week past DAY_MARKERS_UP_TO), its hover listing
    those events and its size their amount. No range slider: it drew every marker a second time
    (zoom and pan stay, on the chart itself)."""
    fig = figure("Everything this partner did", height=380, hovermode="closest", margin={"l": 100})
    if events.is_empty():
        return fig
    day = pl.col("occurred_at").dt.date()
    weekly = events.select(pl.col("kind"), day.alias("day")).n_unique() > DAY_MARKERS_UP_TO
    bucket = day.dt.truncate("1w") if weekly else day  # weeks start on Monday
    kinds = [k for k in KIND_ORDER if k in events["kind"].to_list()]
    for kind in kinds:
        rows = events.filter(pl.col("kind") == kind).sort("occurred_at", maintain_order=True)
        amounts = rows["amount"].cast(pl.Float64)
        texts = [
            event_text(*values, currency=currency)
            for values in zip(rows["event"], rows["occurred_at"], rows["opportunity_id"], amounts, rows["detail"], strict=True)
        ]
        days = (
            rows.select(bucket.alias("day"), amounts.alias("amount"), pl.Series("text", texts))
            .group_by("day", maintain_order=True)
            .agg(pl.col("amount").sum(), pl.col("amount").is_not_null().any().alias("has_amount"), pl.col("text"))
        )
        sizes = [8] * days.height
        if days["has_amount"].any():
            top = float(days["amount"].max() or 1) or 1.0
            sizes = [8 + 16 * (max(a or 0, 0) / top) ** 0.5 for a in days["amount"].to_list()]
        hover = week_text if weekly else day_text
        fig.add_trace(
            go.Scatter(
                x=days["day"].to_list(),
                y=[kind] * days.height,
                mode="markers",
                name=kind,
                marker={"color": KIND_COLORS[kind], "size": sizes, "opacity": 0.75, "line": {"width": 0}},
                hovertext=[hover(day, day_texts) for day, day_texts in zip(days["day"], days["text"], strict=True)],
                hoverinfo="text",
            )
        )
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(kinds)), fixedrange=True)
    fig.update_xaxes(type="date")
    if weekly:
        fig.update_layout(title="Everything this partner did, week by week")
    return fig


def activity_by_month(monthly: pl.DataFrame) -> go.Figure:
    """Activities per month, stacked by type."""
    # A dozen activity types take two or three legend rows: under the plot, where they cover nothing.
    fig = figure(
        "Activities per month",
        height=400,
        barmode="stack",
        legend={"orientation": "h", "x": 0, "y": -0.15, "yanchor": "top", "traceorder": "normal"},
        margin={"t": 50, "b": 120},
    )
    if monthly.is_empty():
        return fig
    types = (
        monthly.group_by("activity_type")
        .agg(pl.col("activities").sum())
        .sort(["activities", "activity_type"], descending=[True, False])
    )
    for i, activity_type in enumerate(types["activity_type"].to_list()):
        rows = monthly.filter(pl.col("activity_type") == activity_type)
        fig.add_trace(
            go.Bar(
                x=rows["month"].to_list(),
                y=rows["activities"].to_list(),
                name=activity_type.replace("_", " "),
                marker_color=OKABE_ITO[i % len(OKABE_ITO)],
                # Past the palette's nine colours, a hatch tells a repeated colour apart.
                marker_pattern_shape="/" if i >= len(OKABE_ITO) else "",
            )
        )
    fig.update_yaxes(title="Activities")
    return fig


def engagement_score(scores: pl.DataFrame) -> go.Figure:
    """The partner's engagement score (0-100) by month, when the engagement output provides it."""
    fig = figure("Engagement score (0-100)", height=260)
    if scores.is_empty():
        return fig
    fig.add_trace(
        go.Scatter(
            x=scores["month"].to_list(),
            y=scores["engagement_score"].to_list(),
            mode="lines+markers",
            name="Engagement score",
            line={"color": "#0072B2"},
        )
    )
    fig.update_yaxes(range=[0, 100])
    return fig
