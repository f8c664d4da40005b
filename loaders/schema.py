"""The data contract: one pydantic model per extract, the single declaration of its columns.

Each model names the canonical columns, their types, which are required (no default) and
the allowed values (`Literal`). The loader never validates row by row with these models
(far too slow at millions of rows); it reads them once into `ColumnSpec`s and checks whole
columns with Polars. `KEYS` and `REFERENCES` are the cross-row rules.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field


@dataclass(frozen=True)
class Kind:
    """Marks a field whose values are read in a way of their own (see `validate.typed_column`)."""

    name: str


# A calendar month, stored as its first day. Read from `2025-12`, `2025-12-31` (any day),
# `Dec 2025` / `December 2025` and Excel dates.
Month = Annotated[date, AfterValidator(lambda day: day.replace(day=1)), Kind("month")]
# A share from 0 to 1. Read from `0.75`, `75%`, or `75` in a column whose values go above 1
# (a column in percent).
Share = Annotated[float, Field(ge=0, le=1), Kind("share")]

PartnerType = Literal["referral", "reseller", "integration", "services", "affiliate", "distributor"]


class Partner(BaseModel):
    partner_id: str
    partner_name: str
    partner_types: list[PartnerType]
    tier: str
    joined_at: date
    region: str | None = None
    country: str | None = None
    partner_manager: str | None = None
    status: Literal["active", "inactive", "terminated"] | None = None
    terminated_at: date | None = None


class PartnerActivity(BaseModel):
    partner_id: str
    activity_type: str
    occurred_at: datetime
    activity_id: str | None = None
    quantity: float | None = None
    detail: str | None = None


class Opportunity(BaseModel):
    opportunity_id: str
    amount: Decimal
    stage: str
    created_at: date
    close_date: date
    account_id: str | None = None
    account_name: str | None = None
    currency: str | None = None
    is_closed: bool | None = None
    is_won: bool | None = None
    owner: str | None = None
    forecast_category: Literal["pipeline", "best_case", "commit", "closed", "omitted"] | None = None
    source: str | None = None
    sourced_partner_id: str | None = None
    region: str | None = None
    segment: str | None = None
    product: str | None = None
    # The deal's own win probability in the CRM, a share 0..1 (read from 0.75, 75% or a column in
    # percent): used where the stage map gives the deal's stage no probability.
    probability: Share | None = None


class OpportunityHistory(BaseModel):
    opportunity_id: str
    stage: str
    changed_at: datetime
    amount: Decimal | None = None
    close_date: date | None = None
    forecast_category: Literal["pipeline", "best_case", "commit", "closed", "omitted"] | None = None


class Touchpoint(BaseModel):
    opportunity_id: str
    partner_id: str
    touch_type: Literal[
        "referral",
        "deal_registration",
        "co_selling",
        "technical_validation",
        "integration",
        "implementation",
        "marketing",
    ]
    occurred_at: datetime
    touchpoint_id: str | None = None


class DealRegistration(BaseModel):
    registration_id: str
    partner_id: str
    registered_at: datetime
    status: Literal["submitted", "approved", "rejected", "expired"]
    opportunity_id: str | None = None
    account_name: str | None = None
    claimed_role: Literal["sourced", "influenced"] | None = None
    decided_at: datetime | None = None


class Payout(BaseModel):
    payout_id: str
    partner_id: str
    amount: Decimal
    payout_type: Literal["commission", "referral_fee", "rebate", "mdf", "spiff", "bonus"]
    period: Month
    opportunity_id: str | None = None
    currency: str | None = None
    status: Literal["accrued", "approved", "paid", "clawed_back"] | None = None
    paid_at: date | None = None


# Load order matters: partners and opportunities first, so references can be checked.
TABLES: dict[str, type[BaseModel]] = {
    "partners": Partner,
    "opportunities": Opportunity,
    "partner_activities": PartnerActivity,
    "opportunity_history": OpportunityHistory,
    "touchpoints": Touchpoint,
    "deal_registrations": DealRegistration,
    "payouts": Payout,
}

# Unique keys: a later row with the same key is quarantined. Optional key columns
# (activity_id, touchpoint_id) are only checked where they are given.
KEYS: dict[str, str] = {
    "partners": "partner_id",
    "opportunities": "opportunity_id",
    "partner_activities": "activity_id",
    "touchpoints": "touchpoint_id",
    "deal_registrations": "registration_id",
    "payouts": "payout_id",
}

# (table, column) -> (referenced table, its key). Checked only when the referenced table is
# loaded. Registrations and payouts may name deals the CRM extract lacks: that is a
# disagreement to show, not a row to drop, so their opportunity_id is not checked.
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("partner_activities", "partner_id"): ("partners", "partner_id"),
    ("touchpoints", "partner_id"): ("partners", "partner_id"),
    ("touchpoints", "opportunity_id"): ("opportunities", "opportunity_id"),
    ("opportunity_history", "opportunity_id"): ("opportunities", "opportunity_id"),
    ("deal_registrations", "partner_id"): ("partners", "partner_id"),
    ("payouts", "partner_id"): ("partners", "partner_id"),
    ("opportunities", "sourced_partner_id"): ("partners", "partner_id"),
}

# Amounts that must not be negative (a clawback is a status, not a negative payout).
NON_NEGATIVE: dict[str, list[str]] = {
    "opportunities": ["amount"],
    "opportunity_history": ["amount"],
    "payouts": ["amount"],
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # str, date, datetime, month, decimal, float, share, bool, list
    required: bool
    allowed: tuple[str, ...] | None


def _kind_and_allowed(annotation: object) -> tuple[str, tuple[str, ...] | None]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        kind = next((m.name for m in getattr(annotation, "__metadata__", ()) if isinstance(m, Kind)), None)
        return (kind, None) if kind else _kind_and_allowed(args[0])
    if origin is typing.Union or (origin is not None and type(None) in typing.get_args(annotation)):
        return _kind_and_allowed(args[0])
    if origin is Literal:
        return "str", tuple(str(a) for a in typing.get_args(annotation))
    if origin is list:
        _, allowed = _kind_and_allowed(args[0])
        return "list", allowed
    kinds = {str: "str", date: "date", datetime: "datetime", Decimal: "decimal", float: "float", bool: "bool"}
    return kinds[annotation], None  # type: ignore[index]


def column_specs(table: str) -> list[ColumnSpec]:
    """The canonical columns of `table`, in contract order."""
    specs = []
    for name, field in TABLES[table].model_fields.items():
        # pydantic keeps a required field's Annotated marks in `metadata`, an optional one's in the annotation.
        marked = next((m.name for m in field.metadata if isinstance(m, Kind)), None)
        kind, allowed = (marked, None) if marked else _kind_and_allowed(field.annotation)
        specs.append(ColumnSpec(name, kind, field.is_required(), allowed))
    return specs


def required_columns(table: str) -> list[str]:
    return [spec.name for spec in column_specs(table) if spec.required]
