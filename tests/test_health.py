"""Program health KPIs on a tiny hand-built program: exact values, partner vs direct, the
previous period, KPIs that need an absent extract, the export matching the cards, and the page."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import polars as pl
import pytest

import queries
from charts.health import format_value
from loaders.build import build_database
from queries.__main__ import main as queries_cli
from settings import load_settings
from tests.conftest import PROJECT, SHARED_DATA, TINY, open_page, write_extracts

# The conftest's tiny program (data as of 2026-06-20, in FY2026 Q2) plus two direct deals in Q2
# and two more registrations: R3 claims O1 (registered by P1 too: a conflict), R4 is rejected.
HEALTH = dict(TINY)
HEALTH["opportunities.csv"] = (
    TINY["opportunities.csv"].rstrip()
    + """
        O6,5000,Closed Won,2026-04-15,2026-05-05,true,true,closed,,NA,Foxtrot AG
        O7,1000,Closed Lost,2026-04-20,2026-06-15,true,false,omitted,,NA,Golf SA
"""
)
HEALTH["deal_registrations.csv"] = (
    TINY["deal_registrations.csv"].rstrip()
    + """
        R3,P2,2026-05-01 10:00:00,submitted,O1,influenced,
        R4,P1,2026-06-01 10:00:00,rejected,O4,sourced,2026-06-08 10:00:00
"""
)
Q2 = {"start_date": date(2026, 4, 1), "end_date": date(2026, 6, 30)}


@pytest.fixture(scope="module")
def health_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("health")
    db = folder / "health.duckdb"
    build_database(write_extracts(folder / "extracts", HEALTH), db)
    return db


@pytest.fixture
def health_db(health_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PULSE_DB", str(health_db_path))
    return health_db_path


def kpis(db: Path, **params) -> dict[str, dict]:
    frame = queries.execute(queries.connect(db), "program_kpis", **{**Q2, **params})
    return {row["kpi"]: row for row in frame.iter_rows(named=True)}


def close(actual: float | None, expected: float | None) -> bool:
    if expected is None:
        return actual is None
    return actual is not None and math.isclose(actual, expected, rel_tol=1e-9)


# kpi: (value, previous value) for FY2026 Q2 against FY2026 Q1, worked out by hand in the comments.
EXPECTED = {
    "active_partners": (2, 1),  # Q2: P1 training 06-01, P2 touchpoints; Q1: P2 deal_registered 02-10
    "active_partner_rate": (1.0, 0.5),  # of P1, P2 (P3 terminated); in Q1 P1 had nothing
    "activation_rate": (1.0, 0.0),  # P2 joined 2026-02-01, won O2 on 06-10 (129 days); by 03-31 nothing
    "median_days_to_first_win": (129, None),
    "sourced_pipeline": (3000, 0),  # created in Q2 and sourced: O1 1000 (P1), O3 2000 (P2)
    "sourced_revenue": (1000, 0),  # O1
    "influenced_revenue": (3000, 0),  # O2: touched by P1 and P2, not sourced
    "partner_revenue_share": (4000 / 9000, 0.0),  # won in Q2: O1 1000 + O2 3000 + O6 5000 (direct)
    "win_rate": (3 / 5, 1.0),  # Q2 closed: O1, O2, O6 won; O3, O7 lost. Q1: O5 won
    "avg_deal_size": (3000, 4000),  # (1000 + 3000 + 5000) / 3; Q1 O5 4000
    "median_cycle_days": (44, 46),  # O1 44, O2 101, O6 20 days; O5 46
    "cost_of_channel": (250 / 4000, None),  # payouts PO1 100 + PO2 150 over linear credit 1000 + 1500 + 1500
    "partner_roi": (4000 / 250, None),  # Q1 has neither payouts nor credit
    "registration_approval_rate": (0.5, 0.0),  # Q2 decided: R1 approved, R4 rejected (R3 pending); Q1 R2 rejected
    "registration_days_to_decision": (5, 2),  # R1 3 days, R4 7 days; R2 2 days
    "registration_conflict_rate": (2 / 3, 0.0),  # R1 and R3 both claim O1
    "tier_registered": (0, 0),  # P3 is registered but terminated
    "tier_silver": (1, 1),
    "tier_gold": (1, 1),
    "tier_platinum": (0, 0),
}


@pytest.mark.parametrize("kpi", list(EXPECTED))
def test_each_kpi_matches_the_hand_worked_value_and_previous_period(health_db: Path, kpi: str):
    row = kpis(health_db)[kpi]
    value, previous = EXPECTED[kpi]
    assert close(row["value"], value), (kpi, row["value"], value)
    assert close(row["previous_value"], previous), (kpi, row["previous_value"], previous)
    assert row["needs"] is None
    assert row["definition"] and row["label"]


def test_win_rate_deal_size_and_cycle_split_partner_vs_direct(health_db: Path):
    rows = kpis(health_db)
    assert close(rows["win_rate"]["partner_value"], 2 / 3)  # O1, O2 won, O3 lost
    assert close(rows["win_rate"]["direct_value"], 1 / 2)  # O6 won, O7 lost
    assert close(rows["avg_deal_size"]["partner_value"], 2000)
    assert close(rows["avg_deal_size"]["direct_value"], 5000)
    assert close(rows["median_cycle_days"]["partner_value"], 72.5)
    assert close(rows["median_cycle_days"]["direct_value"], 20)
    assert rows["win_rate"]["previous_partner_value"] is None  # Q1 had no partner deal closed
    assert close(rows["win_rate"]["previous_direct_value"], 1.0)


def test_the_region_filter_keeps_deals_and_partners_of_that_region(health_db: Path):
    rows = kpis(health_db, regions=["EMEA"])
    assert close(rows["win_rate"]["value"], 1.0)  # only O1 is an EMEA deal
    assert close(rows["influenced_revenue"]["value"], 0)
    assert close(rows["partner_revenue_share"]["value"], 1.0)
    assert close(rows["active_partners"]["value"], 1)  # P1 is the only EMEA partner


def test_the_attribution_model_changes_cost_of_channel(health_db: Path):
    rows = kpis(health_db, model="crm_sourced")
    assert close(rows["cost_of_channel"]["value"], 250 / 1000)  # only O1 has a CRM sourced partner


def test_kpis_that_need_an_absent_extract_say_which(tmp_path: Path):
    files = {name: text for name, text in HEALTH.items() if name not in ("payouts.csv", "deal_registrations.csv")}
    db = tmp_path / "partial.duckdb"
    build_database(write_extracts(tmp_path / "partial", files), db)
    rows = kpis(db)
    assert rows["cost_of_channel"]["value"] is None
    assert rows["cost_of_channel"]["needs"] == "payouts"
    assert rows["registration_approval_rate"]["needs"] == "deal_registrations"
    assert close(rows["sourced_revenue"]["value"], 1000)  # O1 still sourced by P1 in the CRM
    assert rows["sourced_revenue"]["needs"] is None


def test_breakdown_by_tier_gives_each_tier_its_partners_deals(health_db: Path):
    frame = queries.execute(queries.connect(health_db), "kpi_breakdown", **Q2, dimension="tier")
    gold = frame.filter(pl.col("tier") == "gold").row(0, named=True)
    silver = frame.filter(pl.col("tier") == "silver").row(0, named=True)
    assert close(gold["win_rate"], 1.0)  # P1: O1, O2 won
    assert close(silver["win_rate"], 0.5)  # P2: O2 won, O3 lost
    assert close(silver["sourced_pipeline"], 2000)
    assert close(gold["cost_of_channel"], 250 / 2500)


def test_breakdown_refuses_an_unknown_dimension(health_db: Path):
    with pytest.raises(ValueError, match="dimension"):
        queries.execute(queries.connect(health_db), "kpi_breakdown", **Q2, dimension="1; drop table partners")


def test_trend_has_one_row_per_quarter_and_kpi_and_ends_with_the_period(health_db: Path):
    trend = queries.execute(queries.connect(health_db), "kpi_trend_by_quarter", **Q2, quarters=4)
    quarters = trend.filter(pl.col("kpi") == "win_rate")
    assert quarters["fiscal_quarter"].to_list() == ["FY2025 Q3", "FY2025 Q4", "FY2026 Q1", "FY2026 Q2"]
    assert close(quarters["value"][-1], 3 / 5)
    assert close(quarters["direct_value"][-1], 1 / 2)


def test_the_maven_crm_export_computes_deal_kpis_and_names_the_missing_extracts(tmp_path: Path):
    folder = SHARED_DATA / "maven-crm"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    db = tmp_path / "maven.duckdb"
    build_database(folder, db, settings=load_settings(PROJECT / "examples" / "maven-crm.toml"))
    rows = kpis(db, start_date=date(2017, 1, 1), end_date=date(2017, 3, 31))
    assert 0 < rows["win_rate"]["value"] < 1
    assert rows["avg_deal_size"]["value"] > 0
    assert rows["sourced_revenue"]["value"] is None and rows["sourced_revenue"]["needs"] == "partners"
    assert "payouts" in rows["cost_of_channel"]["needs"]


def test_the_command_line_export_gives_the_numbers_on_the_cards(health_db: Path, tmp_path: Path):
    out = tmp_path / "kpis.csv"
    code = queries_cli(
        [
            "export",
            "program_kpis",
            "--db",
            str(health_db),
            "--param",
            "start_date=2026-04-01",
            "--param",
            "end_date=2026-06-30",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    exported = pl.read_csv(out)
    at = open_page("health")  # default period: this fiscal quarter, FY2026 Q2
    assert not at.exception, at.exception
    cards = {metric.label: metric.value for metric in at.metric}
    for row in exported.iter_rows(named=True):
        assert cards[row["label"]] == format_value(row["value"], row["unit"]), row["kpi"]


def test_a_region_in_the_url_changes_the_cards(health_db: Path):
    everything = {m.label: m.value for m in open_page("health").metric}
    emea_page = open_page("health", {"region": "EMEA"})
    assert not emea_page.exception, emea_page.exception
    emea = {m.label: m.value for m in emea_page.metric}
    assert everything["Partner-influenced revenue"] == "$3.0k"
    assert emea["Partner-influenced revenue"] == "$0"
    assert everything["Win rate"] == "60%" and emea["Win rate"] == "100%"


def test_a_period_in_the_url_changes_the_cards(health_db: Path):
    last_quarter = {m.label: m.value for m in open_page("health", {"period": "Last fiscal quarter"}).metric}
    assert last_quarter["Win rate"] == "100%"  # FY2026 Q1: O5 won
    assert last_quarter["Deal size"] == "$4.0k"
