"""The Program health KPIs, defined once: label, unit, section and the one-sentence definition.

This module owns the words (DESIGN.md, "Program health: KPI definitions"): the cards' help
tooltips, the export's `label`/`unit`/`definition` columns and, later, the Glossary read
them from here. The numbers themselves are computed in `kpis_by_period.sql`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kpi:
    label: str
    unit: str  # count, share (0-1), money, days, ratio
    section: str
    definition: str
    has_split: bool = False  # partner vs direct values
    higher_is_better: bool = True


SECTIONS = ["Partners", "Revenue", "Deals", "Economics", "Registrations", "Tier mix"]

KPIS: dict[str, Kpi] = {
    "active_partners": Kpi(
        "Active partners",
        "count",
        "Partners",
        "Partners not terminated with at least one activity other than a portal login, or a deal touchpoint, "
        "in the 90 days up to the period end.",
    ),
    "active_partner_rate": Kpi(
        "Active share",
        "share",
        "Partners",
        "Active partners over all partners not terminated at the period end.",
    ),
    "activation_rate": Kpi(
        "Activation",
        "share",
        "Partners",
        "Of partners who joined in the 12 months up to the period end, the share with a partner-involved "
        "won deal within 180 days of joining.",
    ),
    "median_days_to_first_win": Kpi(
        "Days to first win",
        "days",
        "Partners",
        "Median days from joining to the first partner-involved won deal, for partners who joined in the "
        "12 months up to the period end and have won one.",
        higher_is_better=False,
    ),
    "sourced_pipeline": Kpi(
        "Partner-sourced pipeline",
        "money",
        "Revenue",
        "Amount of opportunities created in the period whose sourced partner is set (CRM field, or else an "
        "approved registration claimed as sourced).",
    ),
    "sourced_revenue": Kpi(
        "Partner-sourced revenue",
        "money",
        "Revenue",
        "Amount of opportunities won in the period whose sourced partner is set (CRM field, or else an "
        "approved registration claimed as sourced).",
    ),
    "influenced_revenue": Kpi(
        "Partner-influenced revenue",
        "money",
        "Revenue",
        "Amount won in the period on deals a partner was involved in (touchpoint on or before close, or "
        "approved registration) but did not source.",
    ),
    "partner_revenue_share": Kpi(
        "Partner share of revenue",
        "share",
        "Revenue",
        "Partner-sourced plus partner-influenced revenue over all revenue won in the period.",
    ),
    "win_rate": Kpi(
        "Win rate",
        "share",
        "Deals",
        "Won over won plus lost, for opportunities closed in the period; partner-involved vs direct.",
        has_split=True,
    ),
    "avg_deal_size": Kpi(
        "Deal size",
        "money",
        "Deals",
        "Mean amount of the deals won in the period; partner-involved vs direct.",
        has_split=True,
    ),
    "median_cycle_days": Kpi(
        "Cycle length",
        "days",
        "Deals",
        "Median days from creation to close of the deals won in the period; partner-involved vs direct.",
        has_split=True,
        higher_is_better=False,
    ),
    "cost_of_channel": Kpi(
        "Cost of channel",
        "share",
        "Economics",
        "Payouts for the period (accrued, approved or paid; clawbacks excluded) over the partner-attributed "
        "revenue of the period under the selected attribution model.",
        higher_is_better=False,
    ),
    "partner_roi": Kpi(
        "Partner ROI",
        "ratio",
        "Economics",
        "Partner-attributed revenue of the period under the selected attribution model over the payouts for the period.",
    ),
    "registration_approval_rate": Kpi(
        "Registration approval",
        "share",
        "Registrations",
        "Of the deal registrations submitted in the period that were decided or expired, the share approved.",
    ),
    "registration_days_to_decision": Kpi(
        "Days to decision",
        "days",
        "Registrations",
        "Median whole days from submission to decision of the registrations submitted in the period.",
        higher_is_better=False,
    ),
    "registration_conflict_rate": Kpi(
        "Registration conflicts",
        "share",
        "Registrations",
        "Share of the registrations submitted in the period whose opportunity or account was registered by two or more partners.",
        higher_is_better=False,
    ),
}

TIER_MIX_PREFIX = "tier_"


def definition(kpi: str) -> Kpi:
    """The definition of a KPI; the tier mix rows (`tier_gold`, ...) share one."""
    if kpi in KPIS:
        return KPIS[kpi]
    if kpi.startswith(TIER_MIX_PREFIX):
        tier = kpi.removeprefix(TIER_MIX_PREFIX)
        return Kpi(
            f"{tier.capitalize()} partners",
            "count",
            "Tier mix",
            f"Partners in tier {tier} at the period end (joined by then and not terminated); tiers as held today, "
            "since the extracts keep no tier history.",
        )
    raise KeyError(kpi)


# KPIs that reveal payout amounts: shown to finance, executives and admins only.
PAYOUT_KPIS = ("cost_of_channel", "partner_roi")
