"""The data's "as of" is the day the export was taken: the latest day something was created,
changed or done in it, never a close date (CRMs keep lost deals dated in the future); the
settings or `build --as-of` can set it. Every page's current quarter follows it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

import queries
from loaders.__main__ import main as loaders_cli
from loaders.build import build_database, rebuild_from_source
from settings import Settings
from tests.conftest import open_page, write_extracts

PARTNERS = """
    partner_id,partner_name,partner_types,tier,joined_at,region,partner_manager
    P1,Acme Partners,referral,gold,2022-01-01,NA,Maria Lopez
"""

# A CRM export taken on 2023-09-01: O3 was created that day, the latest day anything happened.
# L1 was lost, but the CRM still dates it 2023-12-15 (its expected close when it was dropped).
# Q3 (July-September) so far: W1 (partner, sourced by P1) and W2 (direct) won, L2 (direct) lost.
# Open: S1 and S2 are past their close dates (stale); O1 at 50% (the stage map wins over its
# own 30%); O2 and O3 are in Spanish stages outside the stage map: O2 has its own 40%, O3 none.
EXPORT = {
    "partners.csv": PARTNERS,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,is_closed,is_won,sourced_partner_id,probability
        W1,1000,Closed Won,2023-07-05,2023-08-10,true,true,P1,
        W2,3000,Closed Won,2023-06-01,2023-07-20,true,true,,
        L1,2000,Closed Lost,2023-07-10,2023-12-15,true,false,P1,
        L2,500,Closed Lost,2023-07-01,2023-08-20,true,false,,
        S1,4000,Negotiation/Review,2023-05-01,2023-08-15,false,false,P1,
        S2,1000,Prospecting,2023-04-01,2023-06-30,false,false,,
        O1,2000,Value Proposition,2023-08-01,2023-09-20,false,false,P1,0.3
        O2,5000,Etapa Propuesta,2023-08-15,2023-09-25,false,false,,0.4
        O3,3000,Etapa Negociación,2023-09-01,2023-09-28,false,false,P1,
    """,
}


def build(tmp_path: Path, files: dict[str, str], name: str = "export", **kwargs) -> Path:
    db = tmp_path / f"{name}.duckdb"
    build_database(write_extracts(tmp_path / name, files), db, **kwargs)
    return db


def meta(db: Path) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute("select key, value from load_meta").fetchall())


@pytest.fixture(scope="module")
def export_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("export"), EXPORT)


def test_lost_deals_dated_after_the_export_date_do_not_move_as_of(export_db: Path):
    # The latest close date is L1's 2023-12-15; the latest day something happened is O3's creation.
    assert meta(export_db)["data_as_of"] == "2023-09-01"
    assert meta(export_db)["data_as_of_basis"] == "the latest day in opportunities"
    con = queries.connect(export_db)
    freshness = queries.execute(con, "stale_tables")
    opportunities = freshness.row(by_predicate=pl.col("table_name") == "opportunities", named=True)
    assert (opportunities["latest_date"], opportunities["newest_date"]) == (date(2023, 9, 1), date(2023, 9, 1))


def test_an_export_taken_on_2023_09_01_is_in_q3_and_its_win_rate_counts_the_quarter_so_far(export_db: Path):
    con = queries.connect(export_db)
    kpis = {row["kpi"]: row for row in queries.execute(con, "program_kpis").iter_rows(named=True)}
    # Default period: the fiscal quarter of 2023-09-01, to date (the quarter is not over).
    assert (kpis["win_rate"]["start_date"], kpis["win_rate"]["end_date"]) == (date(2023, 7, 1), date(2023, 9, 1))
    # Closed in Q3: W1 and W2 won, L2 lost (L1's December date is in Q4): 2 of 3; partner W1 1 of 1; direct 1 of 2.
    assert kpis["win_rate"]["value"] == pytest.approx(2 / 3)
    assert (kpis["win_rate"]["partner_value"], kpis["win_rate"]["direct_value"]) == (pytest.approx(1.0), pytest.approx(0.5))
    forecast = queries.execute(con, "pipeline_forecast")
    assert forecast["fiscal_quarter"].unique(maintain_order=True).to_list() == [
        "FY2023 Q3",
        "FY2023 Q4",
        "FY2024 Q1",
        "FY2024 Q2",
    ]
    assert set(forecast["as_of"]) == {date(2023, 9, 1)}


def test_the_pages_say_the_export_date_and_show_the_quarter_so_far(export_db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DB", str(export_db))
    at = open_page("health")
    assert not at.exception, at.exception
    assert any(c.value == "Data as of **2023-09-01** (the latest day in opportunities)" for c in at.sidebar.caption)
    assert any(c.value.startswith("2023-07-01 to 2023-09-01, the first 63 days of a period not over yet, compared with the same days") for c in at.caption)
    assert {m.label: m.value for m in at.metric}["Win rate"] == "67%"


def test_an_as_of_setting_wins_over_the_data(tmp_path: Path):
    db = build(tmp_path, EXPORT, settings=Settings(as_of=date(2023, 9, 5)))
    assert (meta(db)["data_as_of"], meta(db)["data_as_of_basis"]) == ("2023-09-05", "set by the as_of setting")
    con = queries.connect(db)
    assert set(queries.execute(con, "pipeline_forecast")["as_of"]) == {date(2023, 9, 5)}
    # Stale against the set day: S1 (due 2023-08-15) and S2 (due 2023-06-30), 21 and 67 days past their close date.
    deals = queries.execute(con, "forecast_deals").filter("is_stale").sort("opportunity_id")
    assert deals.select("opportunity_id", "days_past_close").rows() == [("S1", 21), ("S2", 67)]


def test_build_as_of_on_the_command_line_sets_the_day_and_a_rebuild_keeps_it(tmp_path: Path):
    folder = write_extracts(tmp_path / "export", EXPORT)
    db = tmp_path / "cli.duckdb"
    assert loaders_cli(["build", str(folder), "--db", str(db), "--as-of", "2023-08-31"]) == 0
    assert meta(db)["data_as_of"] == "2023-08-31"
    assert json.loads(meta(db)["settings_json"])["as_of"] == "2023-08-31"
    rebuild_from_source(db)
    assert meta(db)["data_as_of"] == "2023-08-31"
    # Without the option the data decides, as before.
    assert loaders_cli(["build", str(folder), "--db", str(db)]) == 0
    assert meta(db)["data_as_of"] == "2023-09-01"


def test_a_bad_as_of_on_the_command_line_is_refused_by_the_parser(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    folder = write_extracts(tmp_path / "export", EXPORT)
    with pytest.raises(SystemExit) as refused:
        loaders_cli(["build", str(folder), "--db", str(tmp_path / "x.duckdb"), "--as-of", "01/09/2023"])
    assert refused.value.code == 2 and "--as-of" in capsys.readouterr().err
    assert not (tmp_path / "x.duckdb").exists()


def test_activities_registrations_and_history_move_as_of_but_a_payout_period_does_not(tmp_path: Path):
    files = {
        **EXPORT,
        # The latest event: a registration on 2023-09-04.
        "deal_registrations.csv": """
            registration_id,partner_id,registered_at,status,opportunity_id
            R1,P1,2023-09-04 10:00:00,submitted,O1
        """,
        "partner_activities.csv": """
            activity_id,partner_id,activity_type,occurred_at
            A1,P1,portal_login,2023-09-03 08:00:00
        """,
        "opportunity_history.csv": """
            opportunity_id,stage,changed_at,amount,close_date
            O1,Value Proposition,2023-09-02 10:00:00,2000,2023-09-20
        """,
        # Accrued for October: a period, not a day anything happened.
        "payouts.csv": """
            payout_id,partner_id,amount,payout_type,period,status
            PO1,P1,100,commission,2023-10-01,accrued
        """,
    }
    db = build(tmp_path, files)
    assert (meta(db)["data_as_of"], meta(db)["data_as_of_basis"]) == ("2023-09-04", "the latest day in deal registrations")


def test_a_program_of_partners_and_payouts_is_as_of_its_latest_payment(tmp_path: Path):
    files = {
        "partners.csv": PARTNERS,
        "payouts.csv": """
            payout_id,partner_id,amount,payout_type,period,status,paid_at
            PO1,P1,100,commission,2023-08-01,paid,2023-09-12
            PO2,P1,100,commission,2023-09-01,accrued,
        """,
    }
    db = build(tmp_path, files)
    assert (meta(db)["data_as_of"], meta(db)["data_as_of_basis"]) == ("2023-09-12", "the latest payout period or payment")
