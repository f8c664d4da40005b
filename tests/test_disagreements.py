"""The disagreements ledger (docs/design.md, "Disagreements"): one hand-built case per kind that
must be found, and a near miss per kind that must not.

The program below is read as of 2026-06-30 with the default plan: linear credit, tier rates
(registered 5%, silver 8%, gold 10%, platinum 12%), payment terms 60 days, tolerance 1% (at
least 1). Each deal is named after the kind it exercises: O_1x crm_vs_registration,
O_2x registration_conflict, O_3x payout_without_credit, O_4x credit_without_payout,
O_5x payout_amount_mismatch, O_6x duplicate_payout, O_7x channel_conflict.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import queries
from loaders.build import build_database
from settings import CommissionPlan, Settings
from tests.conftest import PROJECT, write_extracts

AS_OF = date(2026, 6, 30)

LEDGER = {
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at,region,partner_manager,status
        P1,Acme Partners,referral,gold,2024-01-15,EMEA,Maria Lopez,active
        P2,Beacon Systems,integration,silver,2024-02-01,NA,Sam Reed,active
        P3,Cobalt Consulting,services,registered,2024-06-01,NA,Sam Reed,active
        P4,Delta Digital,reseller,platinum,2024-03-01,NA,Maria Lopez,active
    """,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,is_closed,is_won,source,sourced_partner_id,account_name
        O10,10000,Closed Won,2026-01-02,2026-03-01,true,true,partner,P1,Alpha GmbH
        O11,11000,Closed Won,2026-01-02,2026-03-01,true,true,partner,P1,Bravo Inc
        O20,20000,Negotiation/Review,2026-01-02,2026-09-30,false,false,partner,,Charlie Ltd
        O21,21000,Negotiation/Review,2026-01-02,2026-09-30,false,false,partner,,Delta LLC
        O22,22000,Negotiation/Review,2026-01-02,2026-09-30,false,false,partner,,Golf Corp
        O30,30000,Closed Won,2026-01-02,2026-02-15,true,true,partner,,Hotel AG
        O40,40000,Closed Won,2026-01-02,2026-03-15,true,true,partner,,India SA
        O41,41000,Closed Won,2026-01-02,2026-05-15,true,true,partner,,Juliet BV
        O50,50000,Closed Won,2026-01-02,2026-02-01,true,true,partner,,Kilo Oy
        O51,51000,Closed Won,2026-01-02,2026-02-01,true,true,partner,,Lima Srl
        O60,60000,Closed Won,2026-01-02,2026-02-01,true,true,partner,,Mike Co
        O61,61000,Closed Won,2026-01-02,2026-02-01,true,true,partner,,November plc
        O70,70000,Closed Won,2026-01-02,2026-03-01,true,true,direct,,Oscar KK
        O71,71000,Closed Won,2026-01-02,2026-03-01,true,true,direct,,Papa AB
        O72,72000,Closed Won,2026-01-02,2026-03-01,true,true,direct,,Quebec SAS
    """,
    "touchpoints.csv": """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T30,O30,P1,referral,2026-01-20 10:00:00
        T40,O40,P4,co_selling,2026-02-01 10:00:00
        T41,O41,P4,co_selling,2026-04-01 10:00:00
        T50,O50,P1,referral,2026-01-10 10:00:00
        T51,O51,P1,referral,2026-01-10 10:00:00
        T60,O60,P2,integration,2026-01-10 10:00:00
        T61,O61,P2,integration,2026-01-10 10:00:00
    """,
    "deal_registrations.csv": """
        registration_id,partner_id,registered_at,status,opportunity_id,account_name,claimed_role,decided_at
        R10,P2,2026-01-05 09:00:00,approved,O10,,sourced,2026-01-07 09:00:00
        R11,P1,2026-01-05 09:00:00,approved,O11,,sourced,2026-01-07 09:00:00
        R20,P1,2026-02-01 09:00:00,approved,O20,,sourced,2026-02-03 09:00:00
        R21,P3,2026-03-01 09:00:00,submitted,O20,,sourced,
        R26,P3,2026-07-05 09:00:00,submitted,O20,,sourced,
        R22,P1,2026-01-01 09:00:00,expired,O21,,sourced,2026-02-20 09:00:00
        R23,P3,2026-03-01 09:00:00,approved,O21,,sourced,2026-03-03 09:00:00
        R24,P1,2026-02-01 09:00:00,approved,O22,,sourced,2026-02-03 09:00:00
        R25,P2,2026-02-15 09:00:00,submitted,,golf corp ,sourced,
        R70,P3,2026-01-10 09:00:00,approved,O70,,influenced,2026-01-12 09:00:00
        R71,P3,2026-01-10 09:00:00,approved,O71,,influenced,2026-07-10 09:00:00
        R72,P3,2026-01-10 09:00:00,rejected,O72,,influenced,2026-01-12 09:00:00
    """,
    "payouts.csv": """
        payout_id,partner_id,amount,payout_type,period,opportunity_id,status,paid_at
        PO30,P2,2400,commission,2026-03-01,O30,paid,2026-04-15
        PO31,P1,3000,referral_fee,2026-03-01,O30,paid,2026-04-15
        PO32,P2,500,mdf,2026-03-01,O30,paid,2026-04-15
        PO33,P3,700,commission,2026-07-01,O30,accrued,
        PO50,P1,5600,referral_fee,2026-02-01,O50,paid,2026-03-15
        PO51,P1,5140,referral_fee,2026-02-01,O51,paid,2026-03-15
        PO60,P2,4800,commission,2026-02-01,O60,paid,2026-03-15
        PO61,P2,4800,commission,2026-04-01,O60,paid,2026-04-15
        PO62,P2,4880,commission,2026-02-01,O61,paid,2026-03-15
        PO63,P2,4880,spiff,2026-02-01,O61,paid,2026-03-15
    """,
}

# kind, opportunity_id, partner_id, payout_id, registration_id, other_partner_id, amount_at_stake
EXPECTED = [
    ("registration_conflict", "O22", "P2", None, "R25", "P1", "22000.00"),
    ("registration_conflict", "O20", "P3", None, "R21", "P1", "20000.00"),
    ("crm_vs_registration", "O10", "P2", None, "R10", "P1", "10000.00"),
    ("credit_without_payout", "O40", "P4", None, None, None, "4800.00"),
    ("duplicate_payout", "O60", "P2", "PO61", None, None, "4800.00"),
    ("channel_conflict", "O70", "P3", None, "R70", None, "3500.00"),
    ("payout_without_credit", "O30", "P2", "PO30", None, None, "2400.00"),
    ("payout_amount_mismatch", "O50", "P1", "PO50", None, None, "600.00"),
]
COLUMNS = [
    "kind",
    "opportunity_id",
    "partner_id",
    "payout_id",
    "registration_id",
    "other_partner_id",
    "amount_at_stake",
]


def expected_frame(rows: list[tuple]) -> pl.DataFrame:
    schema = {column: pl.String for column in COLUMNS}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(pl.col("amount_at_stake").cast(pl.Decimal(18, 2)))


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ledger")
    db = folder / "ledger.duckdb"
    build_database(write_extracts(folder / "extracts", LEDGER), db)
    return db


@pytest.fixture(scope="module")
def ledger(ledger_db: Path) -> pl.DataFrame:
    return queries.execute(queries.connect(ledger_db), "attribution_disagreements", as_of=AS_OF)


def test_every_kind_is_found_once_and_no_near_miss_is(ledger: pl.DataFrame) -> None:
    assert_frame_equal(ledger.select(COLUMNS), expected_frame(EXPECTED))


def test_the_ledger_has_the_stable_export_columns(ledger: pl.DataFrame) -> None:
    for column in ["kind", "opportunity_id", "partner_id", "payout_id", "amount_at_stake", "detail"]:
        assert column in ledger.columns
    assert set(ledger["kind"]) == {
        "crm_vs_registration",
        "registration_conflict",
        "payout_without_credit",
        "credit_without_payout",
        "payout_amount_mismatch",
        "duplicate_payout",
        "channel_conflict",
    }


def test_each_row_says_in_one_line_what_disagrees(ledger: pl.DataFrame) -> None:
    details = dict(zip(ledger["kind"], ledger["detail"], strict=False))
    assert details["payout_without_credit"] == (
        "Payout PO30 of $2,400 (commission, 2026-03-01) to Beacon Systems for deal O30, "
        "where Beacon Systems has no credit under the linear model"
    )
    assert details["payout_amount_mismatch"] == (
        "Acme Partners was paid $5,600 for deal O50 (PO50), expected $5,000 = $50,000 credit x 10%: $600 over"
    )
    assert details["duplicate_payout"].startswith("Payout PO61 of $4,800 (commission, 2026-04-01) to Beacon Systems")
    assert "repeats payout PO60" in details["duplicate_payout"]
    assert details["credit_without_payout"] == (
        "Delta Digital has $40,000 of linear credit on deal O40 (closed 2026-03-15) and is owed $4,800 at 12%, "
        "unpaid 107 days after close"
    )
    assert details["crm_vs_registration"] == (
        "Deal O10 (won, $10,000) is sourced to Acme Partners in the CRM, "
        "but Beacon Systems's registration R10, approved, came first"
    )
    assert "Oscar" not in details["channel_conflict"]
    assert details["channel_conflict"].startswith("Deal O70 (won, $70,000) is direct in the CRM")
    assert all("\n" not in text for text in ledger["detail"])


def test_a_program_reported_in_euros_writes_its_amounts_as_the_rest_of_the_app_does(tmp_path: Path) -> None:
    db = tmp_path / "eur.duckdb"
    build_database(write_extracts(tmp_path / "extracts", LEDGER), db, settings=Settings(reporting_currency="EUR"))
    euros = queries.execute(queries.connect(db), "attribution_disagreements", as_of=AS_OF)
    details = dict(zip(euros["kind"], euros["detail"], strict=False))
    assert details["payout_amount_mismatch"] == (
        "Acme Partners was paid 5,600 EUR for deal O50 (PO50), expected 5,000 EUR = 50,000 EUR credit x 10%: 600 EUR over"
    )
    assert not any("$" in text for text in euros["detail"])


def test_rows_carry_partner_manager_and_fiscal_quarter(ledger: pl.DataFrame) -> None:
    row = ledger.filter(pl.col("kind") == "credit_without_payout").row(0, named=True)
    assert (row["partner_name"], row["partner_manager"], row["fiscal_quarter"]) == (
        "Delta Digital",
        "Maria Lopez",
        "FY2026 Q1",
    )


def test_nothing_after_as_of_counts(ledger_db: Path) -> None:
    """Later, R26 (registered 2026-07-05) conflicts too, R71's approval (2026-07-10) makes a
    channel conflict, PO33 (period 2026-07-01) pays Cobalt without credit, and O41 is past
    its payment terms (closed 2026-05-15 + 60 days)."""
    later = queries.execute(queries.connect(ledger_db), "attribution_disagreements", as_of=date(2026, 7, 31))
    new = later.join(
        queries.execute(queries.connect(ledger_db), "attribution_disagreements", as_of=AS_OF),
        on=["kind", "opportunity_id", "partner_id", "payout_id", "registration_id"],
        how="anti",
        nulls_equal=True,
    )
    assert_frame_equal(
        new.select(COLUMNS).sort("kind", "registration_id"),
        expected_frame(
            [
                ("channel_conflict", "O71", "P3", None, "R71", None, "3550.00"),
                ("credit_without_payout", "O41", "P4", None, None, None, "4920.00"),
                ("payout_without_credit", "O30", "P3", "PO33", None, None, "700.00"),
                ("registration_conflict", "O20", "P3", None, "R26", "P1", "20000.00"),
            ]
        ),
    )


def test_before_the_deals_closed_only_the_registrations_disagree(ledger_db: Path) -> None:
    """On 2026-01-31 nothing has closed or been paid; R10 and R70 were approved in January,
    and their deals are still open, so their whole amount (and the rate on it) is at stake."""
    early = queries.execute(queries.connect(ledger_db), "attribution_disagreements", as_of=date(2026, 1, 31))
    assert_frame_equal(
        early.select(COLUMNS),
        expected_frame(
            [
                ("crm_vs_registration", "O10", "P2", None, "R10", "P1", "10000.00"),
                ("channel_conflict", "O70", "P3", None, "R70", None, "3500.00"),
            ]
        ),
    )


def test_payment_terms_and_tolerance_come_from_the_settings(tmp_path: Path) -> None:
    """With 30-day terms O41 is overdue, and with a 0.05% tolerance PO51 ($40 off $5,100) is a mismatch."""
    plan = CommissionPlan(payment_terms_days=30, amount_tolerance_pct=0.05, amount_tolerance_min=1)
    db = tmp_path / "strict.duckdb"
    build_database(write_extracts(tmp_path / "extracts", LEDGER), db, settings=Settings(commission_plan=plan))
    strict = queries.execute(queries.connect(db), "attribution_disagreements", as_of=AS_OF)
    extra = strict.filter(pl.col("opportunity_id").is_in(["O41", "O51"])).select(COLUMNS).sort("opportunity_id")
    assert_frame_equal(
        extra,
        expected_frame(
            [
                ("payout_amount_mismatch", "O51", "P1", "PO51", None, None, "40.00"),
                ("credit_without_payout", "O41", "P4", None, None, None, "4920.00"),
            ]
        ).sort("opportunity_id"),
    )


def test_a_partner_lead_sees_only_their_partners(ledger_db: Path) -> None:
    mine = queries.execute(queries.connect(ledger_db), "attribution_disagreements", as_of=AS_OF, managers=["Maria Lopez"])
    assert mine.select("kind", "partner_id").rows() == [
        ("credit_without_payout", "P4"),
        ("payout_amount_mismatch", "P1"),
    ]


def test_the_command_line_exports_the_ledger(ledger_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "ledger.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "queries",
            "export",
            "attribution_disagreements",
            "--db",
            str(ledger_db),
            "--param",
            "as_of=2026-06-30",
            "--out",
            str(out),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    exported = pl.read_csv(out, schema_overrides={"amount_at_stake": pl.Decimal(18, 2)})
    assert exported.height == len(EXPECTED)
    assert exported["amount_at_stake"].sum() == Decimal("68100.00")


def test_the_evidence_of_a_deal_shows_every_source_side_by_side(ledger_db: Path) -> None:
    evidence = queries.execute(queries.connect(ledger_db), "disagreement_evidence", opportunity_id="O30", as_of=AS_OF)
    assert evidence.select("source", "partner_id", "reference", "amount", "counts_as_of").rows() == [
        ("crm", None, "O30", Decimal("30000.00"), True),
        ("touchpoint", "P1", "T30", None, True),
        ("credit", "P1", "linear", Decimal("30000.00"), True),
        ("payout", "P2", "PO30", Decimal("2400.00"), True),
        ("payout", "P1", "PO31", Decimal("3000.00"), True),
        ("payout", "P2", "PO32", Decimal("500.00"), True),
        ("payout", "P3", "PO33", Decimal("700.00"), False),
    ]


def test_the_evidence_includes_registrations_of_the_deals_account(ledger_db: Path) -> None:
    evidence = queries.execute(queries.connect(ledger_db), "disagreement_evidence", opportunity_id="O22", as_of=AS_OF)
    registrations = evidence.filter(pl.col("source") == "registration")
    assert registrations.select("partner_id", "reference", "status").rows() == [
        ("P1", "R24", "approved"),
        ("P2", "R25", "submitted"),
    ]


def test_trust_by_quarter_splits_partner_revenue_by_agreement(ledger_db: Path) -> None:
    """Won by 2026-06-30, FY2026 Q1: O10 (CRM P1 vs registration P2: conflicting), O11 (CRM and
    registration P1, no touches: partial), O30, O40, O50, O51, O60, O61 (touches only:
    partial), O70 (registration P3 only: partial); O71 (approved later) and O72 (rejected)
    name no partner by then. Q2: O41 (touch only: partial)."""
    trust = queries.execute(queries.connect(ledger_db), "attribution_trust_by_quarter", as_of=AS_OF)
    assert trust.select("fiscal_quarter", "partner_deals", "partner_revenue", "conflicting_revenue").rows() == [
        ("FY2026 Q1", 9, Decimal("383000.00"), Decimal("10000.00")),
        ("FY2026 Q2", 1, Decimal("41000.00"), Decimal("0.00")),
    ]
    assert trust["agreed_share"].to_list() == [0.0, 0.0]


def test_trust_counts_a_deal_as_agreed_when_all_three_name_the_same_partner(tmp_path: Path) -> None:
    files = dict(LEDGER)
    files["touchpoints.csv"] = LEDGER["touchpoints.csv"].rstrip() + "\n        T11,O11,P1,deal_registration,2026-01-05 09:00:00\n"
    db = tmp_path / "agree.duckdb"
    build_database(write_extracts(tmp_path / "extracts", files), db)
    trust = queries.execute(queries.connect(db), "attribution_trust_by_quarter", as_of=AS_OF)
    first = trust.row(0, named=True)
    assert (first["agreed_revenue"], first["agreed_share"]) == (Decimal("11000.00"), 11000 / 383000)


def test_the_queries_are_read_only_selects_with_documented_params() -> None:
    for name in ["attribution_disagreements", "disagreement_evidence", "attribution_trust_by_quarter"]:
        output = queries.outputs()[name]
        assert {p.name for p in output.params} == set(queries.body_params(queries.load_sql(name)))
        assert output.grain


def test_an_empty_program_has_an_empty_ledger(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    build_database(write_extracts(tmp_path / "extracts", {"partners.csv": LEDGER["partners.csv"]}), db)
    con = duckdb.connect(str(db), read_only=True)
    assert queries.execute(con, "attribution_disagreements").is_empty()
    assert queries.execute(con, "attribution_trust_by_quarter").is_empty()


def test_without_touchpoints_the_credit_kinds_are_not_judged(tmp_path: Path) -> None:
    """Linear credit needs touchpoints: without them every payout would look unearned."""
    files = {name: text for name, text in LEDGER.items() if name != "touchpoints.csv"}
    db = tmp_path / "no_touches.duckdb"
    build_database(write_extracts(tmp_path / "extracts", files), db)
    ledger = queries.execute(queries.connect(db), "attribution_disagreements", as_of=AS_OF)
    assert set(ledger["kind"]) == {"registration_conflict", "crm_vs_registration", "duplicate_payout", "channel_conflict"}


def test_trust_for_a_partner_lead_counts_the_deals_their_partners_are_on(ledger_db: Path) -> None:
    """Maria Lopez has Acme (P1: O10 in the CRM, O11, O30, O50, O51) and Delta (P4: O40, O41)."""
    trust = queries.execute(queries.connect(ledger_db), "attribution_trust_by_quarter", as_of=AS_OF, managers=["Maria Lopez"])
    assert trust.select("fiscal_quarter", "partner_deals", "partner_revenue").rows() == [
        ("FY2026 Q1", 6, Decimal("192000.00")),
        ("FY2026 Q2", 1, Decimal("41000.00")),
    ]
