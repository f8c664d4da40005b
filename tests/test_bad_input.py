"""Adversarial extract sets: encodings, line endings, huge fields, formula strings, SQL-looking
ids, absurd numbers and dates. Each has its exact outcome (refused with which message, or
loaded / quarantined with which reason) and nothing is lost: rows read = loaded + quarantined.

The basic rules (one bad date, one duplicate, ...) are in tests/test_loaders*.py; these are
the inputs a hostile or broken export produces.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from loaders.build import BuildRefused, build_database
from tests.loading import LENIENT

PARTNERS_HEADER = "partner_id,partner_name,partner_types,tier,joined_at"
OPPS_HEADER = "opportunity_id,amount,stage,created_at,close_date"


def build(folder: Path, files: dict[str, bytes]) -> duckdb.DuckDBPyConnection:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    db = folder.parent / f"{folder.name}.duckdb"
    build_database(folder, db, settings=LENIENT)
    con = duckdb.connect(str(db), read_only=True)
    # Nothing lost, whatever the input: every row read is loaded or quarantined.
    for table, read, loaded, quarantined in con.execute(
        "select table_name, rows_read, rows_loaded, rows_quarantined from load_report"
    ).fetchall():
        assert read == loaded + quarantined, table
        assert con.execute(f'select count(*) from "{table}"').fetchall()[0][0] == loaded  # noqa: S608 - fixed names
        assert con.execute("select count(*) from quarantine where table_name = $t", {"t": table}).fetchall()[0][0] == quarantined
    return con


def refusal(folder: Path, files: dict[str, bytes]) -> str:
    db = folder.parent / f"{folder.name}.duckdb"
    db.write_bytes(b"the served database")
    with pytest.raises(BuildRefused) as refused:
        build(folder, files)
    assert db.read_bytes() == b"the served database", "a refused build leaves the served file untouched"
    return str(refused.value)


def quarantine(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[int, str]]:
    return con.execute(
        "select line_number, reason from quarantine where table_name = $t order by line_number", {"t": table}
    ).fetchall()


def partners(*rows: str, header: str = PARTNERS_HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


# ---- refusals: the whole build stops, with a message naming file and problem ---------------

REFUSALS = {
    "utf-8 mixed with latin-1 in one file": (
        {
            "partners.csv": partners("P1,Müller,referral,gold,2025-01-01")
            + "P2,Gebühr,referral,gold,2025-01-01\n".encode("latin-1"),
        },
        "partners.csv: mixes encodings: line 2 is UTF-8 text and line 3, byte 95 is not; export the file again in one "
        "encoding, or name its encoding under [encodings] in the settings",
    ),
    "a picture renamed .csv": (
        {"partners.csv": b"\x89PNG\r\n\x1a\n" + bytes(range(256))},
        "partners.csv: not a text file (binary data: a NUL byte on line 3, byte 8); expected CSV text",
    ),
    "a column named twice": (
        {"partners.csv": partners("P1,A,referral,gold,2025-01-01,x", header=PARTNERS_HEADER + ",tier")},
        "partners.csv: column 'tier' appears 2 times in the header row (columns 4 and 6) and the partners extract "
        "reads tier from it: which one holds the data is ambiguous",
    ),
    "an unbalanced quote": (
        {"partners.csv": partners('P1,"Acme,referral,gold,2025-01-01')},
        "partners.csv: not a readable CSV file (",
    ),
    "whitespace only": ({"partners.csv": b"  \n\n \t\n"}, "partners.csv: the file is empty"),
    "a BOM and nothing else": ({"partners.csv": b"\xef\xbb\xbf"}, "partners.csv: the file is empty"),
    "an xlsx that is a CSV": (
        {"partners.xlsx": partners("P1,A,referral,gold,2025-01-01")},
        "partners.xlsx: not a readable .xlsx file",
    ),
    "a truncated parquet": ({"partners.parquet": b"PAR1\x00\x00PAR1"}, "partners.parquet: not a readable Parquet file"),
    "a header of formulas": (
        {"partners.csv": b"=cmd|' /C calc'!A0,partner_name\nP1,A\n"},
        "partners.csv: missing required column 'partner_id', 'partner_types', 'tier', 'joined_at'",
    ),
    "SQL in a column name": (
        {
            "partners.csv": partners(
                "P1,A,referral,gold,2025-01-01",
                header='partner_id,partner_name,partner_types,tier,"joined_at"" ; drop table x; --"',
            )
        },
        "partners.csv: missing required column 'joined_at'",
    ),
}


@pytest.mark.parametrize(("files", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_broken_file_refuses_the_build_with_its_reason(tmp_path: Path, files: dict[str, bytes], message: str):
    assert refusal(tmp_path / "x", files).startswith(message)


# ---- loaded, or quarantined with an exact reason -------------------------------------------


def test_utf16_with_either_byte_order_mark_loads_and_the_report_names_the_encoding(tmp_path: Path):
    text = partners("P1,Müller,referral,gold,2025-01-01").decode()
    for endian in ("le", "be"):
        con = build(tmp_path / endian, {"partners.csv": "\ufeff".encode(f"utf-16-{endian}") + text.encode(f"utf-16-{endian}")})
        assert con.execute("select partner_id, partner_name from partners").fetchall() == [("P1", "Müller")]
        assert con.execute("select encoding from load_report where table_name = 'partners'").fetchall() == [("UTF-16",)]


def test_a_file_that_is_not_utf8_is_read_as_latin1_or_windows1252_and_the_report_says_which(tmp_path: Path):
    con = build(
        tmp_path / "latin1",
        {
            "partners.csv": partners(*[f"P{i},Partner {i},referral,gold,2025-01-01" for i in range(1, 1001)]),
            "payouts.csv": b"payout_id,partner_id,amount,payout_type,period,detail\n"
            + b"".join(f"X{i},P1,1,bonus,2026-01-01,ok\n".encode() for i in range(500))
            + "X500,P1,1,bonus,2026-01-01,Gebühr\n".encode("latin-1"),
        },
    )
    assert con.execute("select detail from payouts where payout_id = 'X500'").fetchall() == [("Gebühr",)]
    assert con.execute("select table_name, encoding from load_report where status = 'loaded' order by 1").fetchall() == [
        ("partners", "UTF-8"),
        ("payouts", "ISO-8859-1"),
    ]
    # Bytes 0x80-0x9f are letters and punctuation in Windows-1252 (the euro sign, curly quotes).
    windows = partners("P1,“Señal” 5€,referral,gold,2025-01-01").decode().encode("cp1252")
    con = build(tmp_path / "cp1252", {"partners.csv": windows})
    assert con.execute("select partner_name from partners").fetchall() == [("“Señal” 5€",)]
    assert con.execute("select encoding from load_report where table_name = 'partners'").fetchall() == [("Windows-1252",)]


def test_an_encoding_named_in_the_settings_overrides_detection(tmp_path: Path):
    from settings import Settings

    folder = tmp_path / "x"
    folder.mkdir()
    # Valid UTF-8 bytes that were meant as Windows-1252 ("Ã©" as written by a Windows export).
    (folder / "partners.csv").write_bytes(partners("P1,CafÃ©,referral,gold,2025-01-01").decode().encode("cp1252"))
    build_database(folder, tmp_path / "a.duckdb")
    settings = Settings(encodings={"PARTNERS.CSV": "cp1252"})
    build_database(folder, tmp_path / "b.duckdb", settings=settings)
    read = "select partner_name, (select encoding from load_report where table_name = 'partners') from partners"
    assert duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True).execute(read).fetchall() == [("Café", "UTF-8")]
    assert duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True).execute(read).fetchall() == [("CafÃ©", "cp1252")]
    with pytest.raises(ValueError, match="'klingon' \\(for x.csv\\) is not an encoding Python knows"):
        Settings(encodings={"x.csv": "klingon"})


def test_crlf_lf_and_cr_only_line_endings_all_load_with_the_right_line_numbers(tmp_path: Path):
    mixed = (
        b"\xef\xbb\xbf"
        + PARTNERS_HEADER.encode()
        + b"\r\nP1,A,referral,gold,2025-01-01\nP2,B,referral,gold,bad\r\nP3,C,referral,gold,2025-01-01\n"
    )
    con = build(tmp_path / "mixed", {"partners.csv": mixed})
    assert con.execute("select partner_id, partner_name from partners order by 1").fetchall() == [("P1", "A"), ("P3", "C")]
    assert quarantine(con, "partners") == [(3, "joined_at: 'bad' is not a date (YYYY-MM-DD)")]
    old_mac = PARTNERS_HEADER.encode() + b"\rP1,A,referral,gold,2025-01-01\rP2,B,referral,gold,bad\r"
    con = build(tmp_path / "mac", {"partners.csv": old_mac})
    assert con.execute("select partner_id from partners").fetchall() == [("P1",)]
    assert quarantine(con, "partners") == [(3, "joined_at: 'bad' is not a date (YYYY-MM-DD)")]


def test_a_row_with_more_fields_than_the_header_is_quarantined_on_its_line_and_the_rest_loads(tmp_path: Path):
    con = build(
        tmp_path / "ragged",
        {
            "partners.csv": partners(
                "P1,A,referral,gold,2025-01-01",
                'P2,"B\nacross two lines",referral,gold,2025-01-01,surplus,more',
                "",
                "P3,C,referral,gold,2025-01-01",
                "P4,D,referral,gold",  # a short row reads its missing fields as empty, as before
            )
        },
    )
    assert con.execute("select partner_id from partners order by 1").fetchall() == [("P1",), ("P3",)]
    assert quarantine(con, "partners") == [
        (3, "the row has 7 fields but the header has 5 (extra values: 'surplus', 'more')"),
        (7, "joined_at is required"),
    ]
    row = json.loads(con.execute("select row from quarantine order by line_number limit 1").fetchall()[0][0])
    assert (row["partner_id"], row["partner_name"]) == ("P2", "B\nacross two lines")


def test_a_stray_bare_cr_inside_a_crlf_file_ends_a_row(tmp_path: Path):
    data = partners().rstrip(b"\n") + b"\r\nP1,A,referral,gold,2025-01-01\rP2,B,referral,gold,2025-01-01\r\n"
    con = build(tmp_path / "cr", {"partners.csv": data})
    assert con.execute("select partner_id from partners order by 1").fetchall() == [("P1",), ("P2",)]


def test_a_one_megabyte_cell_loads_whole_and_a_one_megabyte_bad_date_is_quarantined_with_a_short_reason(tmp_path: Path):
    huge = "x" * 1024**2
    con = build(
        tmp_path / "huge",
        {"partners.csv": partners(f"P1,{huge},referral,gold,2025-01-01", f"P2,B,referral,gold,{huge}")},
    )
    assert con.execute("select length(partner_name) from partners").fetchall() == [(1024**2,)]
    assert quarantine(con, "partners") == [(3, f"joined_at: '{'x' * 60}' is not a date (YYYY-MM-DD)")]
    row = json.loads(con.execute("select row from quarantine").fetchall()[0][0])
    assert len(row["joined_at"]) == 1024**2, "the quarantine keeps the row as it was read"


def test_formula_strings_load_verbatim_and_are_only_neutralised_on_export(tmp_path: Path):
    con = build(
        tmp_path / "formulas",
        {
            "partners.csv": partners(
                '"=HYPERLINK(""http://evil.example"",""x"")",+Acme,referral,gold,2025-01-01',
                "@P2,-2+3,referral,gold,2025-01-01",
                "P3,\tTabbed,referral,gold,2025-01-01",
                header=PARTNERS_HEADER,
            ),
            "touchpoints.csv": b"opportunity_id,partner_id,touch_type,occurred_at\nO1,@P2,referral,2026-01-01\n",
            "opportunities.csv": (OPPS_HEADER + "\nO1,100,Closed Won,2026-01-01,2026-02-01\n").encode(),
        },
    )
    assert con.execute("select partner_id, partner_name from partners order by partner_id").fetchall() == [
        ('=HYPERLINK("http://evil.example","x")', "+Acme"),
        ("@P2", "-2+3"),
        ("P3", "Tabbed"),  # surrounding whitespace is trimmed from every value
    ]
    assert con.execute("select partner_id from touchpoints").fetchall() == [("@P2",)]


def test_sql_looking_ids_are_plain_values_and_references_to_them_hold(tmp_path: Path):
    evil = "P1'; drop table partners; --"
    con = build(
        tmp_path / "sql",
        {
            "partners.csv": partners(f'"{evil}",Acme,referral,gold,2025-01-01', '"P2"" or 1=1 --",B,referral,gold,2025-01-01'),
            "opportunities.csv": (
                OPPS_HEADER
                + ",sourced_partner_id\n"
                + f'O1,100,Closed Won,2026-01-01,2026-02-01,"{evil}"\n'
                + "O2,100,Closed Won,2026-01-01,2026-02-01,P1\n"
            ).encode(),
            "payouts.csv": (
                f'payout_id,partner_id,amount,payout_type,period\n"1; delete from payouts",{evil},5,bonus,2026-02-01\n'
            ).encode(),
        },
    )
    assert con.execute("select partner_id from partners order by 1").fetchall() == [(evil,), ('P2" or 1=1 --',)]
    assert con.execute("select opportunity_id, sourced_partner_id from opportunities").fetchall() == [("O1", evil)]
    assert quarantine(con, "opportunities") == [(3, "sourced_partner_id 'P1' is not in partners")]
    assert con.execute("select payout_id, partner_id from payouts").fetchall() == [("1; delete from payouts", evil)]


def test_absurd_amounts_and_placeholder_dates_are_quarantined_not_crashing_the_build(tmp_path: Path):
    rows = [
        "O1,1e309,Closed Won,2026-01-01,2026-02-01",
        "O2,NaN,Closed Won,2026-01-01,2026-02-01",
        "O3,99999999999999999999,Closed Won,2026-01-01,2026-02-01",
        "O4,inf,Closed Won,2026-01-01,2026-02-01",
        "O5,0x10,Closed Won,2026-01-01,2026-02-01",
        "O6,10,Closed Won,0001-01-01,9999-12-31",
        "O7,10,Closed Won,2026-13-01,2026-02-01",
        '"O8",\'10,Closed Won,2026-01-01,2026-02-01',
        "O9,100000000000000,Closed Won,2026-01-01,2026-02-01",
        "O10,1234567.891,Closed Won,2026-01-01,2026-02-01",
        "O11,-0,Closed Won,2026-01-01,2026-02-01",
    ]
    con = build(tmp_path / "absurd", {"opportunities.csv": ("\n".join([OPPS_HEADER, *rows]) + "\n").encode()})
    assert quarantine(con, "opportunities") == [
        (2, "amount: '1e309' is not a number"),
        (3, "amount: 'NaN' is not a number"),
        (4, "amount: '99999999999999999999' is not a number"),
        (5, "amount: 'inf' is not a number"),
        (6, "amount: '0x10' is not a number"),
        (
            7,
            "created_at: '0001-01-01' is outside the years 1900 to 2099; "
            "close_date: '9999-12-31' is outside the years 1900 to 2099",
        ),
        (8, "created_at: '2026-13-01' is not a date (YYYY-MM-DD)"),
        (9, "amount: ''10' is not a number"),
        (10, "amount: '100000000000000' is not a number"),
    ]
    assert con.execute("select opportunity_id, cast(amount as double) from opportunities order by 1").fetchall() == [
        ("O10", 1234567.89),
        ("O11", 0.0),
    ]
    # The placeholder 9999-12-31 was quarantined; as of is the latest day a loaded deal was created.
    assert con.execute("select value from load_meta where key = 'data_as_of'").fetchall() == [("2026-01-01",)]


def test_an_amount_that_overflows_after_currency_conversion_is_quarantined(tmp_path: Path):
    from settings import FxRate, Settings

    folder = tmp_path / "fx"
    folder.mkdir()
    (folder / "opportunities.csv").write_text(
        OPPS_HEADER
        + ",currency\nO1,90000000000000,Closed Won,2026-01-01,2026-02-01,XBT\nO2,5,Closed Won,2026-01-01,2026-02-01,XBT\n"
    )
    settings = Settings(fx_rates=[FxRate(currency="XBT", valid_from="2020-01-01", rate=100000.0)])
    build_database(folder, tmp_path / "fx.duckdb", settings=settings)
    con = duckdb.connect(str(tmp_path / "fx.duckdb"), read_only=True)
    assert quarantine(con, "opportunities") == [(2, "amount: 90000000000000.00 is out of range in USD")]
    assert con.execute("select opportunity_id, cast(amount as double) from opportunities").fetchall() == [("O2", 500000.0)]


def test_ids_of_whitespace_nul_bytes_and_lookalikes_are_kept_apart_or_quarantined(tmp_path: Path):
    con = build(
        tmp_path / "ids",
        {
            "partners.csv": partners(
                "   ,Blank,referral,gold,2025-01-01",
                "P1 ,Padded,referral,gold,2025-01-01",
                "P1,Same after trimming,referral,gold,2025-01-01",
                "Р1,Cyrillic P,referral,gold,2025-01-01",
                "P2,Nul\x00byte,referral,gold,2025-01-01",
                "P3,Short row,referral",
            )
        },
    )
    assert quarantine(con, "partners") == [
        (2, "partner_id is required"),
        (4, "duplicate partner_id 'P1' (first on line 3)"),
        (7, "tier is required; joined_at is required"),
    ]
    assert con.execute("select partner_id, partner_name from partners order by 1").fetchall() == [
        ("P1", "Padded"),
        ("P2", "Nul\x00byte"),
        ("Р1", "Cyrillic P"),
    ]


def test_every_quarantine_reason_in_one_extract_set_and_nothing_is_lost(tmp_path: Path):
    files = {
        "partners.csv": partners(
            "P1,Acme,referral,gold,2025-01-01",
            ",No id,referral,gold,2025-01-01",
            "P2,Bad type,plumber,gold,2025-01-01",
            "P3,Bad date,referral,gold,yesterday",
            "P1,Again,referral,gold,2025-01-01",
        ),
        "opportunities.csv": (
            OPPS_HEADER + ",sourced_partner_id,currency,forecast_category\n"
            "O1,100,Closed Won,2026-01-01,2026-02-01,P1,,closed\n"
            "O2,-5,Closed Won,2026-01-01,2026-02-01,,,\n"
            "O3,5,Warp Speed,2026-01-01,2026-02-01,,,\n"
            "O4,5,Closed Won,2026-01-01,2026-02-01,P9,,\n"
            "O5,5,Closed Won,2026-01-01,2026-02-01,,ZZZ,\n"
            "O6,5,Closed Won,2026-01-01,2026-02-01,,,maybe\n"
        ).encode(),
        "touchpoints.csv": (
            b"touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at\n"
            b"T1,O1,P1,referral,2026-01-05\nT2,O4,P1,referral,2026-01-05\nT3,O1,P2,referral,2026-01-05\nT1,O1,P1,referral,2026-01-06\n"
        ),
        "opportunity_history.csv": (
            b"opportunity_id,stage,changed_at\nO1,Closed Won,2026-02-01\nO1,Warp Speed,2026-01-15\nO99,Closed Won,2026-01-15\n"
        ),
        "payouts.csv": (
            b"payout_id,partner_id,amount,payout_type,period\n"
            b"X1,P1,5,bonus,2026-02-01\nX2,P1,-5,bonus,2026-02-01\nX3,P1,5,tip,2026-02-01\n"
        ),
    }
    con = build(tmp_path / "every", files)
    assert quarantine(con, "partners") == [
        (3, "partner_id is required"),
        (4, "partner_types: 'plumber' is not one of referral, reseller, integration, services, affiliate, distributor"),
        (5, "joined_at: 'yesterday' is not a date (YYYY-MM-DD)"),
        (6, "duplicate partner_id 'P1' (first on line 2)"),
    ]
    assert quarantine(con, "opportunities") == [
        (3, "amount: negative amount -5.00"),
        (4, "stage: 'Warp Speed' is not in the stage map (and is_closed/is_won are not given)"),
        (5, "sourced_partner_id 'P9' is not in partners"),
        (6, "currency: no FX rate for ZZZ on the close_date in the settings"),
        (7, "forecast_category: 'maybe' is not one of pipeline, best_case, commit, closed, omitted"),
    ]
    assert quarantine(con, "touchpoints") == [
        (3, "deal 'O4' quarantined (opportunities.csv line 5): sourced_partner_id 'P9' is not in partners"),
        (
            4,
            "partner 'P2' quarantined (partners.csv line 4): partner_types: 'plumber' is not one of referral, reseller, "
            "integration, services, affiliate, distributor",
        ),
        (5, "duplicate touchpoint_id 'T1' (first on line 2)"),
    ]
    # O1 loaded, so its history row in a stage the map lacks loads (with a warning).
    assert quarantine(con, "opportunity_history") == [(4, "opportunity_id 'O99' is not in opportunities")]
    assert quarantine(con, "payouts") == [
        (3, "amount: negative amount -5.00"),
        (4, "payout_type: 'tip' is not one of commission, referral_fee, rebate, mdf, spiff, bonus"),
    ]
