"""A Salesforce Data Export folder (Setup > Data Export), read as a whole.

A Data Export writes one CSV per object (ISO-8859-1 unless told otherwise, `0`/`1`
booleans, `000000000000000AAA` for an empty lookup). Renaming its columns is the
`salesforce` preset's (presets.py); this module owns what takes more than one file:
- which accounts are partners: Account.csv holds every customer too;
- which file holds the deals' partners: OpportunityPartner.csv, else Partner.csv's rows on a
  deal (Partner.csv's rows between two accounts only tell partners apart);
- owners as names (User.csv) and deals' account names (Account.csv);
- the org's FX rates (CurrencyType.csv, DatedConversionRate.csv), turned the data contract's
  way round: Salesforce gives units of a currency per one unit of the corporate currency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from loaders.presets import find_named
from loaders.read import Extract, RefusedFile
from settings import FxRate, Settings

# Salesforce's id of an empty lookup (18 and 15 characters): no value.
EMPTY_IDS = ["000000000000000AAA", "000000000000000"]
TRUE_WORDS = ["1", "true"]
EARLIEST = date(1900, 1, 1)


@dataclass
class Prepared:
    """The partners, opportunities and touchpoints extracts (Salesforce's column names), the
    warnings they bring per table, and the org's FX rates in the data contract's direction."""

    extracts: dict[str, Extract] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    fx_rates: list[FxRate] = field(default_factory=list)


def prepare(
    files: dict[str, Path],
    paths: list[Path],
    settings: Settings,
    read: Callable[[Path], Extract],
    partner_roles: dict[str, str],
) -> Prepared:
    """Read the Data Export files that need one another. `files`: each table's file as found;
    `paths`: every extract file of the folder; `partner_roles`: the roles that make an account a
    partner of another account (the touch-type map of the preset and the settings)."""
    prepared = Prepared()

    def read_named(name: str) -> Extract | None:
        path = find_named(paths, name)
        return without_empty_ids(read(path)) if path is not None else None

    accounts = without_empty_ids(read(files["partners"])) if "partners" in files else None
    deals = without_empty_ids(read(files["opportunities"])) if "opportunities" in files else None
    touches = without_empty_ids(read(files["touchpoints"])) if "touchpoints" in files else None
    partner_file = read_named("Partner")
    users = read_named("User")

    if users is not None and {"Id", "Name"} <= set(users.columns):
        names = dict(users.frame.select("Id", "Name").drop_nulls().unique("Id").iter_rows())
        for extract in (accounts, deals):
            if extract is not None and "OwnerId" in extract.columns:
                extract.frame = extract.frame.with_columns(
                    pl.col("OwnerId").replace_strict(names, default=pl.col("OwnerId"), return_dtype=pl.String)
                )
    if deals is not None:
        deals = with_partner_field(deals, settings.salesforce.partner_field)
        if accounts is not None:
            deals = with_account_names(deals, accounts)
    if touches is not None:
        touches, notes = deal_partners(touches, deals)
        prepared.warnings["touchpoints"] = notes
    if accounts is not None:
        accounts, notes = partner_accounts(accounts, deals, touches, partner_file, settings, partner_roles)
        prepared.warnings["partners"] = notes
    prepared.extracts = {
        table: extract
        for table, extract in (("partners", accounts), ("opportunities", deals), ("touchpoints", touches))
        if extract is not None
    }
    prepared.fx_rates, notes = org_rates(read_named("CurrencyType"), read_named("DatedConversionRate"), settings)
    if notes:
        prepared.warnings["opportunities"] = notes
    return prepared


def without_empty_ids(extract: Extract) -> Extract:
    text = [name for name, dtype in extract.frame.schema.items() if dtype == pl.String]
    extract.frame = extract.frame.with_columns(
        pl.when(pl.col(name).is_in(EMPTY_IDS)).then(None).otherwise(pl.col(name)).alias(name) for name in text
    )
    return extract


def rows_of(count: int, file_name: str) -> str:
    return f"{count:,} {'row' if count == 1 else 'rows'} of {file_name}"


def is_true(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase().is_in(TRUE_WORDS)


def with_partner_field(deals: Extract, partner_field: str) -> Extract:
    """The custom partner lookup (settings: salesforce.partner_field) is the deal's sourced
    partner where the standard PartnerAccountId is empty."""
    if not partner_field:
        return deals
    if partner_field not in deals.columns:
        custom = [name for name in deals.columns if name.endswith("__c")]
        raise RefusedFile(
            f"{deals.source_file}: no column '{partner_field}', the partner lookup the settings name "
            f"(salesforce.partner_field); its custom columns are: {', '.join(custom) or 'none'}"
        )
    standard = pl.col("PartnerAccountId") if "PartnerAccountId" in deals.columns else pl.lit(None, pl.String)
    deals.frame = deals.frame.with_columns(pl.coalesce(standard, pl.col(partner_field)).alias("PartnerAccountId"))
    return deals


def with_account_names(deals: Extract, accounts: Extract) -> Extract:
    """A Data Export's Opportunity.csv has AccountId only: the account's name comes from Account.csv."""
    if "Account.Name" in deals.columns or "AccountId" not in deals.columns or not {"Id", "Name"} <= set(accounts.columns):
        return deals
    names = accounts.frame.select(pl.col("Id").alias("AccountId"), pl.col("Name").alias("Account.Name")).unique("AccountId")
    deals.frame = deals.frame.join(names.drop_nulls("AccountId"), on="AccountId", how="left", maintain_order="left")
    return deals


def deal_partners(touches: Extract, deals: Extract | None) -> tuple[Extract, list[str]]:
    """The rows that are a partner on a deal: Partner.csv's rows between two accounts are not, and
    a row naming the deal's own account is Salesforce's reverse record of the relationship."""
    notes = []
    frame = touches.frame
    if "OpportunityId" in frame.columns and "AccountFromId" in frame.columns:  # Partner.csv
        between_accounts = frame.filter(pl.col("OpportunityId").is_null()).height
        frame = frame.filter(pl.col("OpportunityId").is_not_null())
        if between_accounts:
            notes.append(
                f"{rows_of(between_accounts, touches.source_file)} {'is a partner' if between_accounts == 1 else 'are partners'} "
                "of accounts, not of a deal: they tell which accounts are partners and are not read as touchpoints"
            )
    if deals is not None and {"Id", "AccountId"} <= set(deals.columns) and {"OpportunityId", "AccountToId"} <= set(frame.columns):
        own = deals.frame.select(pl.col("Id").alias("OpportunityId"), pl.col("AccountId").alias("_deal_account"))
        frame = frame.join(own.unique("OpportunityId"), on="OpportunityId", how="left", maintain_order="left")
        reverse = pl.col("AccountToId").is_not_null() & (pl.col("AccountToId") == pl.col("_deal_account")).fill_null(False)
        count = frame.filter(reverse).height
        frame = frame.filter(reverse.not_()).drop("_deal_account")
        if count:
            notes.append(
                f"{rows_of(count, touches.source_file)} {'names' if count == 1 else 'name'} the deal's own account "
                "(Salesforce's reverse record of a partner relationship): not read as touchpoints"
            )
    touches.frame = frame
    return touches, notes


def partner_accounts(
    accounts: Extract,
    deals: Extract | None,
    touches: Extract | None,
    partner_file: Extract | None,
    settings: Settings,
    partner_roles: dict[str, str],
) -> tuple[Extract, list[str]]:
    """Account.csv's partner accounts only: never every account (customers, stores, prospects)."""
    if "Id" not in accounts.columns:
        return accounts, []
    evidence: dict[str, set[str]] = {}

    def mark(why: str, ids: pl.Series) -> None:
        found = set(ids.drop_nulls().to_list())
        if found:
            evidence[why] = found

    frame = accounts.frame
    if "IsPartner" in frame.columns:
        mark("IsPartner", frame.filter(is_true("IsPartner"))["Id"])
    if touches is not None and "AccountToId" in touches.columns:
        mark(f"a partner on a deal in {touches.source_file}", touches.frame["AccountToId"])
    if partner_file is not None and {"AccountToId", "Role"} <= set(partner_file.columns):
        rows = partner_file.frame
        if "OpportunityId" in rows.columns:
            rows = rows.filter(pl.col("OpportunityId").is_null())
        roles = rows.filter(pl.col("Role").is_in(list(partner_roles)))
        mark(f"a partner role in {partner_file.source_file}", roles["AccountToId"])
    if deals is not None and "PartnerAccountId" in deals.columns:
        lookup = settings.salesforce.partner_field
        mark(f"a deal's PartnerAccountId{' or ' + lookup if lookup else ''}", deals.frame["PartnerAccountId"])
    if "Type" in frame.columns:
        types = settings.salesforce.partner_account_types
        mark("Type (salesforce.partner_account_types)", frame.filter(pl.col("Type").is_in(types))["Id"])
    partner_ids = set().union(*evidence.values()) if evidence else set()
    partners = frame.filter(pl.col("Id").is_in(list(partner_ids)))
    if frame.height and partners.is_empty():
        raise RefusedFile(
            f"{accounts.source_file}: none of its {frame.height:,} accounts is a partner (no IsPartner, no partner on a deal "
            "in OpportunityPartner.csv or Partner.csv, no partner lookup on Opportunity, no Type in "
            "salesforce.partner_account_types); name the opportunity's partner lookup (salesforce.partner_field) or "
            "the account types of partners (salesforce.partner_account_types) in the settings"
        )
    accounts.frame = partners
    loaded = set(partners["Id"].to_list())
    why = ", ".join(f"{len(ids & loaded):,} by {name}" for name, ids in evidence.items() if ids & loaded)
    rest = frame.height - partners.height
    notes = [
        f"{partners.height:,} of the {frame.height:,} accounts are partners ({why})"
        + (f"; the other {rest:,} (customers and other accounts) are not partners and are not loaded as partners" if rest else "")
    ]
    return accounts, notes


def org_rates(currency_type: Extract | None, dated: Extract | None, settings: Settings) -> tuple[list[FxRate], list[str]]:
    """The org's rates as the data contract's FxRate: units of the reporting currency per unit of
    each currency, from each date a rate starts (a dated rate from its StartDate, the static
    CurrencyType rate before any). Salesforce's rates are units of the currency per one unit of
    the corporate currency, so a currency's rate is reporting's rate / its rate at that date.
    Currencies the settings' own fx_rates name keep the settings' rates."""
    series: dict[str, dict[date, float]] = {}
    for extract, dated_rows in ((currency_type, False), (dated, True)):
        if extract is None or not {"IsoCode", "ConversionRate"} <= set(extract.columns):
            continue
        rows = extract.frame.select(
            pl.col("IsoCode").str.to_uppercase(),
            pl.col("ConversionRate").cast(pl.Float64, strict=False),
            (pl.col("StartDate").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False) if dated_rows and "StartDate" in
             extract.columns else pl.lit(None, pl.Date)).alias("start"),
        ).filter(pl.col("IsoCode").is_not_null() & (pl.col("ConversionRate") > 0))
        for code, rate, start in rows.iter_rows():
            series.setdefault(code, {})[max(start or EARLIEST, EARLIEST)] = rate
    if not series:
        return [], []
    reporting = settings.reporting_currency.upper()
    if reporting not in series:
        known = ", ".join(sorted(series))
        return [], [
            f"the org's currencies ({known}) do not include the reporting currency {reporting}: deals in them have no "
            "FX rate; set reporting_currency to the org's corporate currency, or give fx_rates in the settings"
        ]
    own = {rate.currency.upper() for rate in settings.fx_rates}
    rates = []
    for code in sorted(series):
        if code == reporting or code in own:
            continue
        for start in sorted(set(series[code]) | set(series[reporting])):
            mine, theirs = rate_on(series[code], start), rate_on(series[reporting], start)
            if mine and theirs:
                rates.append(FxRate(currency=code, rate=theirs / mine, valid_from=start))
    return rates, []


def rate_on(rates: dict[date, float], day: date) -> float | None:
    """The rate in force on `day`: the one with the latest start on or before it."""
    started = [start for start in rates if start <= day]
    return rates[max(started)] if started else None
