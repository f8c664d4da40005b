"""Partner statements: exact lines on a hand-built program, both sides of the payment terms, whole
cents that add up to the Attribution page, the Statement page as the roles see it, the Excel
file and the command line.

The program is the tiny one (conftest.TINY, as of 2026-06-20, FY2026 Q2 = April to June) with
more payouts and one more deal for Acme Partners (P1, gold, 10% under the default plan):
- O1 (1000, closed 2026-05-15): only P1 touched it; linear credit 1000, commission 100;
  PO1 paid 100 for it on 2026-06-15, and PO3 (approved, June) repeats PO1: a duplicate payout.
- O2 (3000, closed 2026-06-10): P1 and Beacon (P2) touched it; P1's linear credit 1500,
  commission 150; PO2 (150, accrued) is recorded, not paid, so 150 is owed, due 60 days
  after close: 2026-08-09.
- O6 (500, closed 2026-05-01, no touches): the CRM says P1 sourced it, but Beacon's approved
  registration came first: a disagreement that involves P1 as the other party.
- PO4: a 40 spiff to P1, clawed back (April).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import queries
from loaders.build import build_database
from queries import workbook
from queries.attribution import scenarios
from queries.partner import statement
from settings import CommissionPlan, Settings
from tests.conftest import PROJECT, TINY, open_page, write_extracts

Q2 = (date(2026, 4, 1), date(2026, 6, 30))
FILES = {
    **TINY,
    "opportunities.csv": TINY["opportunities.csv"].rstrip()
    + "\n        O6,500,Closed Won,2026-03-01,2026-05-01,true,true,closed,P1,EMEA,Foxtrot SA\n",
    "deal_registrations.csv": TINY["deal_registrations.csv"].rstrip()
    + "\n        R3,P2,2026-03-02 10:00:00,approved,O6,sourced,2026-03-03 10:00:00\n",
    "payouts.csv": """
        payout_id,partner_id,amount,payout_type,period,opportunity_id,status,paid_at
        PO1,P1,100,commission,2026-05-01,O1,paid,2026-06-15
        PO2,P1,150,commission,2026-06-01,O2,accrued,
        PO3,P1,100,commission,2026-06-01,O1,approved,
        PO4,P1,40,spiff,2026-04-01,,clawed_back,
    """,
}


def build(folder: Path, terms_days: int = 60, files: dict[str, str] = FILES) -> Path:
    db = folder / "statement.duckdb"
    settings = Settings(commission_plan=CommissionPlan(payment_terms_days=terms_days))
    build_database(write_extracts(folder / "extracts", files), db, settings=settings)
    return db


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("statement"))


@pytest.fixture
def served(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PULSE_DB", str(db_path))
    return db_path


def gather(db: Path, partner: str = "P1", period: tuple[date, date] = Q2) -> statement.Statement:
    con = queries.connect(db)
    doc = statement.gather(lambda name, **params: queries.execute(con, name, **params), partner, *period)
    assert doc is not None
    return doc


def test_a_statement_lists_each_credited_deal_with_its_commission_and_what_is_owed(db_path: Path):
    doc = gather(db_path)
    assert doc.deals.rows() == [
        # deal, account, close, quarter, revenue, weight, credit, rate, commission, paid, owed, due, status
        (
            "O1",
            "Alpha GmbH",
            date(2026, 5, 15),
            "FY2026 Q2",
            1000.0,
            1.0,
            1000.0,
            0.10,
            100.0,
            100.0,
            0.0,
            date(2026, 7, 14),
            "paid",
        ),
        (
            "O2",
            "Bravo Inc",
            date(2026, 6, 10),
            "FY2026 Q2",
            3000.0,
            0.5,
            1500.0,
            0.10,
            150.0,
            0.0,
            150.0,
            date(2026, 8, 9),
            "not yet due",
        ),
    ]
    totals = doc.totals
    assert (totals["credit"], totals["commission"], totals["paid"], totals["owed"], totals["overdue"]) == (2500, 250, 100, 150, 0)
    assert totals["next_due"] == date(2026, 8, 9)
    assert doc.owed()["opportunity_id"].to_list() == ["O2"]


def test_payouts_of_the_period_are_shown_by_every_status(db_path: Path):
    doc = gather(db_path)
    assert doc.payouts["payout_id"].to_list() == ["PO4", "PO1", "PO2", "PO3"]  # by period
    assert doc.by_status().rows() == [("accrued", 1, 150.0), ("approved", 1, 100.0), ("paid", 1, 100.0), ("clawed back", 1, 40.0)]
    # An approved or accrued payout is not paid: O1's duplicate (approved) does not count as paid, O2's accrual neither.
    assert doc.deals["paid"].to_list() == [100.0, 0.0]


def test_open_disagreements_name_the_partner_on_either_side_in_plain_words(db_path: Path):
    doc = gather(db_path)
    rows = {row["kind"]: row for row in doc.disagreements.iter_rows(named=True)}
    assert set(rows) == {"duplicate_payout", "crm_vs_registration"}
    assert rows["duplicate_payout"]["amount_at_stake"] == 100.0 and rows["duplicate_payout"]["partner_id"] == "P1"
    assert rows["crm_vs_registration"]["other_partner_id"] == "P1" and rows["crm_vs_registration"]["amount_at_stake"] == 500.0
    assert rows["crm_vs_registration"]["detail"].startswith("Deal O6 (won, $500) is sourced to Acme Partners in the CRM")
    assert rows["duplicate_payout"]["kind_label"] == "Duplicate payout"
    assert doc.totals["at_stake"] == 600.0
    # Beacon's statement carries the O6 disagreement too (it is the registrant), not P1's duplicate payout.
    assert gather(db_path, "P2").disagreements["kind"].to_list() == ["crm_vs_registration"]


@pytest.mark.parametrize(("terms_days", "status", "overdue"), [(10, "not yet due", 0.0), (9, "overdue", 150.0)])
def test_commission_is_overdue_only_once_its_due_day_is_before_the_data_date(tmp_path: Path, terms_days, status, overdue):
    # O2 closed 2026-06-10 and the data runs to 2026-06-20: due on the data's day is not overdue yet, a day earlier is.
    doc = gather(build(tmp_path, terms_days))
    o2 = doc.deals.row(1, named=True)
    assert (o2["due_date"], o2["status"]) == (date(2026, 6, 10 + terms_days), status)
    assert doc.totals["overdue"] == overdue


@pytest.mark.parametrize(("paid", "status"), [("149.00", "paid within tolerance"), ("148.49", "not yet due")])
def test_a_payout_a_little_short_of_the_commission_settles_it_within_the_plans_tolerance(tmp_path: Path, paid, status):
    # O2's commission is 150: the default tolerance is 1% of it, at least 1, so 1.50. Owed stays exact either way.
    files = {
        **FILES,
        "payouts.csv": FILES["payouts.csv"].rstrip() + f"\n        PO5,P1,{paid},commission,2026-06-01,O2,paid,2026-06-18\n",
    }
    o2 = gather(build(tmp_path, files=files)).deals.row(1, named=True)
    assert (o2["paid"], o2["owed"], o2["status"]) == (float(paid), round(150 - float(paid), 2), status)


def test_a_period_without_credited_deals_gives_an_empty_statement_not_an_error(db_path: Path):
    doc = gather(db_path, period=(date(2026, 1, 1), date(2026, 3, 31)))
    assert doc.deals.is_empty() and doc.payouts.is_empty()
    assert doc.totals["commission"] == 0.0 and doc.by_status()["amount"].to_list() == [0.0] * 4
    assert gather(db_path, "P3").deals.is_empty()


def test_an_unknown_partner_has_no_statement(db_path: Path):
    con = queries.connect(db_path)
    assert statement.gather(lambda name, **params: queries.execute(con, name, **params), "NOBODY") is None


@given(
    st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=30), st.sampled_from([0.05, 0.08, 0.125, 1 / 3])
)
def test_a_quarters_commission_cents_add_up_to_its_rounded_total_and_each_is_within_a_cent(credit_cents, rate):
    exact = [c / 100 * rate for c in credit_cents]
    lines = pl.DataFrame(
        {"opportunity_id": [f"O{i:03d}" for i in range(len(exact))], "fiscal_quarter": "FY2026 Q2", "exact": exact}
    )
    target = round(sum(exact), 2)
    cents = statement.whole_cents(lines, pl.DataFrame({"fiscal_quarter": ["FY2026 Q2"], "target": [target]}))
    assert round(cents["commission"].sum(), 2) == target
    assert all(abs(c - e) < 0.01 + 1e-9 for c, e in zip(cents["commission"], exact, strict=True))


def test_a_statement_adds_up_to_the_attribution_page_and_partner_360_to_the_cent(demo_db_path: Path):
    """On the demo program, for its ten busiest partners over all time: credit and commission are the
    Attribution page's for the plan's scenario, and the payouts are Partner 360's."""
    con = queries.connect(demo_db_path)
    start, end = con.sql("select min(close_date), max(close_date) from opportunities").fetchall()[0]
    page = scenarios.rollup(
        queries.execute(con, "attribution_scenario", scenario=json.dumps({"model": "linear"}), start_date=start, end_date=end),
        "partner",
    )
    busiest = page.sort("credit", descending=True).head(10)
    run = lambda name, **params: queries.execute(con, name, **params)  # noqa: E731
    for partner_id, credit, liability in busiest.select("partner_id", "credit", "liability").iter_rows():
        doc = statement.gather(run, partner_id, start, end)
        assert (doc.totals["credit"], doc.totals["commission"]) == (credit, liability), partner_id
        assert round(float(doc.deals["commission"].sum()), 2) == liability
        payouts = queries.execute(con, "partner_payouts", partner_id=partner_id).filter(pl.col("period").is_between(start, end))
        assert round(float(payouts["amount"].cast(pl.Float64).sum()), 2) == round(float(doc.by_status()["amount"].sum()), 2)
        ledger = queries.execute(con, "attribution_disagreements")
        mine = ledger.filter((pl.col("partner_id") == partner_id) | (pl.col("other_partner_id") == partner_id))
        assert doc.totals["at_stake"] == round(float(mine["amount_at_stake"].cast(pl.Float64).sum()), 2)


# ---- the Excel file and the command line ----


def test_the_statement_workbook_holds_every_table_with_its_totals(db_path: Path):
    doc = gather(db_path)
    book = openpyxl.load_workbook(io.BytesIO(workbook.statement_workbook(doc)))
    assert book.sheetnames == ["Statement", "Deals", "Payouts", "Payouts by status", "Disagreements"]
    items = {row[0]: row[1] for row in book["Statement"].iter_rows(min_row=2, values_only=True)}
    assert items["Partner"] == "Acme Partners" and items["Commission"] == 250 and items["Owed"] == 150
    assert items["Payouts clawed back in the period"] == 40 and items["Payment terms (days after close)"] == 60
    deals = book["Deals"]
    header = [cell.value for cell in deals[1]]
    assert header[:8] == ["Deal", "Account", "Close date", "Quarter", "Revenue", "Weight", "Credit", "Rate"]
    total = next(row for row in deals.iter_rows(values_only=True) if row[0] == "Total (all rows)")
    assert total[header.index("Commission")] == 250 and total[header.index("Owed")] == 150
    assert deals["F3"].value == 0.5 and "%" in deals["F3"].number_format and "$" in deals["I3"].number_format
    assert deals.freeze_panes == "A2" and deals.auto_filter.ref == "A1:M3"


def test_the_command_line_writes_a_statement_folder_and_refuses_an_unknown_partner(db_path: Path, tmp_path: Path):
    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "queries", "statement", "--db", str(db_path), *args]
        return subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=120)  # noqa: S603

    done = cli("--partner", "P1", "--from", "2026-04-01", "--to", "2026-06-30", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    stem = "statement_P1_2026-04-01_2026-06-30"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [f"{stem}.xlsx", f"{stem}_deals.csv", f"{stem}_payouts.csv", f"{stem}_disagreements.csv"]
    )
    deals = pl.read_csv(tmp_path / "out" / f"{stem}_deals.csv")
    assert deals["commission"].to_list() == [100.0, 150.0]
    # No dates: the fiscal quarter of the data (2026-06-20), the app's default period.
    assert cli("--partner", "P1", "--out", str(tmp_path / "default")).returncode == 0
    assert (tmp_path / "default" / f"{stem}.xlsx").exists()
    refused = cli("--partner", "NOBODY", "--out", str(tmp_path / "none"))
    assert refused.returncode == 2 and "no partner with id 'NOBODY'" in refused.stderr


# ---- the page ----


def test_the_statement_page_opened_by_link_shows_the_partners_numbers(served: Path):
    at = open_page("statement", query={"partner": "P1"})
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric} == {
        "Credit": "$2,500.00",
        "Commission": "$250.00",
        "Paid": "$100.00",
        "Owed": "$150.00",
        "Of which overdue": "$0.00",
    }
    deals = at.table[0].value
    assert list(deals["Deal"]) == ["O1", "O2", "Total"] and list(deals["Commission"]) == ["$100.00", "$150.00", "$250.00"]
    assert list(deals["Weight"])[:2] == ["100%", "50%"]
    labels = [button.label for button in at.get("download_button")]
    assert labels == ["Excel", "CSV: deals", "CSV: payouts", "CSV: disagreements"]
    assert any("sourced to Acme Partners in the CRM" in value for value in at.table[-1].value["What the sources say"])


def test_the_statement_page_without_a_partner_asks_for_one(served: Path):
    at = open_page("statement")
    assert not at.exception
    assert any("Choose a partner" in info.value for info in at.info)
    at.selectbox(key="statement_partner").select("P2").run()
    assert at.query_params["partner"] in ("P2", ["P2"])
    assert [m.value for m in at.metric][:2] == ["$1,500.00", "$120.00"]  # O2 for Beacon: half of 3000, silver 8%


def test_partner_360_links_to_the_statement_of_the_same_partner_and_period(served: Path):
    at = open_page("partner", query={"partner": "P1", "period": "Last 4 fiscal quarters"})
    assert not at.exception
    link = next(element.proto for element in at.get("page_link") if element.proto.page == "statement")
    assert "partner=P1" in link.query_string and "period=Last+4+fiscal+quarters" in link.query_string


def test_a_link_to_an_unknown_partner_says_so_and_asks_for_one(served: Path):
    at = open_page("statement", query={"partner": "NOBODY"})
    assert not at.exception
    assert any("partner NOBODY, which the loaded data does not have" in warning.value for warning in at.warning)
    assert not at.metric and any("Choose a partner" in info.value for info in at.info)
