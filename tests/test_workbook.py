"""The scenario workbook: read back with openpyxl, every sheet's totals equal the exports
(attribution_credit, attribution_won_revenue, attribution_payouts_by_quarter) and the Attribution
page's tables; numbers are numbers with currency and percent formats; text that looks like a
formula stays text; the command line writes it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

import queries
import state
from loaders.build import build_database
from queries import workbook
from queries.partner import statement
from tests.conftest import PROJECT, TINY, open_page, open_tab, write_extracts

SCENARIOS = [
    {"model": "linear"},
    {"model": "time_decay", "half_life_days": 14, "booking_basis": "touch_date"},
    {"model": "last_touch", "rates": [{"tier": "gold", "rate": 0.2}, {"rate": 0.05}]},
]


def run_on(db: Path):
    con = queries.connect(db)
    return con, (lambda name, **params: queries.execute(con, name, **params))


def sheet_table(sheet) -> tuple[list[str], list[tuple], tuple | None]:
    """A sheet's header, data rows (down to the first empty row) and its Total row."""
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    data = []
    for row in rows[1:]:
        if all(value is None for value in row):
            break
        data.append(row)
    total = next((row for row in rows if row[0] == "Total (all rows)"), None)
    return header, data, total


def column_sum(data: list[tuple], index: int) -> float:
    return round(sum(row[index] or 0 for row in data), 2)


@pytest.fixture(scope="module")
def demo_book(demo_db_path: Path) -> tuple[workbook.Scenarios, openpyxl.Workbook, Path]:
    con, run = run_on(demo_db_path)
    start, end = con.sql("select min(close_date), max(close_date) from opportunities").fetchall()[0]
    book = workbook.gather(run, SCENARIOS, ("A", "C"), start, end)
    return book, openpyxl.load_workbook(io.BytesIO(workbook.scenario_workbook(book))), demo_db_path


def test_the_workbook_has_one_sheet_per_view_with_a_frozen_header_and_a_filter(demo_book):
    _, xlsx, _ = demo_book
    assert xlsx.sheetnames == [
        "Summary",
        "By partner",
        "By partner type & tier",
        "By fiscal quarter",
        "Moves between two scenarios",
        "Payout liability",
        "Commission plans",
    ]
    for sheet in xlsx.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        widths = [sheet.column_dimensions[letter].width for letter in "ABC"]
        assert all(width and width >= workbook.MIN_WIDTH for width in widths), sheet.title


def test_the_summary_reconciles_each_scenario_to_the_exports(demo_book):
    book, xlsx, db = demo_book
    con, _ = run_on(db)
    header, data, _ = sheet_table(xlsx["Summary"])
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in data}
    won = float(
        queries.execute(con, "attribution_won_revenue", start_date=book.start_date, end_date=book.end_date)["won_revenue"][0]
    )
    for letter, spec in book.specs.items():
        export = queries.execute(
            con,
            "attribution_credit",
            model=spec["model"],
            booking_basis=spec["booking_basis"],
            half_life_days=spec.get("half_life_days") or 30,
        )
        export = export.filter(pl.col("close_date").is_between(book.start_date, book.end_date))
        row = rows[letter]
        assert row["Won revenue"] == won
        assert row["Credited"] == round(float(export["credit"].cast(pl.Float64).sum()), 2), letter
        assert row["Not credited (direct)"] == round(won - row["Credited"], 2)
        assert row["Payout liability"] == round(float(book.frames[letter]["liability"].sum()), 2)
    assert rows["B"]["Half-life (days)"] == 14 and rows["B"]["Booking basis"] == "revenue booked at each touch's date"
    assert rows["A"]["Half-life (days)"] is None and rows["A"]["Lookback (days)"] == 365
    assert rows["C"]["Commission plan"] == "what-if rates: tier gold 20%; anything else 5%"
    assert rows["A"]["Commission plan"].startswith("the settings' plan: tier registered 5%; tier silver 8%")


@pytest.mark.parametrize("sheet", ["By partner", "By partner type & tier", "By fiscal quarter"])
def test_every_rollup_sheet_totals_to_the_summary_for_every_scenario(demo_book, sheet: str):
    _, xlsx, _ = demo_book
    _, summary, _ = sheet_table(xlsx["Summary"])
    header, data, total = sheet_table(xlsx[sheet])
    for row in summary:
        letter, credited, liability = row[0], row[11], row[13]
        credit_at = header.index(f"Credit, {letter}: {row[1]}")
        liability_at = header.index(f"Liability, {letter}: {row[1]}")
        assert column_sum(data, credit_at) == total[credit_at] == credited, (sheet, letter)
        assert column_sum(data, liability_at) == total[liability_at] == liability, (sheet, letter)


def test_by_partner_is_the_credit_export_per_partner(demo_book):
    book, xlsx, db = demo_book
    con, _ = run_on(db)
    header, data, _ = sheet_table(xlsx["By partner"])
    export = queries.execute(con, "attribution_credit", model="linear").filter(
        pl.col("close_date").is_between(book.start_date, book.end_date)
    )
    expected = {
        p: round(float(c), 2) for p, c in export.group_by("partner_id").agg(pl.col("credit").cast(pl.Float64).sum()).iter_rows()
    }
    shown = {row[0]: row[header.index("Credit, A: linear")] for row in data if row[header.index("Credit, A: linear")]}
    assert shown == expected


def test_the_moves_add_up_to_each_partners_change_between_the_two_scenarios_compared(demo_book):
    _, xlsx, _ = demo_book
    header, data, total = sheet_table(xlsx["Moves between two scenarios"])
    assert header == [
        "From partner id",
        "From partner",
        "From quarter",
        "To partner id",
        "To partner",
        "To quarter",
        "Credit moved",
        "Deals",
    ]
    assert total[6] == column_sum(data, 6) > 0
    net: dict[str | None, float] = {}
    for row in data:
        net[row[0]] = net.get(row[0], 0.0) - row[6]
        net[row[3]] = net.get(row[3], 0.0) + row[6]
    by_partner_header, partners, _ = sheet_table(xlsx["By partner"])
    a = by_partner_header.index("Credit, A: linear")
    c = next(i for i, name in enumerate(by_partner_header) if name.startswith("Credit, C:"))
    change = {row[0]: round((row[c] or 0) - (row[a] or 0), 2) for row in partners}
    assert {p: round(v, 2) for p, v in net.items() if p is not None and round(v, 2)} == {p: v for p, v in change.items() if v}
    # What partners gain in all is what the revenue no partner is credited with loses (both credit every won deal's revenue).
    assert round(net.get(None, 0.0), 2) == 0.0


def test_payout_liability_holds_the_payouts_by_status_and_each_scenarios_liability(demo_book):
    book, xlsx, db = demo_book
    con, _ = run_on(db)
    header, data, total = sheet_table(xlsx["Payout liability"])
    payouts = queries.execute(con, "attribution_payouts_by_quarter", start_date=book.start_date, end_date=book.end_date)
    for status in statement.STATUSES:
        at = header.index(f"Payouts {status.replace('_', ' ')}")
        assert total[at] == column_sum(data, at) == round(float(payouts[status].cast(pl.Float64).sum()), 2), status
    _, summary, _ = sheet_table(xlsx["Summary"])
    for row in summary:
        assert total[header.index(f"Owed, {row[0]}: {row[1]}")] == row[13]


def test_money_is_a_number_in_the_currency_format_and_rates_are_percentages(demo_book):
    _, xlsx, _ = demo_book
    summary = xlsx["Summary"]
    assert (
        isinstance(summary["L2"].value, float)
        and "$" in summary["L2"].number_format
        and "#,##0.00" in summary["L2"].number_format
    )
    plans = xlsx["Commission plans"]
    assert plans["E2"].value == 0.05 and "%" in plans["E2"].number_format  # the settings' first rule: registered 5%
    dated = next(row for row in summary.iter_rows() if row[0].value == "Data as of")
    assert dated[1].is_date and dated[1].value.date() == date(2026, 11, 20)


def test_the_workbook_is_named_after_the_scenarios_and_the_date(demo_book):
    book, _, _ = demo_book
    assert workbook.file_name(book) == (
        f"scenarios_linear_vs_time-decay-half-life-14d-booked-at-touch_vs_last-touch-what-if-rates_{date.today():%Y-%m-%d}.xlsx"
    )


# ---- text that looks like a formula ----

FORMULA_NAMES = {
    **TINY,
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at,region,country,partner_manager,status
        P1,"=HYPERLINK(""http://evil.example"",""click"")",referral;reseller,gold,2025-01-15,EMEA,DE,@SUM(A1),active
        P2,+1+1,integration,silver,2026-02-01,NA,US,-2+3,active
        P3,Cobalt Consulting,services,registered,2024-06-01,NA,CA,Sam Reed,terminated
    """,
    "opportunities.csv": TINY["opportunities.csv"].replace("Alpha GmbH", "=1+1"),
}


@pytest.fixture(scope="module")
def formula_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formulas")
    build_database(write_extracts(folder / "x", FORMULA_NAMES), folder / "f.duckdb")
    return folder / "f.duckdb"


def formula_cells(data: bytes) -> list[str]:
    """Every cell of the file that is a formula (an <f> element in a sheet's XML)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [name for name in archive.namelist() if name.startswith("xl/worksheets/") and b"<f>" in archive.read(name)]


def test_a_text_cell_starting_with_equals_stays_text_in_both_workbooks(formula_db: Path):
    _, run = run_on(formula_db)
    scenarios = workbook.scenario_workbook(
        workbook.gather(run, [{"model": "linear"}, {"model": "first_touch"}], ("A", "B"), date(2026, 1, 1), date(2026, 6, 30))
    )
    doc = statement.gather(run, "P1", date(2026, 4, 1), date(2026, 6, 30))
    statements = workbook.statement_workbook(doc)
    assert formula_cells(scenarios) == [] and formula_cells(statements) == []
    by_partner = openpyxl.load_workbook(io.BytesIO(scenarios))["By partner"]
    names = {row[0].value: row[1] for row in by_partner.iter_rows(min_row=2) if row[0].value in ("P1", "P2")}
    assert names["P1"].value == '=HYPERLINK("http://evil.example","click")' and names["P1"].data_type == "s"
    assert names["P2"].value == "+1+1" and names["P2"].data_type == "s"
    book = openpyxl.load_workbook(io.BytesIO(statements))
    items = {row[0].value: row[1] for row in book["Statement"].iter_rows(min_row=2)}
    assert items["Partner"].value.startswith("=HYPERLINK(") and items["Partner"].data_type == "s"
    assert items["Partner manager"].value == "@SUM(A1)" and items["Partner manager"].data_type == "s"
    account = book["Deals"]["B2"]
    assert (account.value, account.data_type) == ("=1+1", "s")


# ---- the command line and the page ----


def cli(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "queries", "workbook", *args]
    return subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=180)  # noqa: S603


def test_the_command_line_writes_the_workbook_and_names_it_when_given_a_folder(tiny_db: Path, tmp_path: Path):
    scenarios = json.dumps([{"model": "first_touch"}, {"model": "last_touch"}])
    done = cli(
        "--db",
        str(tiny_db),
        "--scenarios",
        scenarios,
        "--out",
        str(tmp_path / "board.xlsx"),
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
    )
    assert done.returncode == 0, done.stderr
    summary = openpyxl.load_workbook(tmp_path / "board.xlsx")["Summary"]
    # Won 2026-01-01..06-30: O1 1000, O2 3000, O5 4000 (no touch: not credited). First touch: O1 and O2 to Acme
    # (gold 10%): 400. Last touch: O1 to Acme (100), O2 to Beacon (silver 8%: 240): 340.
    assert [row[10:14] for row in summary.iter_rows(min_row=2, max_row=3, values_only=True)] == [
        (8000, 4000, 4000, 400),
        (8000, 4000, 4000, 340),
    ]
    (tmp_path / "scenarios.json").write_text(scenarios, encoding="utf-8")
    named = cli("--db", str(tiny_db), "--scenarios", str(tmp_path / "scenarios.json"), "--out", str(tmp_path))
    assert named.returncode == 0, named.stderr
    assert (tmp_path / f"scenarios_first-touch_vs_last-touch_{date.today():%Y-%m-%d}.xlsx").exists()


def test_the_command_line_refuses_one_scenario_and_an_unknown_model_clearly(tiny_db: Path, tmp_path: Path):
    one = cli("--db", str(tiny_db), "--scenarios", '[{"model": "linear"}]', "--out", str(tmp_path / "x.xlsx"))
    assert one.returncode == 1 and "give 2 to 4 scenarios" in one.stderr
    odd = cli(
        "--db", str(tiny_db), "--scenarios", '[{"model": "linear"}, {"model": "astrology"}]', "--out", str(tmp_path / "x.xlsx")
    )
    assert odd.returncode == 1 and "unknown attribution model 'astrology'" in odd.stderr
    assert not (tmp_path / "x.xlsx").exists()


def test_the_attribution_page_offers_the_workbook_and_shows_where_credit_moves(tiny_db: Path):
    scenarios = json.dumps([{"model": "first_touch"}, {"model": "last_touch"}])
    at = open_page("attribution", query={"period": "All time", "scenarios": scenarios})
    assert not at.exception, at.exception
    assert "Download the scenario workbook (Excel)" in [button.label for button in at.get("download_button")]
    at = open_tab(at, state.ATTRIBUTION_VIEW, "Compare two")
    moves = next(table.value for table in at.dataframe if "from_partner_id" in table.value.columns)
    # O2 (3000): first touch credits Acme (P1, April), last touch Beacon (P2, May): all of it moves.
    assert moves[["from_partner_id", "to_partner_id", "credit"]].values.tolist() == [["P1", "P2", 3000.0]]


def test_moves_between_a_sourced_model_and_a_touch_model_pass_through_the_direct_remainder(tiny_db: Path):
    con, _ = run_on(tiny_db)
    moves = queries.execute(con, "attribution_moves", scenario_a='{"model": "linear"}', scenario_b='{"model": "crm_sourced"}')
    # linear: O1 all P1, O2 half P1 half P2; crm_sourced: O1 to P1, O2 (no sourced partner) to nobody.
    assert moves.select("from_partner_id", "to_partner_id", "to_partner_name", "credit").rows() == [
        ("P1", None, "Not credited (direct)", 1500.0),
        ("P2", None, "Not credited (direct)", 1500.0),
    ]
    same = queries.execute(con, "attribution_moves", scenario_a='{"model": "linear"}', scenario_b='{"model": "linear"}')
    assert same.is_empty()


def test_the_workbook_compares_the_pair_chosen_in_compare_two_after_that_tab_is_closed(
    tiny_db: Path, monkeypatch: pytest.MonkeyPatch
):
    from streamlit.runtime.media_file_manager import MediaFileManager

    made: dict[str, object] = {}
    offer = MediaFileManager.add_deferred

    def recording(self, data_callable, mimetype, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if mimetype == workbook.XLSX:
            made["xlsx"] = data_callable
        return offer(self, data_callable, mimetype, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)
    scenarios = json.dumps([{"model": "first_touch"}, {"model": "last_touch"}, {"model": "linear"}])
    at = open_page("attribution", query={"period": "All time", "scenarios": scenarios})
    at = open_tab(at, state.ATTRIBUTION_VIEW, "Compare two")
    at.selectbox(key=state.ATTRIBUTION_A).set_value("B")
    at.selectbox(key=state.ATTRIBUTION_B).set_value("C")
    at = open_tab(at.run(), state.ATTRIBUTION_VIEW, "By partner")  # "Compare two" closed: its widgets are not drawn
    assert not at.exception, at.exception
    _, data, _ = sheet_table(openpyxl.load_workbook(io.BytesIO(made["xlsx"]()))["Moves between two scenarios"])
    # O2 (3000): last touch (B) gives it all to Beacon (P2), linear (C) half to each: 1500 moves P2 -> P1.
    assert [(row[0], row[3], row[6]) for row in data] == [("P2", "P1", 1500)]
