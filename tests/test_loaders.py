"""One test per row rule of the data contract: the broken row is quarantined with its file,
line and reason; the good rows load; read = loaded + quarantined (docs/design.md, loading rules)."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

from settings import FxRate, Settings
from tests.loading import OPPORTUNITIES, OPPORTUNITIES_HEADER, PARTNERS, build, counts, quarantined, query


def test_a_bad_date_is_quarantined_with_file_line_and_reason(tmp_path: Path):
    report = build(tmp_path, {"partners.csv": PARTNERS + "    P3,Cobalt,services,gold,2025-02-30\n"})
    assert counts(report, "partners") == (3, 2, 1)
    assert quarantined(tmp_path / "pulse.duckdb", "partners") == [
        ("partners.csv", 4, "joined_at: '2025-02-30' is not a date (YYYY-MM-DD)")
    ]


def test_a_bad_number_is_quarantined_saying_what_it_looks_like(tmp_path: Path):
    report = build(
        tmp_path,
        {
            "opportunities.csv": OPPORTUNITIES
            + "    O2,12k,Closed Won,2026-04-01,2026-05-15\n"
            + "    O3,twelve,Closed Won,2026-04-01,2026-05-15\n"
        },
    )
    assert counts(report, "opportunities") == (3, 1, 2)
    assert quarantined(tmp_path / "pulse.duckdb", "opportunities") == [
        ("opportunities.csv", 3, "amount: '12k' looks like an abbreviated amount (k, M), not a number"),
        ("opportunities.csv", 4, "amount: 'twelve' is not a number"),
    ]


def test_a_decimal_comma_is_not_read_as_a_thousands_separator(tmp_path: Path):
    # "1,234.50" is one thousand two hundred and something; "1234,50" must not become 123450.
    report = build(
        tmp_path,
        {
            "opportunities.csv": OPPORTUNITIES
            + '    O2,"1,234.50",Closed Won,2026-04-01,2026-05-15\n'
            + '    O3,"1234,50",Closed Won,2026-04-01,2026-05-15\n'
        },
    )
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "opportunities") == (3, 2, 1)
    assert query(db, "select amount from opportunities where opportunity_id = 'O2'") == [(Decimal("1234.50"),)]
    assert quarantined(db, "opportunities") == [
        ("opportunities.csv", 4, "amount: '1234,50' looks like a number with a decimal comma (1234.50), not a number")
    ]


def test_a_negative_amount_is_quarantined(tmp_path: Path):
    files = {
        "partners.csv": PARTNERS,
        "payouts.csv": """
            payout_id,partner_id,amount,payout_type,period
            PO1,P1,100,commission,2026-05-01
            PO2,P1,-40,commission,2026-05-01
        """,
    }
    report = build(tmp_path, files)
    assert counts(report, "payouts") == (2, 1, 1)
    assert quarantined(tmp_path / "pulse.duckdb", "payouts") == [("payouts.csv", 3, "amount: negative amount -40.00")]


def test_a_value_not_allowed_is_quarantined_and_allowed_values_are_normalised(tmp_path: Path):
    files = {
        "partners.csv": PARTNERS,
        "deal_registrations.csv": """
            registration_id,partner_id,registered_at,status
            R1,P1,2026-04-02,Approved
            R2,P1,2026-04-03,maybe
        """,
    }
    report = build(tmp_path, files)
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "deal_registrations") == (2, 1, 1)
    assert query(db, "select status from deal_registrations") == [("approved",)]
    assert quarantined(db, "deal_registrations") == [
        ("deal_registrations.csv", 3, "status: 'maybe' is not one of submitted, approved, rejected, expired")
    ]


def test_a_partner_type_not_allowed_in_the_list_is_quarantined(tmp_path: Path):
    report = build(tmp_path, {"partners.csv": PARTNERS + "    P3,Cobalt,services;plumber,gold,2025-02-01\n"})
    assert counts(report, "partners") == (3, 2, 1)
    assert query(tmp_path / "pulse.duckdb", "select partner_types from partners where partner_id = 'P1'") == [
        (["referral", "reseller"],)
    ]
    reason = quarantined(tmp_path / "pulse.duckdb", "partners")[0][2]
    assert reason.startswith("partner_types: 'services;plumber' is not one of referral, reseller")


def test_a_missing_required_value_is_quarantined(tmp_path: Path):
    report = build(tmp_path, {"partners.csv": PARTNERS + "    P3,,services,gold,2025-02-01\n"})
    assert counts(report, "partners") == (3, 2, 1)
    assert quarantined(tmp_path / "pulse.duckdb", "partners") == [("partners.csv", 4, "partner_name is required")]


def test_a_row_with_several_problems_lists_every_reason(tmp_path: Path):
    report = build(tmp_path, {"opportunities.csv": OPPORTUNITIES + "    O2,,Closed Won,2026-04-01,someday\n"})
    assert counts(report, "opportunities") == (2, 1, 1)
    assert quarantined(tmp_path / "pulse.duckdb", "opportunities") == [
        ("opportunities.csv", 3, "amount is required; close_date: 'someday' is not a date (YYYY-MM-DD)")
    ]


def test_a_duplicate_key_keeps_the_first_row_and_quarantines_the_later_one(tmp_path: Path):
    report = build(tmp_path, {"partners.csv": PARTNERS + "    P1,Acme again,referral,gold,2025-02-01\n"})
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "partners") == (3, 2, 1)
    assert query(db, "select partner_name from partners where partner_id = 'P1'") == [("Acme Partners",)]
    assert quarantined(db, "partners") == [("partners.csv", 4, "duplicate partner_id 'P1' (first on line 2)")]


def test_a_duplicate_of_a_quarantined_row_loads_and_a_third_copy_names_the_loaded_line(tmp_path: Path):
    files = {
        "partners.csv": """
            partner_id,partner_name,partner_types,tier,joined_at
            P1,Acme bad date,referral,gold,someday
            P1,Acme good,referral,gold,2025-02-01
            P1,Acme third,referral,gold,2025-03-01
        """
    }
    report = build(tmp_path, files)
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "partners") == (3, 1, 2)
    assert query(db, "select partner_name from partners") == [("Acme good",)]
    assert quarantined(db, "partners") == [
        ("partners.csv", 2, "joined_at: 'someday' is not a date (YYYY-MM-DD); duplicate partner_id 'P1' (first on line 3)"),
        ("partners.csv", 4, "duplicate partner_id 'P1' (first on line 3)"),
    ]


def test_an_unknown_partner_is_quarantined(tmp_path: Path):
    files = {
        "partners.csv": PARTNERS,
        "partner_activities.csv": """
            partner_id,activity_type,occurred_at
            P1,portal_login,2026-06-01 10:00:00
            P9,portal_login,2026-06-01 11:00:00
        """,
    }
    report = build(tmp_path, files)
    assert counts(report, "partner_activities") == (2, 1, 1)
    assert quarantined(tmp_path / "pulse.duckdb", "partner_activities") == [
        ("partner_activities.csv", 3, "partner_id 'P9' is not in partners")
    ]


def test_an_unknown_opportunity_is_quarantined_in_touchpoints_and_history(tmp_path: Path):
    files = {
        "partners.csv": PARTNERS,
        "opportunities.csv": OPPORTUNITIES,
        "touchpoints.csv": """
            opportunity_id,partner_id,touch_type,occurred_at
            O1,P1,referral,2026-04-01
            O9,P1,referral,2026-04-01
        """,
        "opportunity_history.csv": """
            opportunity_id,stage,changed_at
            O1,Prospecting,2026-04-01
            O9,Prospecting,2026-04-01
        """,
    }
    report = build(tmp_path, files)
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "touchpoints") == (2, 1, 1)
    assert counts(report, "opportunity_history") == (2, 1, 1)
    assert quarantined(db, "touchpoints") == [("touchpoints.csv", 3, "opportunity_id 'O9' is not in opportunities")]
    assert quarantined(db, "opportunity_history") == [
        ("opportunity_history.csv", 3, "opportunity_id 'O9' is not in opportunities")
    ]


def test_touchpoints_of_a_deal_quarantined_for_its_sourced_partner_are_quarantined_too(tmp_path: Path):
    # O2 names a partner the extract lacks, so O2 is quarantined; its touchpoint must not load
    # pointing at a deal that is not there.
    files = {
        "partners.csv": PARTNERS,
        "opportunities.csv": f"""
            {OPPORTUNITIES_HEADER},sourced_partner_id
            O1,1000,Closed Won,2026-04-01,2026-05-15,P1
            O2,2000,Closed Won,2026-04-01,2026-05-15,P9
        """,
        "touchpoints.csv": """
            opportunity_id,partner_id,touch_type,occurred_at
            O1,P1,referral,2026-04-01
            O2,P1,referral,2026-04-01
        """,
    }
    report = build(tmp_path, files)
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "opportunities") == (2, 1, 1)
    assert quarantined(db, "opportunities") == [("opportunities.csv", 3, "sourced_partner_id 'P9' is not in partners")]
    assert counts(report, "touchpoints") == (2, 1, 1)
    assert query(db, "select opportunity_id from touchpoints") == [("O1",)]


def test_references_are_not_checked_when_the_referenced_extract_is_absent(tmp_path: Path):
    files = {
        "opportunities.csv": OPPORTUNITIES,
        "touchpoints.csv": """
            opportunity_id,partner_id,touch_type,occurred_at
            O1,P7,referral,2026-04-01
        """,
    }
    report = build(tmp_path, files)
    assert counts(report, "touchpoints") == (1, 1, 0)


def test_a_stage_not_in_the_stage_map_is_quarantined(tmp_path: Path):
    report = build(tmp_path, {"opportunities.csv": OPPORTUNITIES + "    O2,500,Signed,2026-04-01,2026-05-15\n"})
    assert counts(report, "opportunities") == (2, 1, 1)
    assert quarantined(tmp_path / "pulse.duckdb", "opportunities") == [
        ("opportunities.csv", 3, "stage: 'Signed' is not in the stage map (and is_closed/is_won are not given)")
    ]


def test_a_stage_not_in_the_map_loads_with_a_warning_when_is_closed_and_is_won_are_given(tmp_path: Path):
    files = {
        "opportunities.csv": f"""
            {OPPORTUNITIES_HEADER},is_closed,is_won
            O1,1000,Closed Won,2026-04-01,2026-05-15,,
            O2,500,Signed,2026-04-01,2026-05-15,true,true
            O3,700,Parked,2026-04-01,2026-05-15,false,false
        """
    }
    report = build(tmp_path, files)
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "opportunities") == (3, 3, 0)
    row = report.filter(report["table_name"] == "opportunities").row(0, named=True)
    assert row["warnings"] == (
        "stages not in the stage map, loaded using their is_closed/is_won: Parked, Signed "
        "(the settings snippet gives them an order and a probability)"
    )
    # The stage map fills is_closed / is_won where the extract leaves them empty.
    assert query(db, "select opportunity_id, is_closed, is_won from opportunities order by 1") == [
        ("O1", True, True),
        ("O2", True, True),
        ("O3", False, False),
    ]
    # The snippet, pasted into the settings, names both stages after the ten default ones.
    assert row["settings_snippet"] == (
        '[stage_map."Parked"]\norder = 11\n'
        "probability = 0.0  # no deal says: set the chance a deal in this stage closes won\n"
        "is_closed = false\nis_won = false\n\n"
        '[stage_map."Signed"]\norder = 12\nprobability = 1.0\nis_closed = true\nis_won = true'
    )
    pasted = tomllib.loads(row["settings_snippet"])["stage_map"]
    settings = Settings(stage_map={**Settings().stage_map, **pasted}, quarantine_fail_share=1.0)
    again = build(tmp_path / "again", files, settings=settings)
    assert again.filter(again["table_name"] == "opportunities")["warnings"][0] == ""


def test_the_stage_snippet_gives_an_open_stage_the_median_of_its_deals_own_probabilities(tmp_path: Path):
    files = {
        "opportunities.csv": f"""
            {OPPORTUNITIES_HEADER},is_closed,is_won,probability
            O1,1000,Propuesta,2026-04-01,2026-08-15,false,false,40
            O2,500,Propuesta,2026-04-01,2026-08-15,false,false,60
            O3,700,Propuesta,2026-04-01,2026-08-15,false,false,70%
            O4,700,Ganada,2026-04-01,2026-05-15,true,true,100
        """
    }
    report = build(tmp_path, files)
    assert query(tmp_path / "pulse.duckdb", "select opportunity_id, probability from opportunities order by 1") == [
        ("O1", 0.4),
        ("O2", 0.6),
        ("O3", 0.7),
        ("O4", 1.0),
    ]
    assert report.filter(report["table_name"] == "opportunities")["settings_snippet"][0] == (
        '[stage_map."Propuesta"]\norder = 11\nprobability = 0.6\nis_closed = false\nis_won = false\n\n'
        '[stage_map."Ganada"]\norder = 12\nprobability = 1.0\nis_closed = true\nis_won = true'
    )


def test_a_probability_is_a_share_read_from_a_share_a_percentage_or_a_column_in_percent(tmp_path: Path):
    header = f"{OPPORTUNITIES_HEADER},probability"
    files = {
        "opportunities.csv": f"""
            {header}
            O1,1000,Closed Won,2026-04-01,2026-05-15,1
            O2,1000,Closed Won,2026-04-01,2026-05-15,0.75
            O3,1000,Closed Won,2026-04-01,2026-05-15,25%
            O4,1000,Closed Won,2026-04-01,2026-05-15,1.5
            O5,1000,Closed Won,2026-04-01,2026-05-15,
        """,
    }
    # O4's 1.5 is above 1: the column is in percent, so 1 is 1% and 0.75 is 0.75%.
    build(tmp_path, files)
    assert query(tmp_path / "pulse.duckdb", "select opportunity_id, probability from opportunities order by 1") == [
        ("O1", 0.01),
        ("O2", 0.0075),
        ("O3", 0.25),
        ("O4", 0.015),
        ("O5", None),
    ]
    files["opportunities.csv"] = f"""
        {header}
        O1,1000,Closed Won,2026-04-01,2026-05-15,1
        O2,1000,Closed Won,2026-04-01,2026-05-15,0.75
        O3,1000,Closed Won,2026-04-01,2026-05-15,120%
        O4,1000,Closed Won,2026-04-01,2026-05-15,"0,5"
    """
    report = build(tmp_path / "shares", files)
    assert counts(report, "opportunities") == (4, 2, 2)
    assert query(tmp_path / "shares" / "pulse.duckdb", "select opportunity_id, probability from opportunities order by 1") == [
        ("O1", 1.0),
        ("O2", 0.75),
    ]
    assert quarantined(tmp_path / "shares" / "pulse.duckdb", "opportunities") == [
        ("opportunities.csv", 4, "probability: '120%' is not a share from 0 to 1 or a percentage"),
        (
            "opportunities.csv",
            5,
            "probability: '0,5' looks like a number with a decimal comma (0.5), not a share from 0 to 1 or a percentage",
        ),
    ]


def test_a_history_stage_not_in_the_stage_map_loads_with_a_warning_when_its_deal_loaded(tmp_path: Path):
    files = {
        "opportunities.csv": f"""
            {OPPORTUNITIES_HEADER},is_closed,is_won
            O1,1000,Closed Won,2026-04-01,2026-05-15,,
            O2,700,Ganada,2026-04-01,2026-05-15,true,true
        """,
        "opportunity_history.csv": """
            opportunity_id,stage,changed_at
            O1,Prospecting,2026-04-01
            O1,Signed,2026-04-20
            O2,Ganada,2026-05-15
        """,
    }
    report = build(tmp_path, files)
    assert counts(report, "opportunity_history") == (3, 3, 0)
    row = report.filter(report["table_name"] == "opportunity_history").row(0, named=True)
    assert row["warnings"] == "stages not in the stage map, loaded because their deals loaded: Ganada, Signed"
    # Ganada is in the deals' snippet already; a stage seen only in history is one deals pass through.
    assert row["settings_snippet"] == (
        '[stage_map."Signed"]\norder = 12\n'
        "probability = 0.0  # no deal says: set the chance a deal in this stage closes won\n"
        "is_closed = false\nis_won = false"
    )


def test_a_history_stage_not_in_the_stage_map_is_quarantined_when_no_deal_says_what_it_is(tmp_path: Path):
    files = {
        "partners.csv": PARTNERS,
        "opportunity_history.csv": """
            opportunity_id,stage,changed_at
            O1,Prospecting,2026-04-01
            O1,Signed,2026-04-20
        """,
    }
    report = build(tmp_path, files)
    assert counts(report, "opportunity_history") == (2, 1, 1)
    assert quarantined(tmp_path / "pulse.duckdb", "opportunity_history") == [
        ("opportunity_history.csv", 3, "stage: 'Signed' is not in the stage map")
    ]


def test_history_and_touchpoints_of_a_quarantined_deal_say_why_the_deal_was_quarantined(tmp_path: Path):
    files = {
        "partners.csv": PARTNERS,
        "opportunities.csv": f"""
            {OPPORTUNITIES_HEADER},currency
            O1,1000,Closed Won,2026-04-01,2026-05-15,
            O2,9000,Closed Won,2026-04-01,2026-05-15,MXN
        """,
        "opportunity_history.csv": """
            opportunity_id,stage,changed_at
            O2,Prospecting,2026-04-01
            O9,Prospecting,2026-04-01
        """,
        "touchpoints.csv": """
            opportunity_id,partner_id,touch_type,occurred_at
            O2,P1,referral,2026-04-02
        """,
    }
    build(tmp_path, files)
    db = tmp_path / "pulse.duckdb"
    because = "deal 'O2' quarantined (opportunities.csv line 3): currency: no FX rate for MXN on the close_date in the settings"
    assert quarantined(db, "opportunity_history") == [
        ("opportunity_history.csv", 2, because),
        ("opportunity_history.csv", 3, "opportunity_id 'O9' is not in opportunities"),
    ]
    assert quarantined(db, "touchpoints") == [("touchpoints.csv", 2, because)]


def test_an_amount_with_no_fx_rate_is_quarantined_and_others_are_converted_at_the_close_date_rate(tmp_path: Path):
    settings = Settings(
        fx_rates=[
            FxRate(currency="EUR", rate=1.10, valid_from=date(2026, 1, 1)),
            FxRate(currency="EUR", rate=1.20, valid_from=date(2026, 5, 1)),
        ]
    )
    files = {
        "opportunities.csv": f"""
            {OPPORTUNITIES_HEADER},currency
            O1,1000,Closed Won,2026-04-01,2026-04-15,eur
            O2,1000,Closed Won,2026-04-01,2026-05-15,EUR
            O3,1000,Closed Won,2026-04-01,2026-05-15,
            O4,1000,Closed Won,2026-04-01,2026-05-15,GBP
            O5,1000,Closed Won,2025-04-01,2025-12-31,EUR
        """
    }
    report = build(tmp_path, files, settings=settings)
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "opportunities") == (5, 3, 2)
    assert query(db, "select opportunity_id, currency, amount_original, amount from opportunities order by 1") == [
        ("O1", "EUR", Decimal("1000.00"), Decimal("1100.00")),
        ("O2", "EUR", Decimal("1000.00"), Decimal("1200.00")),
        ("O3", "USD", Decimal("1000.00"), Decimal("1000.00")),
    ]
    assert quarantined(db, "opportunities") == [
        ("opportunities.csv", 5, "currency: no FX rate for GBP on the close_date in the settings"),
        ("opportunities.csv", 6, "currency: no FX rate for EUR on the close_date in the settings"),
    ]


def test_the_quarantine_keeps_the_row_as_it_was_read(tmp_path: Path):
    build(tmp_path, {"partners.csv": PARTNERS + "    P3,Cobalt,services,gold,2025-02-30\n"})
    rows = query(tmp_path / "pulse.duckdb", "select row from quarantine")
    assert rows == [
        (
            '{"partner_id":"P3","partner_name":"Cobalt","partner_types":"services","tier":"gold",'
            '"joined_at":"2025-02-30","region":null,"country":null,"partner_manager":null,"status":null,'
            '"terminated_at":null}',
        )
    ]


def test_unknown_extra_columns_are_kept(tmp_path: Path):
    build(
        tmp_path,
        {"partners.csv": PARTNERS.replace("joined_at\n", "joined_at,crm_note\n").replace("2025-01-15", "2025-01-15,vip")},
    )
    assert query(tmp_path / "pulse.duckdb", "select crm_note from partners order by partner_id") == [("vip",), (None,)]


def test_a_stage_matches_the_stage_map_whatever_its_case_and_is_stored_as_the_settings_spell_it(tmp_path: Path):
    files = {
        "opportunities.csv": OPPORTUNITIES
        + "    O2,500,closed won,2026-04-01,2026-05-15\n"
        + "    O3,700,CLOSED LOST,2026-04-01,2026-05-15\n",
        "opportunity_history.csv": """
            opportunity_id,stage,changed_at
            O2,prospecting,2026-04-01
        """,
    }
    report = build(tmp_path, files)
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "opportunities") == (3, 3, 0)
    stored = "select opportunity_id, stage, is_closed, is_won from opportunities where opportunity_id > 'O1' order by 1"
    assert query(db, stored) == [
        ("O2", "Closed Won", True, True),
        ("O3", "Closed Lost", True, False),
    ]
    assert query(db, "select stage from opportunity_history") == [("Prospecting",)]


def test_history_amounts_are_converted_in_their_deals_currency_at_the_rows_close_date(tmp_path: Path):
    settings = Settings(
        fx_rates=[
            FxRate(currency="EUR", rate=1.10, valid_from=date(2026, 1, 1)),
            FxRate(currency="EUR", rate=1.20, valid_from=date(2026, 5, 1)),
        ]
    )
    files = {
        "opportunities.csv": f"""
            {OPPORTUNITIES_HEADER},currency
            O1,1000,Closed Won,2026-04-01,2026-05-15,EUR
            O2,500,Closed Won,2026-04-01,2026-05-15,
        """,
        "opportunity_history.csv": """
            opportunity_id,stage,changed_at,amount,close_date
            O1,Prospecting,2026-03-01,800,2026-04-30
            O1,Prospecting,2026-04-01,900,
            O1,Prospecting,2026-04-02,900,2025-06-30
            O2,Prospecting,2026-04-01,400,2026-04-30
            O1,Prospecting,2026-04-03,,2026-04-30
        """,
    }
    report = build(tmp_path, files, settings=settings)
    db = tmp_path / "pulse.duckdb"
    assert counts(report, "opportunity_history") == (5, 4, 1)
    assert query(db, "select opportunity_id, amount_original, amount from opportunity_history order by changed_at, 1") == [
        ("O1", Decimal("800.00"), Decimal("880.00")),  # its own close date: the January rate
        ("O1", Decimal("900.00"), Decimal("1080.00")),  # no close date on the row: the deal's (May rate)
        ("O2", Decimal("400.00"), Decimal("400.00")),  # already in the reporting currency
        ("O1", None, None),
    ]
    assert quarantined(db, "opportunity_history") == [
        ("opportunity_history.csv", 4, "currency: no FX rate for EUR on the close_date (the deal's currency) in the settings")
    ]


def test_a_rate_entered_the_wrong_way_round_is_named_in_a_warning(tmp_path: Path):
    def deals(mxn_rate: float, folder: str) -> str:
        files = {
            "opportunities.csv": f"""
                {OPPORTUNITIES_HEADER},currency
                O1,1000,Closed Won,2026-04-01,2026-05-15,USD
                O2,1200,Closed Won,2026-04-01,2026-05-15,USD
                O3,900,Closed Won,2026-04-01,2026-05-15,USD
                O4,20000,Closed Won,2026-04-01,2026-05-15,MXN
                O5,18000,Closed Won,2026-04-01,2026-05-15,MXN
                O6,25000,Closed Won,2026-04-01,2026-05-15,MXN
            """
        }
        report = build(tmp_path / folder, files, settings=Settings(fx_rates=[FxRate(currency="MXN", rate=mxn_rate)]))
        return report.filter(report["table_name"] == "opportunities")["warnings"][0]

    # 17 MXN per USD pasted as it is: 20,000 MXN becomes 340,000 USD, 340 times the USD deals.
    assert deals(17.0, "inverted") == (
        "MXN deals look converted with an inverted rate: their median is 340,000.00 USD, 340 times the other deals' "
        "median (1,000.00 USD). The rate used is 17 USD per MXN; fx_rates are units of USD per one MXN (Salesforce "
        "writes units of MXN per one USD): check it, it may have to be 0.0588235"
    )
    assert deals(1 / 17, "right") == ""
    # 99 times the others' median is large but not yet implausible.
    assert deals(99 * 1000 / 20000, "large") == ""
