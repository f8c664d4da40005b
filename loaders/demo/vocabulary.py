"""The values the demo writes, each list's index being the code the generator's arrays carry.

Where the data contract (loaders/schema.py) allows a set of values, the list is the contract's
own, read from it: partner types and statuses, forecast categories, touch types, registration
statuses and claimed roles, payout types and statuses. The contract leaves tiers, regions,
stages, sources, segments, products and activity types to each program (free text, or named in
its settings); those below are the demo program's own choices, not a copy of an allowed set.
A table module that weights values names them (`shares`), so a weight cannot slide onto the
wrong value when a list changes.
"""

from __future__ import annotations

from loaders.demo.program import TIER_RATES
from loaders.schema import column_specs


def allowed(table: str, column: str) -> list[str]:
    """The values the data contract allows in table.column, in the contract's order."""
    spec = next(spec for spec in column_specs(table) if spec.name == column)
    if spec.allowed is None:
        raise ValueError(f"the data contract allows any value in {table}.{column}")
    return list(spec.allowed)


def shares(vocab: list[str], by_name: dict[str, float]) -> list[float]:
    """Weights in vocab's order from weights by name (0 for a value not named)."""
    unknown = set(by_name) - set(vocab)
    if unknown:
        raise ValueError(f"{sorted(unknown)} are not among {vocab}")
    return [by_name.get(value, 0.0) for value in vocab]


# --- From the data contract ----------------------------------------------------------------
PARTNER_TYPES = allowed("partners", "partner_types")
REFERRAL, RESELLER, INTEGRATION, DISTRIBUTOR = (
    PARTNER_TYPES.index(t) for t in ("referral", "reseller", "integration", "distributor")
)
PARTNER_STATUSES = allowed("partners", "status")
FORECAST_CATEGORIES = allowed("opportunities", "forecast_category")
TOUCH_TYPES = allowed("touchpoints", "touch_type")
REGISTRATION_STATUSES = allowed("deal_registrations", "status")
CLAIMED_ROLES = allowed("deal_registrations", "claimed_role")
PAYOUT_TYPES = allowed("payouts", "payout_type")
PAYOUT_STATUSES = allowed("payouts", "status")

# --- The demo program's own ----------------------------------------------------------------
TIERS = list(TIER_RATES)  # the plan's tier ladder, lowest first
REGIONS = ["NA", "EMEA", "APAC", "LATAM"]
REGION_SHARES = [0.45, 0.30, 0.15, 0.10]  # of partners, customer accounts and sales reps
# Salesforce's standard opportunity stages, open ones in funnel order (the app's default stage map).
STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]
WON_STAGE, LOST_STAGE = STAGES.index("Closed Won"), STAGES.index("Closed Lost")
SEGMENTS = ["SMB", "Mid-Market", "Enterprise"]
PRODUCTS = ["Core Platform", "Analytics Add-on", "Integration Hub", "Security Suite", "Enterprise Bundle"]
SOURCES = ["partner", "direct", "marketing", "inbound", "outbound", "event"]
# The activity types the data contract names (docs/design.md, "Data contract": "Types include ...").
ACTIVITY_TYPES = [
    "portal_login",
    "training_completed",
    "certification_earned",
    "certification_expired",
    "deal_registered",
    "co_marketing",
    "co_selling_call",
    "business_review",
    "support_ticket",
    "content_download",
    "integration_release",
]
