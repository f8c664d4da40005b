"""Mapping presets: how a vendor's export files and columns become the data contract's.

A preset is the same four maps a user can write in the settings TOML for a custom source
(`file_map`, `column_map`, `value_map`, `constants`); the settings' maps are applied on top
of the preset's, so a user can fix one column of a preset without writing a whole map.
This module owns the maps, finding each table's file (dated export names included) and
applying the maps to a text frame, with the source's column names kept for messages; it
does not validate. What a vendor's export needs beyond renaming lives beside it
(`salesforce.py` for a Data Export folder; HubSpot's pipelines here, `qualify_pipeline_stages`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from loaders.read import EXTENSIONS, Extract, RefusedFile
from loaders.schema import column_specs
from settings import Settings

# A table's hook between renaming and value maps: frame in, frame and warnings out.
Prepare = Callable[[pl.DataFrame], tuple[pl.DataFrame, list[str]]]


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
    # table -> a step run after renaming and before the value maps (HubSpot's pipelines)
    prepare: dict[str, Prepare] = field(default_factory=dict)


@dataclass
class Mapped:
    """An extract in canonical columns, with the source's names for them (for messages)."""

    frame: pl.DataFrame
    # canonical column -> the source's name for it (where present), else the names the map reads it from
    labels: dict[str, str]
    warnings: list[str]


def qualify_pipeline_stages(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """HubSpot stage labels are per pipeline: "Contract Signed" may be won in one pipeline and open
    in another. Where a label's deals disagree across pipelines on is_closed / is_won (HubSpot's
    own "Is Deal Closed?" / "Is Closed Won"), the stage becomes "Label (Pipeline)", so each keeps
    its own meaning in the stage map; labels that mean one thing everywhere stay as they are."""
    needed = {"stage", "Pipeline", "is_closed", "is_won"}
    if not needed <= set(frame.columns):
        return frame, []
    outcome = pl.concat_str(
        [pl.col("is_closed").str.to_lowercase().fill_null("?"), pl.col("is_won").str.to_lowercase().fill_null("?")], separator="/"
    )
    meanings = frame.filter(pl.col("stage").is_not_null()).group_by("stage").agg(
        outcome.n_unique().alias("_meanings"), pl.col("Pipeline").drop_nulls().n_unique().alias("_pipelines")
    )
    ambiguous = meanings.filter((pl.col("_meanings") > 1) & (pl.col("_pipelines") > 1))["stage"].sort().to_list()
    if not ambiguous:
        return frame, []
    qualified = pl.col("stage").is_in(ambiguous) & pl.col("Pipeline").is_not_null()
    frame = frame.with_columns(
        pl.when(qualified).then(pl.col("stage") + pl.lit(" (") + pl.col("Pipeline") + pl.lit(")")).otherwise(pl.col("stage"))
        .alias("stage")
    )
    return frame, [
        "stage labels that mean different things in different pipelines, kept apart as 'Label (Pipeline)': "
        + ", ".join(ambiguous)
    ]


SALESFORCE_FORECAST_CATEGORIES = {"BestCase": "best_case", "Forecast": "commit", "MostLikely": "commit", "Most Likely": "commit"}

PRESETS: dict[str, ColumnMap] = {
    # Salesforce data exports (Setup > Data Export, or Data Loader): Account (the partner
    # accounts among them: salesforce.py), Opportunity, OpportunityPartner (else Partner.csv's
    # opportunity rows), OpportunityHistory; CurrencyType / DatedConversionRate for FX.
    "salesforce": ColumnMap(
        files={
            "partners": ["Account", "PartnerAccount"],
            "opportunities": ["Opportunity"],
            "touchpoints": ["OpportunityPartner", "Partner"],
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
                "Probability": "probability",
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
        # The UI's download is named `hubspot-crm-exports-all-deals-2024-08-27.csv`: dated names match too.
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
                # HubSpot's own per-deal outcome: stages are per pipeline, these are not.
                "Is Deal Closed?": "is_closed",
                "Is Closed Won": "is_won",
                "Deal probability": "probability",
                "Deal Probability": "probability",
            }
        },
        prepare={"opportunities": qualify_pipeline_stages},
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
        prepare=dict(base.prepare),
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


def extract_files(directory: Path) -> list[Path]:
    """The files in `directory` that may hold an extract, by name (hidden and lock files aside)."""
    return sorted(
        path
        for path in directory.iterdir()
        if path.is_file() and path.suffix.lower() in EXTENSIONS and not path.name.startswith((".", "~$"))
    )


def find_named(paths: list[Path], name: str) -> Path | None:
    """The file called `name`: the exact name (with or without extension), else the newest of
    that name followed by a date, as vendors name downloads (`all-deals-2024-08-27.csv`,
    `all-deals-2024-08-27 (1).csv`)."""
    wanted = name.lower()
    for path in paths:
        if wanted in (path.name.lower(), path.stem.lower()):
            return path
    dated = re.compile(re.escape(wanted) + r"[-_ ](\d{4}-\d{2}-\d{2})\b.*")
    matches = [(match.group(1), path.name) for path in paths if (match := dated.fullmatch(path.stem.lower()))]
    if not matches:
        return None
    newest = max(matches)[1]
    return next(path for path in paths if path.name == newest)


def find_files(directory: Path, tables: list[str], column_map: ColumnMap) -> dict[str, Path]:
    """Which file holds each table: the mapped names first, then the table's own name."""
    paths = extract_files(directory)
    found = {}
    for table in tables:
        for name in [*column_map.files.get(table, []), table]:
            path = find_named(paths, name)
            if path is not None:
                found[table] = path
                break
    return found


def looked_for(column_map: ColumnMap, tables: list[str]) -> str:
    """The file names the build looks for, per table, in words (for the "found neither" refusal)."""
    parts = []
    for table in tables:
        names = list(dict.fromkeys([*column_map.files.get(table, []), table]))
        parts.append(f"{table}: {' or '.join(f'{name}.csv' for name in names)}")
    return "; ".join(parts)


def apply_map(table: str, extract: Extract, column_map: ColumnMap) -> Mapped:
    """Rename source columns to canonical ones, translate values, fill constants.

    A header name repeated in the file is refused when the map reads a column from it (which
    copy holds the data is ambiguous), and kept under suffixed names with a warning otherwise."""
    frame = extract.frame
    sources = column_map.columns.get(table, {})
    canonical = {spec.name for spec in column_specs(table)}
    warnings = []
    for name, copies in extract.repeated.items():
        if name in sources or name in canonical:
            positions = [extract.columns.index(n) + 1 for n in [name, *copies]]
            reads = sources.get(name, name)
            raise RefusedFile(
                f"{extract.source_file}: column '{name}' appears {len(positions)} times in the header row "
                f"(columns {', '.join(map(str, positions[:-1]))} and {positions[-1]}) and the {table} extract "
                f"reads {reads} from it: which one holds the data is ambiguous"
            )
    if extract.repeated:
        kept = "; ".join(f"'{name}' also as {', '.join(repr(c) for c in copies)}" for name, copies in extract.repeated.items())
        warnings.append(f"columns repeated in the header row, kept under numbered names: {kept}")
    renames = {src: dst for src, dst in sources.items() if src in frame.columns}
    # Two source columns may map to one canonical column (HubSpot's "Record ID" / "Deal ID"):
    # the first present wins, the others are kept under their own names.
    taken: set[str] = set()
    unique_renames = {}
    for src, dst in renames.items():
        if dst not in taken and (dst not in frame.columns or dst == src):
            unique_renames[src] = dst
            taken.add(dst)
    frame = frame.rename(unique_renames)
    labels = {}
    for name in canonical:
        present = [src for src, dst in unique_renames.items() if dst == name and src != name]
        expected = [src for src, dst in sources.items() if dst == name]
        if present:
            labels[name] = present[0]
        elif name not in frame.columns and expected:
            labels[name] = " or ".join(expected)
    if table in column_map.prepare:
        frame, prepared = column_map.prepare[table](frame)
        warnings += prepared
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
    return Mapped(frame, labels, warnings)
