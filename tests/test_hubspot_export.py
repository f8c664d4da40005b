"""A HubSpot "export all deals, all properties" file loads on the first try with the `hubspot`
preset: its dated download name, a few hundred columns, quoted names holding commas and
doubled quotes, repeated "Associated Company" columns, two pipelines whose stages mean
different things, each deal's own Is Closed Won / Is Deal Closed? and probability, and
HubSpot's column names in every message. Every row here is made up for the test."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from loaders.build import BuildRefused, build_database
from queries import execute
from tests.conftest import open_page
from tests.loading import LENIENT, counts, quarantined, query

NAME = "hubspot-crm-exports-all-deals-2024-08-27.csv"
STAGE_ENTERED = 'Date entered "Closed Lost (Pacific (CA, OR, WA))"'
COLUMNS = [
    "Record ID",
    "Deal Name",
    "Pipeline",
    "Deal Stage",
    "Amount",
    "Close Date",
    "Create Date",
    "Deal owner",
    "Is Closed Won",
    "Is Deal Closed?",
    "Deal probability",
    "Associated Company",
    "Associated Company IDs",
    STAGE_ENTERED,
    "Associated Company",
    "Associated Company IDs",
]
# id, name, pipeline, stage, amount, close, create, won, closed, probability
DEALS = [
    ("101", "Alpha, Inc.", "Pacific", "Contract Signed", "1000", "2024-05-10", "2024-03-01 09:00", "true", "true", "1"),
    ("102", 'Bravo "Big" deal', "Pacific", "Contract Signed", "2000", "2024-06-15", "2024-04-01 09:00", "true", "true", "1"),
    ("103", "Charlie", "Atlantic", "Contract Signed", "3000", "2024-09-30", "2024-05-01 09:00", "false", "false", "0.8"),
    ("104", "Delta", "Atlantic", "Closed Lost", "500", "2024-07-01", "2024-04-15 09:00", "false", "true", "0"),
    ("105", "Echo", "Pacific", "Closed Won", "1500", "2024-08-01", "2024-06-01 09:00", "true", "true", "1"),
    ("106", "Foxtrot", "Atlantic", "Appointment Scheduled", "700", "2024-10-31", "2024-08-01 09:00", "false", "false", "0.2"),
    ("107", "Golf", "Atlantic", "Appointment Scheduled", "900", "2024-11-30", "", "false", "false", "0.2"),
]
FILLER = 300  # HubSpot's "all properties" export runs to hundreds of columns


def export_text(columns: list[str] = COLUMNS, deals: list[tuple] = DEALS) -> str:
    """The export as HubSpot writes it: every field quoted, quotes in names doubled."""
    header = [*columns, *(f"Custom property {i:03d}" for i in range(FILLER))]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    for deal in deals:
        named = ["Record ID", "Deal Name", "Pipeline", "Deal Stage", "Amount", "Close Date", "Create Date"]
        known = dict(zip([*named, "Is Closed Won", "Is Deal Closed?", "Deal probability"], deal, strict=True))
        known |= {"Deal owner": "Sam Reed", "Associated Company": f"{deal[1]} Corp", "Associated Company IDs": f"9{deal[0]}"}
        known[STAGE_ENTERED] = "2024-07-01 10:00" if deal[3] == "Closed Lost" else ""
        row = [known.get(name, "") for name in columns]
        row += [f"value {deal[0]}-{i}" for i in range(FILLER)]
        writer.writerow(row)
    return out.getvalue()


@pytest.fixture(scope="module")
def export_db(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("hubspot") / "downloads"
    folder.mkdir()
    (folder / NAME).write_text(export_text(), encoding="utf-8")
    db = folder.parent / "pulse.duckdb"
    return build_database(folder, db, preset="hubspot"), db


def test_the_dated_wide_export_loads_on_the_first_try(export_db):
    report, db = export_db
    assert counts(report, "opportunities") == (7, 6, 1)
    row = report.filter(report["table_name"] == "opportunities").row(0, named=True)
    assert row["source_file"] == NAME
    # Every column is kept: the 16 named above (the repeated pair under numbered names) and the 300 others.
    columns = [c[0] for c in query(db, "select column_name from information_schema.columns where table_name = 'opportunities'")]
    assert STAGE_ENTERED in columns and "Associated Company (2)" in columns and "Associated Company IDs (2)" in columns
    assert sum(c.startswith("Custom property") for c in columns) == FILLER
    quoted = STAGE_ENTERED.replace('"', '""')
    assert query(db, f'select "{quoted}" from opportunities where opportunity_id = \'104\'') == [("2024-07-01 10:00",)]


def test_the_same_stage_label_keeps_its_meaning_in_each_pipeline(export_db):
    _, db = export_db
    assert query(
        db, "select opportunity_id, stage, is_closed, is_won, probability, amount from opportunities order by 1"
    ) == [
        ("101", "Contract Signed (Pacific)", True, True, 1.0, Decimal("1000.00")),
        ("102", "Contract Signed (Pacific)", True, True, 1.0, Decimal("2000.00")),
        ("103", "Contract Signed (Atlantic)", False, False, 0.8, Decimal("3000.00")),
        ("104", "Closed Lost", True, False, 0.0, Decimal("500.00")),
        ("105", "Closed Won", True, True, 1.0, Decimal("1500.00")),
        # HubSpot's default pipeline stage, mapped to the stage map's.
        ("106", "Qualification", False, False, 0.2, Decimal("700.00")),
    ]


def test_the_load_report_explains_pipelines_repeated_columns_and_new_stages_in_hubspots_words(export_db):
    report, _ = export_db
    row = report.filter(report["table_name"] == "opportunities").row(0, named=True)
    assert row["warnings"].splitlines()[1:] == [
        "columns repeated in the header row, kept under numbered names: 'Associated Company' also as "
        "'Associated Company (2)'; 'Associated Company IDs' also as 'Associated Company IDs (2)'",
        "stage labels that mean different things in different pipelines, kept apart as 'Label (Pipeline)': Contract Signed",
        "stages not in the stage map, loaded using their Is Deal Closed?/Is Closed Won: Contract Signed (Atlantic), "
        "Contract Signed (Pacific) (the settings snippet gives them an order and a probability)",
    ]
    assert row["settings_snippet"] == (
        '[stage_map."Contract Signed (Atlantic)"]\norder = 11\nprobability = 0.8\nis_closed = false\nis_won = false\n\n'
        '[stage_map."Contract Signed (Pacific)"]\norder = 12\nprobability = 1.0\nis_closed = true\nis_won = true'
    )
    assert quarantined(export_db[1], "opportunities") == [(NAME, 8, "Create Date is required")]


def test_win_rate_and_revenue_follow_hubspots_own_outcome_per_deal(export_db):
    _, db = export_db
    con = duckdb.connect(str(db), read_only=True)
    kpis = execute(con, "program_kpis", start_date=date(2024, 1, 1), end_date=date(2024, 12, 31))
    con.close()
    values = dict(zip(kpis["kpi"], kpis["value"], strict=True))
    # Won: 101, 102, 105; lost: 104. Contract Signed is won in Pacific only.
    assert values["win_rate"] == pytest.approx(3 / 4)
    assert query(db, "select sum(amount) from opportunities where is_won") == [(Decimal("4500.00"),)]


def test_a_missing_column_is_named_as_hubspot_names_it(tmp_path: Path):
    folder = tmp_path / "short"
    folder.mkdir()
    (folder / NAME).write_text(export_text([c for c in COLUMNS if c != "Create Date"]), encoding="utf-8")
    with pytest.raises(BuildRefused) as refused:
        build_database(folder, tmp_path / "a.duckdb", preset="hubspot")
    assert str(refused.value).startswith(
        f"{NAME}: missing required column 'Create Date' (the opportunities extract needs Record ID, Amount, "
        "Deal Stage, Create Date, Close Date; found Record ID, Deal Name, Pipeline, Deal Stage, Amount, Close Date, "
    )
    assert str(refused.value).endswith("... and 285 more)")


def test_a_repeated_column_the_preset_reads_is_refused_naming_both(tmp_path: Path):
    folder = tmp_path / "twice"
    folder.mkdir()
    (folder / NAME).write_text(export_text([*COLUMNS, "Amount"]), encoding="utf-8")
    with pytest.raises(BuildRefused) as refused:
        build_database(folder, tmp_path / "a.duckdb", preset="hubspot", settings=LENIENT)
    assert str(refused.value) == (
        f"{NAME}: column 'Amount' appears 2 times in the header row (columns 5 and 17) and the opportunities extract "
        "reads amount from it: which one holds the data is ambiguous"
    )


def test_a_folder_without_the_export_names_the_files_the_preset_looks_for(tmp_path: Path):
    folder = tmp_path / "wrong"
    folder.mkdir()
    (folder / "deals-export.csv").write_text("Record ID\n1\n", encoding="utf-8")
    with pytest.raises(BuildRefused) as refused:
        build_database(folder, tmp_path / "a.duckdb", preset="hubspot")
    assert str(refused.value) == (
        f"{folder}: found neither a partners nor an opportunities extract (the hubspot preset looks for "
        "partners: partners.csv; opportunities: deals.csv or hubspot-crm-exports-all-deals.csv or all-deals.csv or "
        "opportunities.csv, or .tsv, .xlsx, .parquet; other tables are optional; found deals-export.csv)"
    )


def test_of_several_dated_downloads_the_newest_loads(tmp_path: Path):
    folder = tmp_path / "several"
    folder.mkdir()
    (folder / "hubspot-crm-exports-all-deals-2024-08-27.csv").write_text(export_text(), encoding="utf-8")
    newer = export_text(deals=DEALS[:2])
    (folder / "hubspot-crm-exports-all-deals-2024-09-03 (1).csv").write_text(newer, encoding="utf-8")
    report = build_database(folder, tmp_path / "a.duckdb", preset="hubspot")
    row = report.filter(report["table_name"] == "opportunities").row(0, named=True)
    assert (row["source_file"], row["rows_read"]) == ("hubspot-crm-exports-all-deals-2024-09-03 (1).csv", 2)


@pytest.mark.parametrize("page", ["health", "forecast", "engagement", "partner", "attribution", "disagreements", "data"])
def test_every_page_runs_on_the_export(export_db, monkeypatch: pytest.MonkeyPatch, page: str):
    monkeypatch.setenv("PULSE_DB", str(export_db[1]))
    at = open_page(page, {"period": "All time"})
    assert not at.exception, "\n".join("\n".join(e.stack_trace or [e.message]) for e in at.exception)
