"""The Data page: the load report adds up, quarantined rows can be filtered by table and
reason, with no database it offers the demo; uploads rebuild over the current source and a
refused upload leaves the served database as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from loaders import uploads
from loaders.build import build_database
from settings import Settings, Stage
from tests.conftest import TINY, open_page, write_extracts


def failure(at) -> str:
    return "\n".join("\n".join(e.stack_trace or [e.message]) for e in at.exception)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny program with two bad partner rows and one bad payout, served; uploads go to tmp."""
    files = dict(TINY)
    files["partners.csv"] = (
        TINY["partners.csv"].rstrip() + "\nP1,Acme again,referral,gold,2025-01-15\nP4,Delta,plumber,gold,2025-01-15\n"
    )
    files["payouts.csv"] = TINY["payouts.csv"].rstrip() + "\nPO3,P9,10,bonus,2026-06-01,,paid,\n"
    folder = write_extracts(tmp_path / "extracts", files)
    db = tmp_path / "pulse.duckdb"
    build_database(folder, db)
    monkeypatch.setenv("PULSE_DB", str(db))
    monkeypatch.setattr(uploads, "DATA_DIR", tmp_path / "data")
    return db


def test_the_load_report_metrics_add_up(served: Path):
    at = open_page("data")
    assert not at.exception, failure(at)
    metrics = {m.label: m.value for m in at.metric}
    # 5 partners + 5 deals + 4 touchpoints + 4 activities + 2 registrations + 3 payouts.
    assert metrics == {"Rows read": "23", "Rows loaded": "20", "Rows quarantined": "3"}
    report = at.dataframe[0].value
    assert list(report["rows_read"]) == list(report["rows_loaded"] + report["rows_quarantined"])


def test_the_quarantine_table_filters_by_table_and_by_reason(served: Path):
    at = open_page("data")
    rejected = at.dataframe[1].value
    assert list(rejected["table_name"]) == ["partners", "partners", "payouts"]
    at.selectbox(key="data_table").set_value("payouts").run()
    assert not at.exception, failure(at)
    assert list(at.dataframe[1].value["reason"]) == ["partner_id 'P9' is not in partners"]
    at.selectbox(key="data_table").set_value("All tables").run()
    at.text_input(key="data_reason").set_value("duplicate").run()
    assert list(at.dataframe[1].value["line_number"]) == [5]
    at.text_input(key="data_reason").set_value("no such reason").run()
    assert len(at.dataframe) == 1
    assert any("No quarantined row matches" in i.value for i in at.info)


def test_with_no_database_the_data_page_offers_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DB", str(tmp_path / "none.duckdb"))
    at = open_page("data")
    assert not at.exception, failure(at)
    assert any("No data loaded yet" in s.value for s in at.subheader)
    assert [b.label for b in at.button if b.label == "Load the demo program"] == ["Load the demo program"]
    assert not at.metric


def test_an_upload_replaces_its_table_and_keeps_the_others(served: Path):
    partners = (
        b"partner_id,partner_name,partner_types,tier,joined_at\n"
        b"P1,Acme,referral,gold,2025-01-15\nP2,Beacon,integration,silver,2026-02-01\n"
    )
    report = uploads.build_from_upload([("partners.csv", partners)])
    loaded = dict(report.select("table_name", "rows_loaded").rows())
    # The other tables come from the current source; P3 is no longer a partner, so its activity is quarantined.
    assert loaded == {
        "partners": 2,
        "opportunities": 5,
        "partner_activities": 3,
        "opportunity_history": 0,
        "touchpoints": 4,
        "deal_registrations": 2,
        "payouts": 2,
    }


def test_a_refused_upload_says_why_and_leaves_the_served_database_as_it_was(served: Path):
    before = hashlib.sha256(served.read_bytes()).hexdigest()
    with pytest.raises(uploads.UploadRefused, match="partners.csv: missing required column 'tier'"):
        uploads.build_from_upload(
            [("partners.csv", b"partner_id,partner_name,partner_types,joined_at\nP1,A,referral,2025-01-01\n")]
        )
    with pytest.raises(uploads.UploadRefused, match="not an extract file name"):
        uploads.build_from_upload([("../../etc/cron.d/x.sh", b"echo")])
    assert hashlib.sha256(served.read_bytes()).hexdigest() == before
    assert not any((uploads.DATA_DIR / "extracts").iterdir()), "the refused upload's folder is removed"


def test_an_upload_rebuilds_with_the_settings_the_served_database_was_built_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Served with a custom stage map (as examples/maven-crm.toml does); an upload must keep it.
    settings = Settings(
        stage_map={"Open": Stage(order=1, probability=0.5), "Won": Stage(order=2, probability=1, is_closed=True, is_won=True)}
    )
    folder = write_extracts(
        tmp_path / "extracts",
        {"opportunities.csv": "opportunity_id,amount,stage,created_at,close_date\nO1,10,Won,2026-01-01,2026-02-01\n"},
    )
    db = tmp_path / "pulse.duckdb"
    build_database(folder, db, settings=settings)
    monkeypatch.setenv("PULSE_DB", str(db))
    monkeypatch.setattr(uploads, "DATA_DIR", tmp_path / "data")
    upload = (
        b"opportunity_id,amount,stage,created_at,close_date\nO1,10,Won,2026-01-01,2026-02-01\nO2,20,Open,2026-01-01,2026-05-01\n"
    )
    report = uploads.build_from_upload([("opportunities.csv", upload)])
    assert report.filter(report["table_name"] == "opportunities").select("rows_read", "rows_loaded").row(0) == (2, 2)


def test_old_upload_folders_are_removed_and_the_newest_three_kept(served: Path):
    partners = (
        b"partner_id,partner_name,partner_types,tier,joined_at\n"
        b"P1,Acme,referral,gold,2025-01-15\nP2,Beacon,integration,silver,2026-02-01\nP3,Cobalt,services,registered,2024-06-01\n"
    )
    for _ in range(5):
        uploads.build_from_upload([("partners.csv", partners)])
    folders = sorted(p.name for p in (uploads.DATA_DIR / "extracts").iterdir())
    assert len(folders) == uploads.KEEP_UPLOAD_FOLDERS == 3
    source, _ = uploads.current_source()
    assert source is not None and source.name == folders[-1], "the served database's source is kept"
