"""Figures and labels for the Disagreements page: each kind's label, and how much partner
revenue the CRM, registrations and touchpoints agree on, quarter by quarter. Each kind's
definition is in `queries/glossary.py` (the cards' tooltips read it there)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts import Amounts, figure

# The kinds in the order the page shows them, with their labels for people.
KIND_LABELS = {
    "crm_vs_registration": "CRM vs registration",
    "registration_conflict": "Registration conflict",
    "channel_conflict": "Channel conflict",
    "payout_without_credit": "Payout without credit",
    "credit_without_payout": "Credit without payout",
    "payout_amount_mismatch": "Payout amount mismatch",
    "duplicate_payout": "Duplicate payout",
}


AGREEMENT_COLORS = {"agreed": "#009E73", "partial": "#56B4E9", "conflicting": "#D55E00"}
AGREEMENT_LABELS = {
    "agreed": "All three agree",
    "partial": "One or two sources, no contradiction",
    "conflicting": "Sources contradict",
}


def trust_by_quarter(trust: pl.DataFrame, currency: str = "USD") -> go.Figure:
    """Stacked bars per fiscal quarter: shares of partner revenue by how far its sources agree."""
    fig = figure(
        "Partner revenue by agreement of CRM, registrations and touchpoints",
        yaxis_title="Share of partner revenue",
        barmode="stack",
        yaxis_tickformat=".0%",
        margin={"t": 90},
    )
    amounts = Amounts(currency)
    quarters = trust["fiscal_quarter"].to_list()
    revenue = trust["partner_revenue"].cast(pl.Float64)
    for agreement, label in AGREEMENT_LABELS.items():
        amount = trust[f"{agreement}_revenue"].cast(pl.Float64)
        share = (amount / revenue).fill_nan(0.0).fill_null(0.0)
        fig.add_bar(
            x=quarters,
            y=share.to_list(),
            name=label,
            customdata=amount.to_list(),
            marker_color=AGREEMENT_COLORS[agreement],
            hovertemplate="%{y:.0%} (" + amounts.number("customdata") + ")<extra>" + label + "</extra>",
        )
    return fig
