"""Figures for the Attribution scenarios page: credit per quarter by scenario, who gains and
loses between two scenarios, and payouts beside each scenario's liability."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts import MODEL_COLORS, OKABE_ITO, Amounts, figure, shorten

GAIN = "#0072B2"
LOSS = "#D55E00"
STATUS_COLORS = {"paid": "#009E73", "approved": "#56B4E9", "accrued": "#E69F00", "clawed_back": "#999999"}


def scenario_color(model: str, position: int) -> str:
    return MODEL_COLORS.get(model, OKABE_ITO[position % len(OKABE_ITO)])


def credit_by_quarter(quarters: dict[str, pl.DataFrame], models: dict[str, str], currency: str = "USD") -> go.Figure:
    """Grouped bars: each scenario's credit per fiscal quarter of booking."""
    amounts = Amounts(currency)
    fig = figure("Credit by fiscal quarter of booking", yaxis_title=amounts.title("Credit"), barmode="group")
    for position, (label, frame) in enumerate(quarters.items()):
        fig.add_bar(
            x=frame["fiscal_quarter"].to_list(),
            y=frame["credit"].to_list(),
            name=label,
            marker_color=scenario_color(models.get(label, ""), position),
            hovertemplate="%{x}: " + amounts.number("y") + "<extra>" + label + "</extra>",  # -$950, not $-950
        )
    return fig


def credit_shift(delta: pl.DataFrame, label: str, top: int = 15, currency: str = "USD") -> go.Figure:
    """Horizontal bars of the largest credit changes (B - A): gains right, losses left."""
    amounts = Amounts(currency)
    shown = delta.head(top).reverse()
    change = shown["credit_change"].to_list()
    fig = figure(
        f"Largest credit changes, {label}",
        xaxis_title=amounts.title("Change in credit"),
        hovermode="closest",
        margin={"l": 220},
    )
    fig.add_bar(
        x=change,
        y=row_labels(shown),
        orientation="h",
        marker_color=[GAIN if value >= 0 else LOSS for value in change],
        hovertemplate="%{y}: " + amounts.number("x") + "<extra></extra>",
        showlegend=False,
    )
    fig.update_layout(height=max(300, 28 * shown.height + 80))
    return fig


def row_labels(frame: pl.DataFrame) -> list[str]:
    if "partner_name" in frame.columns:
        names = frame["partner_name"].to_list()
        short = [shorten(name) for name in names]
        # Cut names that would fall together would merge two partners' bars: then the names whole.
        return short if len(set(short)) == len(set(names)) else names
    if "tier" in frame.columns:
        return [f"{kind} · {tier}" for kind, tier in frame.select("partner_type", "tier").iter_rows()]
    return frame["fiscal_quarter"].to_list()


def quarter_shift(delta: pl.DataFrame, currency: str = "USD") -> go.Figure:
    """Bars per fiscal quarter: how credit and liability move between quarters (B - A)."""
    ordered = delta.sort("fiscal_quarter")
    amounts = Amounts(currency)
    fig = figure("Change by fiscal quarter (B - A)", yaxis_title=amounts.title("Change"), barmode="group")
    for column, name, color in (("credit_change", "Credit", GAIN), ("liability_change", "Payout liability", LOSS)):
        fig.add_bar(
            x=ordered["fiscal_quarter"].to_list(),
            y=ordered[column].to_list(),
            name=name,
            marker_color=color,
            hovertemplate="%{x}: " + amounts.number("y") + "<extra>" + name + "</extra>",
        )
    return fig


def payouts_vs_owed(frame: pl.DataFrame, currency: str = "USD") -> go.Figure:
    """Stacked payouts by status per quarter, with each scenario's liability as a line."""
    fig = figure("Payouts recorded vs owed under each scenario", yaxis_title=Amounts(currency).title("Amount"), barmode="stack")
    quarters = frame["fiscal_quarter"].to_list()
    for status, color in STATUS_COLORS.items():
        fig.add_bar(x=quarters, y=frame[status].to_list(), name=status.replace("_", " "), marker_color=color)
    for position, column in enumerate(c for c in frame.columns if c.startswith("owed: ")):
        fig.add_scatter(
            x=quarters,
            y=frame[column].to_list(),
            name=column,
            mode="lines+markers",
            line={"color": OKABE_ITO[(position + 4) % len(OKABE_ITO)], "width": 2},
        )
    return fig
