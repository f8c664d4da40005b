"""The Program health KPIs: label, unit, section, and which glossary term defines each.

This module owns how the KPI cards are laid out (label, unit, section, direction); the words
that define a KPI live in `glossary.py` only (docs/design.md, "KPI definitions"),
and `Kpi.definition` reads them from there, so the cards' help tooltips, the export's
`definition` column and the Glossary page say the same. The numbers themselves are computed
in `kpis_by_period.sql`.
"""

from __future__ import annotations

from dataclasses import dataclass

from queries import glossary


@dataclass(frozen=True)
class Kpi:
    label: str
    unit: str  # count, share (0-1), money, days, ratio
    section: str
    term: str  # the glossary key that defines it (docs/design.md groups some KPIs under one term)
    has_split: bool = False  # partner vs direct values
    higher_is_better: bool = True

    @property
    def definition(self) -> str:
        return glossary.tooltip(self.term)


SECTIONS = ["Partners", "Revenue", "Deals", "Economics", "Registrations", "Tier mix"]

KPIS: dict[str, Kpi] = {
    "active_partners": Kpi("Active partners", "count", "Partners", "active_partners"),
    "active_partner_rate": Kpi("Active share", "share", "Partners", "active_partners"),
    "activation_rate": Kpi("Activation", "share", "Partners", "activation_rate"),
    "median_days_to_first_win": Kpi("Days to first win", "days", "Partners", "activation_rate", higher_is_better=False),
    "sourced_pipeline": Kpi("Partner-sourced pipeline", "money", "Revenue", "sourced_pipeline_revenue"),
    "sourced_revenue": Kpi("Partner-sourced revenue", "money", "Revenue", "sourced_pipeline_revenue"),
    "influenced_revenue": Kpi("Partner-influenced revenue", "money", "Revenue", "influenced_revenue"),
    "partner_revenue_share": Kpi("Partner share of revenue", "share", "Revenue", "partner_revenue_share"),
    "win_rate": Kpi("Win rate", "share", "Deals", "win_rate", has_split=True),
    "avg_deal_size": Kpi("Deal size", "money", "Deals", "deal_size_cycle", has_split=True),
    "median_cycle_days": Kpi("Cycle length", "days", "Deals", "deal_size_cycle", has_split=True, higher_is_better=False),
    "cost_of_channel": Kpi("Cost of channel", "share", "Economics", "cost_of_channel", higher_is_better=False),
    "partner_roi": Kpi("Partner ROI", "ratio", "Economics", "partner_roi"),
    "registration_approval_rate": Kpi("Registration approval", "share", "Registrations", "registration_health"),
    "registration_days_to_decision": Kpi(
        "Days to decision", "days", "Registrations", "registration_health", higher_is_better=False
    ),
    "registration_conflict_rate": Kpi(
        "Registration conflicts", "share", "Registrations", "registration_health", higher_is_better=False
    ),
}

TIER_MIX_PREFIX = "tier_"


def definition(kpi: str) -> Kpi:
    """The definition of a KPI; the tier mix rows (`tier_gold`, ...) share one."""
    if kpi in KPIS:
        return KPIS[kpi]
    if kpi.startswith(TIER_MIX_PREFIX):
        tier = kpi.removeprefix(TIER_MIX_PREFIX)
        return Kpi(f"{tier.capitalize()} partners", "count", "Tier mix", "tier_mix")
    raise KeyError(kpi)


# KPIs that reveal payout amounts: shown to finance, executives and admins only.
PAYOUT_KPIS = ("cost_of_channel", "partner_roi")
