"""Values read the way exports write them (DESIGN.md, loading rules): a month column takes
`2025-12`, any day of the month, `Dec 2025` and Excel dates and stores the month's first day;
a value that fails to read is described by its shape ("'2025-12' looks like a month")."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from loaders.build import build_database
from tests.loading import LENIENT, OPPORTUNITIES_HEADER, PARTNERS, build, counts, quarantined, query

PAYOUTS_HEADER = "payout_id,partner_id,amount,payout_type,period"
PARTNERS_CSV = "partner_id,partner_name,partner_types,tier,joined_at\nP1,Acme,referral,gold,2025-01-15\n"


def test_payout_periods_written_as_months_load_as_the_months_first_day(tmp_path: Path):
    files = {
        "partners.csv": PARTNERS,
        "payouts.csv": f"""
            {PAYOUTS_HEADER}
            PO1,P1,100,commission,2025-12
            PO2,P1,100,commission,2025-11-17
            PO3,P1,100,commission,Oct 2025
            PO4,P1,100,commission,september 2025
            PO5,P1,100,commission,2025/08
            PO6,P1,100,commission,07/2025
            PO7,P1,100,commission,2025-06-30 23:59:59
            PO8,P1,100,commission,Sept. 2025
        """,
    }
    report = build(tmp_path, files)
    assert counts(report, "payouts") == (8, 8, 0)
    assert query(tmp_path / "pulse.duckdb", "select payout_id, period from payouts order by 1") == [
        ("PO1", date(2025, 12, 1)),
        ("PO2", date(2025, 11, 1)),
        ("PO3", date(2025, 10, 1)),
        ("PO4", date(2025, 9, 1)),
        ("PO5", date(2025, 8, 1)),
        ("PO6", date(2025, 7, 1)),
        ("PO7", date(2025, 6, 1)),
        ("PO8", date(2025, 9, 1)),
    ]


def test_a_period_that_is_not_a_month_is_quarantined_saying_what_it_looks_like(tmp_path: Path):
    files = {
        "partners.csv": PARTNERS,
        "payouts.csv": f"""
            {PAYOUTS_HEADER}
            PO1,P1,100,commission,2025-12
            PO2,P1,100,commission,Dic 2025
            PO3,P1,100,commission,2025-13
            PO4,P1,100,commission,Q4 2025
        """,
    }
    report = build(tmp_path, files)
    assert counts(report, "payouts") == (4, 1, 3)
    assert quarantined(tmp_path / "pulse.duckdb", "payouts") == [
        (
            "payouts.csv",
            3,
            "period: 'Dic 2025' looks like a month and year with a month name in another language than English ('Dic'), "
            "not a month (YYYY-MM, a date, or Dec 2025)",
        ),
        ("payouts.csv", 4, "period: '2025-13' is not a month (YYYY-MM, a date, or Dec 2025)"),
        ("payouts.csv", 5, "period: 'Q4 2025' is not a month (YYYY-MM, a date, or Dec 2025)"),
    ]


def test_excel_dates_in_a_workbook_are_read_as_dates_and_months(tmp_path: Path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "partners.csv").write_text(PARTNERS_CSV)
    book = xlsxwriter.Workbook(str(folder / "payouts.xlsx"))
    sheet = book.add_worksheet()
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    month = book.add_format({"num_format": "mmm yyyy"})
    sheet.write_row(0, 0, ["payout_id", "partner_id", "amount", "payout_type", "period", "paid_at"])
    sheet.write_row(1, 0, ["PO1", "P1", 100, "commission"])
    sheet.write_datetime(1, 4, datetime(2025, 12, 1), month)  # a date cell shown as "Dec 2025"
    sheet.write_datetime(1, 5, datetime(2026, 1, 15), day)
    sheet.write_row(2, 0, ["PO2", "P1", 100, "commission"])
    sheet.write_number(2, 4, 46022)  # a date serial in a cell with no date format: 2025-12-31
    sheet.write_number(2, 5, 46037.5)  # 2026-01-15, noon
    sheet.write_row(3, 0, ["PO3", "P1", 100, "commission", "2025-11"])
    book.close()
    report = build_database(folder, tmp_path / "pulse.duckdb", settings=LENIENT)
    assert counts(report, "payouts") == (3, 3, 0)
    assert query(tmp_path / "pulse.duckdb", "select payout_id, period, paid_at from payouts order by 1") == [
        ("PO1", date(2025, 12, 1), date(2026, 1, 15)),
        ("PO2", date(2025, 12, 1), date(2026, 1, 15)),
        ("PO3", date(2025, 11, 1), None),
    ]


def test_a_date_that_fails_to_read_is_described_by_its_shape(tmp_path: Path):
    rows = [
        ("O1", "2026-05-15"),  # loads
        ("O2", "31/12/2025"),  # day first: 31 is no month
        ("O3", "12/31/2025"),  # US: 31 is no month
        ("O4", "46022"),  # an Excel serial written out as a number
        ("O5", "2025-12"),  # a month
        ("O6", "20251231"),  # no separators
        ("O7", "Dec 2025"),  # a month and year
        ("O8", "someday"),  # no shape we know
    ]
    text = "\n".join([OPPORTUNITIES_HEADER, *(f"{o},100,Closed Won,2025-01-01,{close}" for o, close in rows)])
    report = build(tmp_path, {"opportunities.csv": text})
    assert counts(report, "opportunities") == (8, 1, 7)
    assert [reason for _, _, reason in quarantined(tmp_path / "pulse.duckdb", "opportunities")] == [
        "close_date: '31/12/2025' looks like a day-first date (DD/MM/YYYY), not a date (YYYY-MM-DD)",
        "close_date: '12/31/2025' looks like a US date (MM/DD/YYYY), not a date (YYYY-MM-DD)",
        "close_date: '46022' looks like an Excel date serial number (46022 is 2025-12-31), not a date (YYYY-MM-DD)",
        "close_date: '2025-12' looks like a month (YYYY-MM), not a date (YYYY-MM-DD)",
        "close_date: '20251231' looks like a date without separators (YYYYMMDD), not a date (YYYY-MM-DD)",
        "close_date: 'Dec 2025' looks like a month and year, not a date (YYYY-MM-DD)",
        "close_date: 'someday' is not a date (YYYY-MM-DD)",
    ]


def test_a_slashed_date_whose_day_and_month_cannot_be_told_apart_takes_its_columns_order(tmp_path: Path):
    def reasons(closes: list[str], folder: str) -> list[str]:
        text = "\n".join([OPPORTUNITIES_HEADER, *(f"O{i},100,Closed Won,2025-01-01,{c}" for i, c in enumerate(closes))])
        build(tmp_path / folder, {"opportunities.csv": text})
        return [reason for _, _, reason in quarantined(tmp_path / folder / "pulse.duckdb", "opportunities")]

    assert reasons(["03.04.2025", "25.12.2025"], "day-first") == [
        "close_date: '03.04.2025' looks like a day-first date (DD.MM.YYYY), not a date (YYYY-MM-DD)",
        "close_date: '25.12.2025' looks like a day-first date (DD.MM.YYYY), not a date (YYYY-MM-DD)",
    ]
    assert reasons(["03/04/2025", "12/25/2025"], "us")[0] == (
        "close_date: '03/04/2025' looks like a US date (MM/DD/YYYY), not a date (YYYY-MM-DD)"
    )
    assert reasons(["03/04/2025"], "either") == [
        "close_date: '03/04/2025' looks like a DD/MM/YYYY or MM/DD/YYYY date (the day and month cannot be told apart), "
        "not a date (YYYY-MM-DD)"
    ]


def test_an_amount_that_fails_to_read_is_described_by_its_shape(tmp_path: Path):
    amounts = ['"1.234,50"', '"12,5"', "$1200", "1200 EUR", "(500)", "1 234 567"]
    text = "\n".join([OPPORTUNITIES_HEADER, *(f"O{i},{a},Closed Won,2025-01-01,2025-02-01" for i, a in enumerate(amounts))])
    build(tmp_path, {"opportunities.csv": text})
    assert [reason for _, _, reason in quarantined(tmp_path / "pulse.duckdb", "opportunities")] == [
        "amount: '1.234,50' looks like a number with a decimal comma (1234.50), not a number",
        "amount: '12,5' looks like a number with a decimal comma (12.5), not a number",
        "amount: '$1200' looks like an amount with a currency sign or code, not a number",
        "amount: '1200 EUR' looks like an amount with a currency sign or code, not a number",
        "amount: '(500)' looks like an accounting negative (in parentheses), not a number",
        "amount: '1 234 567' looks like a number with spaces or apostrophes between the thousands, not a number",
    ]
