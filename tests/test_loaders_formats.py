"""File formats and refusals: CSV with BOM and each delimiter, Excel, Parquet; a file that
cannot be read at all refuses the whole build with one message naming file, column and
what was expected (docs/design.md, data contract and loading rules)."""

from __future__ import annotations

import textwrap
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from loaders.build import BuildRefused, build_database
from tests.loading import PARTNERS, build, counts, quarantined, query

PARTNER_ROWS = [
    ["partner_id", "partner_name", "partner_types", "tier", "joined_at"],
    ["P1", "Acme Partners", "referral;reseller", "gold", "2025-01-15"],
    ["P2", "Beacon Systems", "integration", "silver", "2026-02-01"],
]


def write_bytes(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


def loaded_partners(db: Path) -> list[tuple]:
    return query(db, "select partner_id, partner_name, partner_types, tier, joined_at from partners order by 1")


HEADER = "partner_id,partner_name,partner_types,tier,joined_at\n"
EXPECTED_PARTNERS = [
    ("P1", "Acme Partners", ["referral", "reseller"], "gold", date(2025, 1, 15)),
    ("P2", "Beacon Systems", ["integration"], "silver", date(2026, 2, 1)),
]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
def test_csv_loads_with_any_delimiter_with_or_without_a_bom(tmp_path: Path, delimiter: str, bom: bool):
    # partner_types holds ';' itself, so it is quoted where ';' is the delimiter.
    def cell(value: str) -> str:
        return f'"{value}"' if delimiter in value else value

    text = "\r\n".join(delimiter.join(cell(v) for v in row) for row in PARTNER_ROWS) + "\r\n"
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    db = tmp_path / "pulse.duckdb"
    report = build_database(write_bytes(tmp_path / "x", "partners.csv", data), db)
    assert counts(report, "partners") == (2, 2, 0)
    assert loaded_partners(db) == EXPECTED_PARTNERS


def test_excel_xlsx_loads_with_real_date_and_number_cells(tmp_path: Path):
    folder = tmp_path / "x"
    folder.mkdir()
    book = xlsxwriter.Workbook(str(folder / "partners.xlsx"))
    sheet = book.add_worksheet("Partners")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, PARTNER_ROWS[0])
    for r, row in enumerate(PARTNER_ROWS[1:], start=1):
        sheet.write_row(r, 0, row[:4])
        sheet.write_datetime(r, 4, datetime.fromisoformat(row[4]), day)
    book.close()
    book = xlsxwriter.Workbook(str(folder / "opportunities.xlsx"))
    sheet = book.add_worksheet()
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["opportunity_id", "amount", "stage", "created_at", "close_date", "sourced_partner_id"])
    sheet.write_row(1, 0, ["O1", 1234.5, "Closed Won"])
    sheet.write_datetime(1, 3, datetime(2026, 4, 1), day)
    sheet.write_datetime(1, 4, datetime(2026, 5, 15), day)
    sheet.write_string(1, 5, "P1")
    sheet.write_row(2, 0, ["O2", "n/a", "Closed Won", "2026-04-01", "2026-05-15"])
    book.close()

    db = tmp_path / "pulse.duckdb"
    report = build_database(folder, db)
    assert counts(report, "partners") == (2, 2, 0)
    assert loaded_partners(db) == EXPECTED_PARTNERS
    assert counts(report, "opportunities") == (2, 1, 1)
    assert query(db, "select opportunity_id, amount, created_at, close_date from opportunities") == [
        ("O1", Decimal("1234.50"), date(2026, 4, 1), date(2026, 5, 15))
    ]
    # Row 3 of the sheet (the header is row 1).
    assert quarantined(db, "opportunities") == [("opportunities.xlsx", 3, "amount: 'n/a' is not a number")]


def test_parquet_loads_with_native_types_and_row_numbers(tmp_path: Path):
    folder = tmp_path / "x"
    folder.mkdir()
    pl.DataFrame(
        {
            "partner_id": ["P1", "P2"],
            "partner_name": ["Acme Partners", "Beacon Systems"],
            "partner_types": [["referral", "reseller"], ["integration"]],
            "tier": ["gold", "silver"],
            "joined_at": [date(2025, 1, 15), date(2026, 2, 1)],
        }
    ).write_parquet(folder / "partners.parquet")
    pl.DataFrame(
        {
            "opportunity_id": ["O1", "O2"],
            "amount": [1000.0, -5.0],
            "stage": ["Closed Won", "Closed Won"],
            "created_at": [datetime(2026, 4, 1, 9, 30), datetime(2026, 4, 1)],
            "close_date": [date(2026, 5, 15), date(2026, 5, 15)],
            "is_won": [True, True],
        }
    ).write_parquet(folder / "opportunities.parquet")
    db = tmp_path / "pulse.duckdb"
    report = build_database(folder, db)
    assert loaded_partners(db) == EXPECTED_PARTNERS
    assert counts(report, "opportunities") == (2, 1, 1)
    assert query(db, "select opportunity_id, amount, created_at, is_won from opportunities") == [
        ("O1", Decimal("1000.00"), date(2026, 4, 1), True)
    ]
    # Parquet has no lines: the line number is the row number, from 1.
    assert quarantined(db, "opportunities") == [("opportunities.parquet", 2, "amount: negative amount -5.00")]


def test_timestamps_with_t_fractions_and_zones_are_read(tmp_path: Path):
    files = {
        "partners.csv": PARTNERS,
        "partner_activities.csv": """
            partner_id,activity_type,occurred_at
            P1,portal_login,2026-06-01T10:00:00.000+0000
            P1,portal_login,2026-06-02T11:30:00Z
            P1,portal_login,2026-06-03 12:00
            P1,portal_login,2026-06-04
        """,
    }
    report = build(tmp_path, files)
    assert counts(report, "partner_activities") == (4, 4, 0)
    assert query(tmp_path / "pulse.duckdb", "select occurred_at from partner_activities order by 1") == [
        (datetime(2026, 6, 1, 10, 0),),
        (datetime(2026, 6, 2, 11, 30),),
        (datetime(2026, 6, 3, 12, 0),),
        (datetime(2026, 6, 4, 0, 0),),
    ]


def test_blank_lines_are_not_rows_and_line_numbers_stay_those_of_the_file(tmp_path: Path):
    text = HEADER + "P1,Acme,referral,gold,2025-01-15\n\nP2,Beacon,referral,gold,bad\n\n"
    db = tmp_path / "pulse.duckdb"
    report = build_database(write_bytes(tmp_path / "x", "partners.csv", text.encode()), db)
    assert counts(report, "partners") == (2, 1, 1)
    assert quarantined(db, "partners") == [("partners.csv", 4, "joined_at: 'bad' is not a date (YYYY-MM-DD)")]


def test_a_quoted_value_over_two_lines_keeps_later_line_numbers_right(tmp_path: Path):
    text = HEADER + 'P1,"Acme\nPartners",referral,gold,2025-01-15\nP2,Beacon,referral,gold,bad\n'
    db = tmp_path / "pulse.duckdb"
    report = build_database(write_bytes(tmp_path / "x", "partners.csv", text.encode()), db)
    assert counts(report, "partners") == (2, 1, 1)
    assert quarantined(db, "partners") == [("partners.csv", 4, "joined_at: 'bad' is not a date (YYYY-MM-DD)")]


# ---- refusals: the whole build stops, with one message naming file, column, expectation ----


def refusal(folder: Path, name: str, data: bytes, others: dict[str, str] | None = None) -> str:
    write_bytes(folder, name, data)
    for other, text in (others or {}).items():
        (folder / other).write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    with pytest.raises(BuildRefused) as refused:
        build_database(folder, folder / "pulse.duckdb")
    assert not (folder / "pulse.duckdb").exists()
    return str(refused.value)


def test_a_zero_byte_file_is_refused(tmp_path: Path):
    assert refusal(tmp_path, "partners.csv", b"") == "partners.csv: the file is empty (0 bytes)"


def test_a_header_only_file_is_refused(tmp_path: Path):
    message = refusal(tmp_path, "partners.csv", b"partner_id,partner_name,partner_types,tier,joined_at\n")
    assert message == "partners.csv: the file has a header but no data rows"


def test_a_file_of_blank_lines_after_the_header_is_refused_as_having_no_rows(tmp_path: Path):
    message = refusal(tmp_path, "partners.csv", b"partner_id,partner_name,partner_types,tier,joined_at\n\n\n")
    assert message == "partners.csv: the file has a header but no data rows"


def test_a_missing_required_column_is_refused_naming_file_column_and_expectation(tmp_path: Path):
    message = refusal(tmp_path, "partners.csv", b"partner_id,partner_name,partner_types,joined_at\nP1,Acme,referral,2025-01-15\n")
    assert message == (
        "partners.csv: missing required column 'tier' (the partners extract needs partner_id, partner_name, "
        "partner_types, tier, joined_at; found partner_id, partner_name, partner_types, joined_at)"
    )


def test_a_missing_required_column_in_an_optional_extract_refuses_the_build_too(tmp_path: Path):
    message = refusal(
        tmp_path,
        "touchpoints.csv",
        b"opportunity_id,partner_id,occurred_at\nO1,P1,2026-04-01\n",
        others={"partners.csv": PARTNERS},
    )
    assert message.startswith("touchpoints.csv: missing required column 'touch_type' (the touchpoints extract needs ")


def test_a_header_only_file_of_an_optional_table_loads_empty_with_a_warning(tmp_path: Path):
    files = {"partners.csv": PARTNERS, "payouts.csv": "payout_id,partner_id,amount,payout_type,period\n"}
    report = build(tmp_path, files)
    assert counts(report, "payouts") == (0, 0, 0)
    row = report.filter(pl.col("table_name") == "payouts").row(0, named=True)
    assert (row["status"], row["warnings"]) == ("loaded", "the file has a header and no rows: payouts loaded empty")
    assert query(tmp_path / "pulse.duckdb", "select count(*) from payouts") == [(0,)]


def test_a_header_only_file_of_an_optional_table_still_needs_its_required_columns(tmp_path: Path):
    message = refusal(tmp_path, "payouts.csv", b"payout_id,partner_id,amount\n", others={"partners.csv": PARTNERS})
    assert message.startswith("payouts.csv: missing required column 'payout_type', 'period'")


def test_a_header_only_opportunities_file_is_refused(tmp_path: Path):
    message = refusal(tmp_path, "opportunities.csv", b"opportunity_id,amount,stage,created_at,close_date\n")
    assert message == "opportunities.csv: the file has a header but no data rows"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("partners.xlsx", b"this is not a workbook", "partners.xlsx: not a readable .xlsx file (not a zip archive)"),
        ("partners.parquet", b"PAR1 garbage", "partners.parquet: not a readable Parquet file"),
        ("partners.csv", b'a,b\n1,"2\n', "partners.csv: not a readable CSV file"),
    ],
    ids=["xlsx", "parquet", "unbalanced-quote-csv"],
)
def test_an_unreadable_file_is_refused(tmp_path: Path, name: str, data: bytes, expected: str):
    assert refusal(tmp_path, name, data).startswith(expected)


def test_a_folder_with_neither_partners_nor_opportunities_is_refused(tmp_path: Path):
    message = refusal(tmp_path, "payouts.csv", b"payout_id,partner_id,amount,payout_type,period\nX,P1,1,bonus,2026-01-01\n")
    assert message.startswith(f"{tmp_path}: found neither a partners nor an opportunities extract")


def test_opportunities_alone_load_and_every_other_table_is_empty_and_absent(tmp_path: Path):
    report = build(
        tmp_path,
        {"opportunities.csv": "opportunity_id,amount,stage,created_at,close_date\nO1,5,Closed Won,2026-01-01,2026-02-01\n"},
    )
    assert report.filter(pl.col("status") == "absent")["table_name"].to_list() == [
        "partners",
        "partner_activities",
        "opportunity_history",
        "touchpoints",
        "deal_registrations",
        "payouts",
    ]
    assert query(tmp_path / "pulse.duckdb", "select count(*) from partners") == [(0,)]
