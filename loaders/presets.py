"""Mapping presets: how a vendor's export files and columns become the data contract's.

A preset is the same four maps a user can write in the settings TOML for a custom source
(`file_map`, `column_map`, `value_map`, `constants`); the settings' maps are applied on top
of the preset's, so a user can fix one column of a preset without writing a whole map.
This module owns the maps and applying them to a text frame; it does not validate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from loaders.read import EXTENSIONS
from settings import Settings


@dataclass
class ColumnMap:
    # table -> file names (with or without extension) that hold it, first found wins
    files: dict[str, list[str]] = field(default_factory=dict)
    # table -> {source column: canonical column}
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    # table -> {canonical column: {source value: canonical value}}
    values: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    # table -> {canonical column: value used where the source has no such column or no value}
    constants: dict[str, dict[str, str]] = field(default_factory=dict)
    # table -> {canonical column: divisor}, for sources that give money in cents
    divide: dict[str, dict[str, int]] = field(default_factory=dict)


SALESFORCE_FORECAST_CATEGORIES = {"BestCase": "best_case", "Forecast": "commit", "MostLikely": "commit", "Most Likely": "commit"}

PRESETS: dict[str, ColumnMap] = {
    # Salesforce data exports (Data Loader / Data Export): Account (partner accounts),
    # Opportunity, OpportunityPartner, OpportunityHistory.
    "salesforce": ColumnMap(
        files={
            "partners": ["Account", "PartnerAccount"],
            "opportunities": ["Opportunity"],
            "touchpoints": ["OpportunityPartner"],
            "opportunity_history": ["OpportunityHistory"],
        },
        columns={
            "partners": {
                "Id": "partner_id",
                "Name": "partner_name",
                "Partner_Type__c": "partner_types",
                "Partner_Tier__c": "tier",
                "CreatedDate": "joined_at",
                "BillingCountry": "country",
                "Region__c": "region",
                "OwnerId": "partner_manager",
            },
            "opportunities": {
                "Id": "opportunity_id",
                "AccountId": "account_id",
                "Account.Name": "account_name",
                "Amount": "amount",
                "StageName": "stage",
                "CloseDate": "close_date",
                "CreatedDate": "created_at",
                "IsClosed": "is_closed",
                "IsWon": "is_won",
                "ForecastCategoryName": "forecast_category",
                "ForecastCategory": "forecast_category",
                "OwnerId": "owner",
                "LeadSource": "source",
                "CurrencyIsoCode": "currency",
                "PartnerAccountId": "sourced_partner_id",
                "Type": "segment",
            },
            "touchpoints": {
                "Id": "touchpoint_id",
                "OpportunityId": "opportunity_id",
                "AccountToId": "partner_id",
                "Role": "touch_type",
                "CreatedDate": "occurred_at",
            },
            "opportunity_history": {
                "OpportunityId": "opportunity_id",
                "StageName": "stage",
                "CreatedDate": "changed_at",
                "Amount": "amount",
                "CloseDate": "close_date",
                "ForecastCategory": "forecast_category",
            },
        },
        values={
            "partners": {"tier": {"Registered": "registered", "Silver": "silver", "Gold": "gold", "Platinum": "platinum"}},
            "touchpoints": {
                "touch_type": {
                    "Referral": "referral",
                    "Reseller": "co_selling",
                    "Consultant": "implementation",
                    "System Integrator": "implementation",
                    "Technology Partner": "integration",
                    "Influencer": "marketing",
                    "Deal Registration": "deal_registration",
                    # Salesforce's default partner roles.
                    "VAR/Reseller": "co_selling",
                    "Distributor": "co_selling",
                    "Dealer": "co_selling",
                    "Developer": "integration",
                    "Contractor": "implementation",
                    "Agency": "marketing",
                    "Advertiser": "marketing",
                }
            },
            # ForecastCategory holds API names ("BestCase"); ForecastCategoryName holds labels.
            "opportunities": {"forecast_category": SALESFORCE_FORECAST_CATEGORIES},
            "opportunity_history": {"forecast_category": SALESFORCE_FORECAST_CATEGORIES},
        },
        constants={"partners": {"partner_types": "reseller", "tier": "registered"}},
    ),
    # HubSpot CRM deal exports (the UI's "Export" of the Deals view).
    "hubspot": ColumnMap(
        files={"opportunities": ["deals", "hubspot-crm-exports-all-deals", "all-deals"]},
        columns={
            "opportunities": {
                "Record ID": "opportunity_id",
                "Deal ID": "opportunity_id",
                "Deal Name": "account_name",
                "Amount": "amount",
                "Deal Stage": "stage",
                "Close Date": "close_date",
                "Create Date": "created_at",
                "Deal owner": "owner",
                "Forecast category": "forecast_category",
                "Deal Type": "segment",
                "Original Source Type": "source",
                "Currency": "currency",
                "Sourced Partner ID": "sourced_partner_id",
            }
        },
        values={
            "opportunities": {
                "stage": {
                    "appointmentscheduled": "Qualification",
                    "Appointment Scheduled": "Qualification",
                    "qualifiedtobuy": "Needs Analysis",
                    "Qualified To Buy": "Needs Analysis",
                    "presentationscheduled": "Value Proposition",
                    "Presentation Scheduled": "Value Proposition",
                    "decisionmakerboughtin": "Id. Decision Makers",
                    "Decision Maker Bought-In": "Id. Decision Makers",
                    "contractsent": "Negotiation/Review",
                    "Contract Sent": "Negotiation/Review",
                    "closedwon": "Closed Won",
                    "Closed Won": "Closed Won",
                    "closedlost": "Closed Lost",
                    "Closed Lost": "Closed Lost",
                },
                "forecast_category": {"Not forecasted": "omitted", "Best case": "best_case", "Closed won": "closed"},
            }
        },
    ),
    # PartnerStack exports: partners, and rewards (amounts in cents).
    "partnerstack": ColumnMap(
        files={"partners": ["partners", "partnerships"], "payouts": ["rewards"]},
        columns={
            "partners": {
                "partner_key": "partner_id",
                "Partner key": "partner_id",
                "company": "partner_name",
                "Company": "partner_name",
                "name": "partner_name",
                "group": "tier",
                "Group": "tier",
                "created_at": "joined_at",
                "Created at": "joined_at",
                "country": "country",
                "Country": "country",
                "manager": "partner_manager",
            },
            "payouts": {
                "reward_key": "payout_id",
                "Reward key": "payout_id",
                "partner_key": "partner_id",
                "Partner key": "partner_id",
                "amount": "amount",
                "Amount": "amount",
                "currency": "currency",
                "created_at": "period",
                "Created at": "period",
                "status": "status",
                "Status": "status",
                "deal_key": "opportunity_id",
                "type": "payout_type",
            },
        },
        values={
            "partners": {"tier": {"Default": "registered", "default": "registered"}},
            "payouts": {"status": {"pending": "accrued", "hold": "accrued", "approved": "approved", "paid": "paid"}},
        },
        constants={"partners": {"partner_types": "referral"}, "payouts": {"payout_type": "referral_fee"}},
        divide={"payouts": {"amount": 100}},
    ),
}


def column_map_for(preset: str | None, settings: Settings) -> ColumnMap:
    """The preset's maps with the settings' custom maps laid over them."""
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r} (known: {', '.join(sorted(PRESETS))})")
    base = PRESETS.get(preset or "", ColumnMap())
    merged = ColumnMap(
        files={t: list(v) for t, v in base.files.items()},
        columns={t: dict(v) for t, v in base.columns.items()},
        values={t: {c: dict(m) for c, m in v.items()} for t, v in base.values.items()},
        constants={t: dict(v) for t, v in base.constants.items()},
        divide={t: dict(v) for t, v in base.divide.items()},
    )
    for table, file_name in settings.file_map.items():
        merged.files[table] = [file_name]
    for table, columns in settings.column_map.items():
        merged.columns.setdefault(table, {}).update(columns)
    for table, by_column in settings.value_map.items():
        for column, values in by_column.items():
            merged.values.setdefault(table, {}).setdefault(column, {}).update(values)
    for table, constants in settings.constants.items():
        merged.constants.setdefault(table, {}).update(constants)
    return merged


def find_files(directory: Path, tables: list[str], column_map: ColumnMap) -> dict[str, Path]:
    """Which file holds each table: the mapped names first, then the table's own name."""
    by_name: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix.lower() in EXTENSIONS:
            by_name.setdefault(path.name.lower(), path)
            by_name.setdefault(path.stem.lower(), path)
    found = {}
    for table in tables:
        for name in [*column_map.files.get(table, []), table]:
            path = by_name.get(name.lower())
            if path is not None:
                found[table] = path
                break
    return found


def apply_map(table: str, frame: pl.DataFrame, column_map: ColumnMap) -> pl.DataFrame:
    """Rename source columns to canonical ones, translate values, fill constants."""
    renames = {src: dst for src, dst in column_map.columns.get(table, {}).items() if src in frame.columns}
    # Two source columns may map to one canonical column (HubSpot's "Record ID" / "Deal ID"):
    # the first present wins, the others are kept under their own names.
    taken: set[str] = set()
    unique_renames = {}
    for src, dst in renames.items():
        if dst not in taken and (dst not in frame.columns or dst == src):
            unique_renames[src] = dst
            taken.add(dst)
    frame = frame.rename(unique_renames)
    for column, values in column_map.values.get(table, {}).items():
        if column in frame.columns:
            frame = frame.with_columns(pl.col(column).replace(values))
    for column, divisor in column_map.divide.get(table, {}).items():
        if column in frame.columns:
            frame = frame.with_columns(
                (pl.col(column).cast(pl.Float64, strict=False) / divisor).cast(pl.String).fill_null(pl.col(column))
            )
    for column, value in column_map.constants.get(table, {}).items():
        if column in frame.columns:
            frame = frame.with_columns(pl.col(column).fill_null(value))
        else:
            frame = frame.with_columns(pl.lit(value).alias(column))
    return frame
