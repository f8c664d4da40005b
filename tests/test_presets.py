"""Presets map vendor exports to the data contract: small files with the vendor's own file
and column names (Salesforce, HubSpot, PartnerStack) load through the real loaders."""

# Vendor export rows are as wide as the vendors make them.
# ruff: noqa: E501

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from loaders.build import BuildRefused
from settings import Settings
from tests.loading import build, counts, quarantined, query

SALESFORCE = {
    "Account.csv": """
        Id,Name,Partner_Type__c,Partner_Tier__c,CreatedDate,BillingCountry,Region__c,OwnerId
        001A,Acme Partners,referral;reseller,Gold,2025-01-15T10:00:00.000+0000,DE,EMEA,005X
        001B,Beacon Systems,,,2026-02-01T08:00:00.000+0000,US,NA,005Y
    """,
    "Opportunity.csv": """
        Id,AccountId,Account.Name,Amount,StageName,CloseDate,CreatedDate,IsClosed,IsWon,ForecastCategoryName,OwnerId,LeadSource,PartnerAccountId,Type
        006A,001Z,Alpha GmbH,1000,Closed Won,2026-05-15,2026-04-01T09:00:00.000+0000,true,true,Closed,005X,Partner,001A,New Business
        006B,001Z,Bravo Inc,2500.50,Negotiation/Review,2026-08-30,2026-05-01T09:00:00.000+0000,false,false,Best Case,005Y,Web,,Renewal
    """,
    "OpportunityPartner.csv": """
        Id,OpportunityId,AccountToId,Role,IsPrimary,CreatedDate
        00IA,006A,001A,Referral,true,2026-04-01T10:00:00.000+0000
        00IB,006B,001B,System Integrator,false,2026-05-02T10:00:00.000+0000
        00IC,006B,001A,VAR/Reseller,false,2026-05-03T10:00:00.000+0000
    """,
    "OpportunityHistory.csv": """
        Id,OpportunityId,StageName,Amount,CloseDate,CreatedDate,ForecastCategory,Probability
        008A,006A,Prospecting,800,2026-06-30,2026-04-01T09:00:00.000+0000,Pipeline,10
        008B,006A,Closed Won,1000,2026-05-15,2026-05-15T09:00:00.000+0000,Closed,100
        008C,006B,Negotiation/Review,2500.50,2026-08-30,2026-06-01T09:00:00.000+0000,BestCase,90
    """,
}


def test_the_salesforce_preset_loads_account_opportunity_partner_and_history_exports(tmp_path: Path):
    report = build(tmp_path, SALESFORCE, preset="salesforce")
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "partners") == (2, 2, 0)
    assert counts(report, "opportunities") == (2, 2, 0)
    assert counts(report, "touchpoints") == (3, 3, 0)
    assert counts(report, "opportunity_history") == (3, 3, 0)
    assert query(db, "select partner_id, partner_name, partner_types, tier, joined_at, region from partners order by 1") == [
        ("001A", "Acme Partners", ["referral", "reseller"], "gold", date(2025, 1, 15), "EMEA"),
        # Empty type and tier take the preset's constants.
        ("001B", "Beacon Systems", ["reseller"], "registered", date(2026, 2, 1), "NA"),
    ]
    assert query(
        db,
        "select opportunity_id, account_name, amount, stage, created_at, close_date, is_closed, is_won, "
        "forecast_category, sourced_partner_id from opportunities order by 1",
    ) == [
        (
            "006A",
            "Alpha GmbH",
            Decimal("1000.00"),
            "Closed Won",
            date(2026, 4, 1),
            date(2026, 5, 15),
            True,
            True,
            "closed",
            "001A",
        ),
        (
            "006B",
            "Bravo Inc",
            Decimal("2500.50"),
            "Negotiation/Review",
            date(2026, 5, 1),
            date(2026, 8, 30),
            False,
            False,
            "best_case",
            None,
        ),
    ]
    assert query(db, "select touchpoint_id, opportunity_id, partner_id, touch_type, occurred_at from touchpoints order by 1") == [
        ("00IA", "006A", "001A", "referral", datetime(2026, 4, 1, 10, 0)),
        ("00IB", "006B", "001B", "implementation", datetime(2026, 5, 2, 10, 0)),
        ("00IC", "006B", "001A", "co_selling", datetime(2026, 5, 3, 10, 0)),
    ]
    assert query(db, "select opportunity_id, stage, forecast_category from opportunity_history order by changed_at") == [
        ("006A", "Prospecting", "pipeline"),
        ("006A", "Closed Won", "closed"),
        ("006B", "Negotiation/Review", "best_case"),
    ]


HUBSPOT_DEALS = """
    Record ID,Deal Name,Amount,Deal Stage,Close Date,Create Date,Deal owner,Forecast category,Deal Type,Currency,Sourced Partner ID
    9001,Alpha GmbH - new,1200,Closed Won,2026-05-15 00:00,2026-04-01 09:12,Sam Reed,Closed won,newbusiness,USD,
    9002,Bravo Inc - upsell,800,Contract Sent,2026-08-30 00:00,2026-05-01 10:00,Sam Reed,Best case,existingbusiness,USD,
    9003,Charlie Ltd,300,Appointment Scheduled,2026-09-30 00:00,2026-06-01 10:00,Maria Lopez,Not forecasted,newbusiness,USD,
    9004,Delta LLC,100,Mystery Stage,2026-09-30 00:00,2026-06-01 10:00,Maria Lopez,Pipeline,newbusiness,USD,
"""


def test_the_hubspot_preset_loads_a_deals_export(tmp_path: Path):
    report = build(tmp_path, {"hubspot-crm-exports-all-deals.csv": HUBSPOT_DEALS}, preset="hubspot")
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "opportunities") == (4, 3, 1)
    assert query(
        db,
        "select opportunity_id, account_name, amount, stage, is_closed, is_won, forecast_category, owner, created_at "
        "from opportunities order by 1",
    ) == [
        ("9001", "Alpha GmbH - new", Decimal("1200.00"), "Closed Won", True, True, "closed", "Sam Reed", date(2026, 4, 1)),
        (
            "9002",
            "Bravo Inc - upsell",
            Decimal("800.00"),
            "Negotiation/Review",
            False,
            False,
            "best_case",
            "Sam Reed",
            date(2026, 5, 1),
        ),
        ("9003", "Charlie Ltd", Decimal("300.00"), "Qualification", False, False, "omitted", "Maria Lopez", date(2026, 6, 1)),
    ]
    assert quarantined(db, "opportunities") == [
        (
            "hubspot-crm-exports-all-deals.csv",
            5,
            "Deal Stage: 'Mystery Stage' is not in the stage map (and Is Deal Closed?/Is Closed Won are not given)",
        )
    ]


PARTNERSTACK = {
    "partners.csv": """
        partner_key,company,group,created_at,country,manager
        part_abc,Acme Partners,Gold,2025-01-15T10:00:00Z,DE,Maria Lopez
        part_def,Beacon Systems,Default,2026-02-01T10:00:00Z,US,Sam Reed
    """,
    "rewards.csv": """
        reward_key,partner_key,amount,currency,created_at,status,deal_key
        rew_1,part_abc,12345,USD,2026-05-03T10:00:00Z,paid,deal_1
        rew_2,part_def,5000,USD,2026-06-01T10:00:00Z,pending,
        rew_3,part_zzz,100,USD,2026-06-01T10:00:00Z,paid,
    """,
}


def test_the_partnerstack_preset_loads_partners_and_rewards_in_cents(tmp_path: Path):
    report = build(tmp_path, PARTNERSTACK, preset="partnerstack")
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "partners") == (2, 2, 0)
    assert counts(report, "payouts") == (3, 2, 1)
    assert query(
        db, "select partner_id, partner_name, partner_types, tier, joined_at, partner_manager from partners order by 1"
    ) == [
        ("part_abc", "Acme Partners", ["referral"], "Gold", date(2025, 1, 15), "Maria Lopez"),
        ("part_def", "Beacon Systems", ["referral"], "registered", date(2026, 2, 1), "Sam Reed"),
    ]
    assert query(
        db, "select payout_id, partner_id, amount, payout_type, period, status, opportunity_id from payouts order by 1"
    ) == [
        # A payout's period is a month: the reward's date in May is May.
        ("rew_1", "part_abc", Decimal("123.45"), "referral_fee", date(2026, 5, 1), "paid", "deal_1"),
        ("rew_2", "part_def", Decimal("50.00"), "referral_fee", date(2026, 6, 1), "accrued", None),
    ]
    # Messages name the column as the export does.
    assert quarantined(db, "payouts") == [("rewards.csv", 4, "partner_key 'part_zzz' is not in partners")]


def test_the_settings_column_map_fixes_one_column_of_a_preset(tmp_path: Path):
    files = dict(PARTNERSTACK)
    files["partners.csv"] = files["partners.csv"].replace("group,", "partner_group,")
    settings = Settings(column_map={"partners": {"partner_group": "tier"}}, value_map={"partners": {"tier": {"Gold": "gold"}}})
    build(tmp_path, files, preset="partnerstack", settings=settings)
    assert query(tmp_path / "pulse.duckdb", "select tier from partners order by partner_id") == [("gold",), ("registered",)]


def test_an_unknown_preset_refuses_the_build(tmp_path: Path):
    with pytest.raises(BuildRefused, match="unknown preset 'zoho' \\(known: hubspot, partnerstack, salesforce\\)"):
        build(tmp_path, PARTNERSTACK, preset="zoho")
