"""Figures and labels for the Disagreements page: each kind's label and definition, and how
much partner revenue the CRM, registrations and touchpoints agree on, quarter by quarter."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts import figure

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


def kind_help(model: str, terms: int, tolerance: str) -> dict[str, str]:
    """Each kind's one-sentence definition and what is at stake, with the plan's figures."""
    return {
        "crm_vs_registration": "Deals whose CRM sourced partner is not the partner of the earliest approved "
        "registration. At stake: the deal amount (0 once lost).",
        "registration_conflict": "Registrations of a deal or account that another partner's registration still "
        "held (not expired or rejected before). At stake: the deal amount (0 once lost).",
        "channel_conflict": "Approved registrations on deals the CRM records as direct, with no sourced partner. "
        "At stake: the deal amount x the registrant's commission rate.",
        "payout_without_credit": f"Commission payouts on a deal where the partner has no {model} credit "
        "(possible overpayment). At stake: the payout.",
        "credit_without_payout": f"{model.capitalize()} credit with no commission payout {terms} days after close "
        "(possible leakage). At stake: credit x commission rate.",
        "payout_amount_mismatch": f"Commission paid on a deal that differs from credit x rate by more than "
        f"{tolerance}. At stake: the difference.",
        "duplicate_payout": "A payout repeating an earlier one: same partner, deal, type and amount. At stake: the repeat.",
    }


AGREEMENT_COLORS = {"agreed": "#009E73", "partial": "#56B4E9", "conflicting": "#D55E00"}
AGREEMENT_LABELS = {
    "agreed": "All three agree",
    "partial": "One or two sources, no contradiction",
    "conflicting": "Sources contradict",
}


def trust_by_quarter(trust: pl.DataFrame) -> go.Figure:
    """Stacked bars per fiscal quarter: shares of partner revenue by how far its sources agree."""
    fig = figure(
        "Partner revenue by agreement of CRM, registrations and touchpoints",
        yaxis_title="Share of partner revenue",
        barmode="stack",
        yaxis_tickformat=".0%",
        margin={"t": 90},
    )
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
            hovertemplate="%{y:.0%} (%{customdata:$,.0f})<extra>" + label + "</extra>",
        )
    return fig
