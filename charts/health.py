"""Program health figures: a KPI's trend by fiscal quarter (partner vs direct where it has both)
and the tier check's picture (partners by held vs qualified tier); and the words of a card:
its value, its change and the dates it compares.

Pure builders: frames from `queries.program.kpis` / `tier_check.sql` in, `go.Figure` or text out.
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl

from charts import NEUTRAL, SERIES_COLORS, Amounts, figure
from queries.formatting import money

TICK_FORMATS = {"share": ".0%", "money": ",.3s", "days": ",.0f", "count": ",.0f", "ratio": ",.1f"}


def kpi_trend(trend: pl.DataFrame, kpi: str, currency: str = "USD") -> go.Figure:
    """One KPI by fiscal quarter: the program line, plus partner and direct lines where the KPI splits.

    A quarter in progress is counted to date and labelled so ("FY2026 Q4 to 11-20"); when the
    frame has each quarter's first days as many as have passed of it (same_days_value), they are
    a dotted line, so the quarter in progress is read against the same days of the others."""
    rows = trend.filter(pl.col("kpi") == kpi).sort("quarter_start")
    label = rows["label"][0] if rows.height else kpi
    unit = rows["unit"][0] if rows.height else "count"
    fig = figure(f"{label} by fiscal quarter", height=320)
    if rows.is_empty():
        return fig
    quarters = [
        f"{quarter} to {end:%m-%d}" if in_progress else quarter
        for quarter, end, in_progress in rows.select("fiscal_quarter", "quarter_end", "in_progress").iter_rows()
    ]
    has_split = rows["partner_value"].is_not_null().any() or rows["direct_value"].is_not_null().any()
    series = [("All deals" if has_split else label, "value", NEUTRAL)]
    if has_split:
        series += [
            ("Partner-involved", "partner_value", SERIES_COLORS["partner"]),
            ("Direct", "direct_value", SERIES_COLORS["direct"]),
        ]
    for name, column, color in series:
        fig.add_trace(
            go.Scatter(
                x=quarters,
                y=rows[column].to_list(),
                name=name,
                mode="lines+markers",
                line={"color": color, "width": 2 if column == "value" else 3},
                connectgaps=False,
            )
        )
    in_progress = rows.filter(pl.col("in_progress"))
    if in_progress.height and rows["same_days_value"].is_not_null().any():
        days = (in_progress["quarter_end"][0] - in_progress["quarter_start"][0]).days + 1
        fig.add_trace(
            go.Scatter(
                x=quarters,
                y=rows["same_days_value"].to_list(),
                name=f"{'All deals' if has_split else label}, first {days} days of each quarter",
                mode="lines+markers",
                line={"color": NEUTRAL, "width": 2, "dash": "dot"},
                marker={"symbol": "circle-open"},
                connectgaps=False,
            )
        )
    ticks = {"tickformat": TICK_FORMATS.get(unit, ",.2f")}
    if unit == "money":  # $1.23M for dollars, 1.23M EUR for EUR
        amounts = Amounts(currency)
        ticks = {"tickformat": amounts.d3(ticks["tickformat"]), **({"ticksuffix": amounts.suffix} if amounts.suffix else {})}
    fig.update_yaxes(**ticks, rangemode="tozero")
    fig.update_xaxes(type="category")
    return fig


def tier_standing(check: pl.DataFrame, tier_order: list[str]) -> go.Figure:
    """Partners per held tier, split by whether they qualify higher, as held, or lower."""
    fig = figure("Held tier vs what the rules say", height=320, barmode="stack")
    colors = {"higher": "#009E73", "as held": "#999999", "lower": "#D55E00", "not judged": "#56B4E9", "unknown tier": "#F0E442"}
    if check.is_empty():
        return fig
    counts = check.group_by("held_tier", "standing").len()
    tiers = [t for t in tier_order if t in counts["held_tier"].to_list()]
    tiers += sorted(set(counts["held_tier"].to_list()) - set(tiers))
    for standing, color in colors.items():
        part = counts.filter(pl.col("standing") == standing)
        lookup = dict(zip(part["held_tier"], part["len"], strict=True))
        fig.add_trace(
            go.Bar(
                x=tiers,
                y=[lookup.get(t, 0) for t in tiers],
                name=f"qualifies {standing}" if standing in ("higher", "lower") else standing,
                marker_color=color,
            )
        )
    fig.update_yaxes(title="Partners")
    fig.update_xaxes(title="Held tier")
    return fig


def format_value(value: float | None, unit: str, currency: str = "USD") -> str:
    """A KPI value as a card shows it: 42%, $1.2M (1.2M EUR), 37 days, 1,204, 8.4x."""
    if value is None:
        return "n/a"
    if unit == "share":
        return f"{value:.0%}" if abs(value) >= 0.1 else f"{value:.1%}"
    if unit == "money":
        return money(value, currency)
    if unit == "days":
        return f"{value:,.0f} days"
    if unit == "ratio":
        return f"{value:,.1f}x"
    return f"{value:,.0f}"


def format_change(value: float | None, previous: float | None, unit: str, currency: str = "USD") -> str | None:
    """The change against the previous period (percentage points for shares), or None; a change
    that shows as zero at the card's precision is written without a sign."""
    if value is None or previous is None:
        return None
    change = value - previous
    if no_change(value, previous, unit):
        return {"share": "0.0 pts", "money": money(0, currency), "days": "0 days", "ratio": "0.0x"}.get(unit, "0")
    if unit == "share":
        return f"{change * 100:+.1f} pts"
    if unit == "money":
        return ("+" if change >= 0 else "-") + format_value(abs(change), unit, currency)
    if unit == "days":
        return f"{change:+,.0f} days"
    if unit == "ratio":
        return f"{change:+,.1f}x"
    return f"{change:+,.0f}"


def no_change(value: float | None, previous: float | None, unit: str) -> bool:
    """Whether the change rounds to zero at the precision the card shows (0.1 pt, $1, 1 day, 0.1x, 1)."""
    if value is None or previous is None:
        return False
    change = abs(value - previous)
    if unit == "share":
        return round(change * 100, 1) == 0
    if unit == "ratio":
        return round(change, 1) == 0
    return round(change) == 0


def change_color(value: float | None, previous: float | None, unit: str, higher_is_better: bool) -> str:
    """A card's delta colour: green for better, red for worse, grey (neutral) for no change."""
    if no_change(value, previous, unit):
        return "off"
    return "normal" if higher_is_better else "inverse"


def comparison_caption(start: date, end: date, previous_start: date, previous_end: date, in_progress: bool, compare: str) -> str:
    """Which dates the cards compare, in words: a period in progress says it is counted to date and
    whether it meets the same days of the previous period or the whole of it."""
    days = (end - start).days + 1
    counted = f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
    before = f"{previous_start:%Y-%m-%d} to {previous_end:%Y-%m-%d}"
    if not in_progress:
        return f"{counted}, compared with {before}."
    so_far = f"{counted}, the first {days} days of a period not over yet"
    if compare == "full_period":
        return f"{so_far}, compared with the whole previous period, {before}."
    return f"{so_far}, compared with the same days of the previous period, {before}."
