"""The custom column map, proved on a real CRM export: Maven Analytics' sales_pipeline.csv
(8,800 deals, no partners) loads through examples/maven-crm.toml, and every page runs on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from loaders.build import build_database
from settings import load_settings
from tests.conftest import PROJECT, SHARED_DATA, open_page
from tests.loading import counts, query

MAVEN = SHARED_DATA / "maven-crm"
pytestmark = pytest.mark.skipif(
    not (MAVEN / "sales_pipeline.csv").exists(), reason=f"the real Maven CRM export is not at {MAVEN}"
)
PAGES = ["health", "forecast", "engagement", "partner", "attribution", "disagreements", "data"]


@pytest.fixture(scope="module")
def maven_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    db = tmp_path_factory.mktemp("maven") / "maven.duckdb"
    report = build_database(MAVEN, db, settings=load_settings(PROJECT / "examples" / "maven-crm.toml"))
    return db, report


def test_the_maven_export_loads_through_the_custom_column_map(maven_db):
    db, report = maven_db
    # Every Won and Lost deal loads; open deals have no close_value or close_date in the export.
    assert counts(report, "opportunities") == (8800, 6711, 2089)
    assert report.filter(report["status"] == "loaded")["table_name"].to_list() == ["opportunities"]
    assert query(db, "select count(*), sum(amount) from opportunities where is_won") == [(4238, Decimal("10005534.00"))]
    assert query(db, "select count(*) from opportunities where is_closed and not is_won") == [(2473,)]
    assert query(
        db,
        "select opportunity_id, owner, product, account_name, stage, created_at, close_date, amount "
        "from opportunities where opportunity_id = '1C1I7A6R'",
    ) == [
        ("1C1I7A6R", "Moses Frase", "GTX Plus Basic", "Cancity", "Won", date(2016, 10, 20), date(2017, 3, 1), Decimal("1054.00"))
    ]
    # Reasons name the export's own columns (close_value for amount, engage_date for created_at).
    assert query(db, "select reason, count(*) from quarantine group by 1 order by 2 desc") == [
        ("close_value is required; close_date is required", 1589),
        ("close_value is required; engage_date is required; close_date is required", 500),
    ]
    # 2,089 of 8,800 (23.7%) is past the 5% alarm: the build warns, naming the top reasons.
    warnings = report.filter(report["table_name"] == "opportunities")["warnings"][0]
    assert warnings.startswith(
        "2,089 of 8,800 rows (23.7%) of sales_pipeline.csv were quarantined, over quarantine_warn_share (5%)"
    )
    # The export's date: the latest day a deal was engaged (created). Close dates never count: the
    # last one, 2017-12-31, could be a lost deal dated ahead; `as_of` in the settings can set the day.
    assert query(db, "select value from load_meta where key = 'data_as_of'") == [("2017-12-27",)]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_maven_export(maven_db, monkeypatch: pytest.MonkeyPatch, page: str):
    monkeypatch.setenv("PULSE_DB", str(maven_db[0]))
    at = open_page(page)
    assert not at.exception, "\n".join("\n".join(e.stack_trace or [e.message]) for e in at.exception)
