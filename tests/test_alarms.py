"""Quarantine alarms (DESIGN.md, loading rules): past `quarantine_warn_share` of a table's rows
quarantined the build warns naming the top reasons with counts and an example line (stderr,
the load report), and every page that reads the table shows a banner; past
`quarantine_fail_share` the build is refused and the served database stays as it was;
`--strict` refuses on any quarantined row."""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

import ui
from loaders.build import BuildRefused, build_database
from settings import Settings
from tests.conftest import PROJECT, TINY, open_page, write_extracts
from tests.loading import PARTNERS, counts


def payouts(bad: int, total: int = 20) -> dict[str, str]:
    """`total` payouts, the last `bad` of them with a period that is not a month."""
    rows = [f"PO{i},P1,100,commission,{'Q4 2025' if i > total - bad else '2025-12'}" for i in range(1, total + 1)]
    return {"partners.csv": PARTNERS, "payouts.csv": "payout_id,partner_id,amount,payout_type,period\n" + "\n".join(rows)}


def build(folder: Path, files: dict[str, str], **kwargs):
    return build_database(write_extracts(folder, files), folder / "pulse.duckdb", **kwargs)


def payout_report(report) -> dict:
    return report.filter(report["table_name"] == "payouts").row(0, named=True)


def test_one_in_twenty_quarantined_is_no_alarm_and_two_in_twenty_warns_with_the_top_reasons(tmp_path: Path):
    quiet = payout_report(build(tmp_path / "one", payouts(1)))
    assert (quiet["rows_quarantined"], quiet["quarantine_alarm"], quiet["warnings"]) == (1, False, "")
    loud = payout_report(build(tmp_path / "two", payouts(2)))
    assert (loud["rows_quarantined"], loud["quarantine_alarm"]) == (2, True)
    assert loud["warnings"] == (
        "2 of 20 rows (10.0%) of payouts.csv were quarantined, over quarantine_warn_share (5%): pages that read payouts "
        "leave them out; top reasons: 2 × period: '…' is not a month (YYYY-MM, a date, or Dec …) (e.g. payouts.csv "
        "line 20: period: 'Q4 2025' is not a month (YYYY-MM, a date, or Dec 2025))"
    )


def test_half_quarantined_still_loads_and_more_than_half_is_refused_leaving_the_served_file_alone(tmp_path: Path):
    report = build(tmp_path / "half", payouts(10))
    assert counts(report, "payouts") == (20, 10, 10)
    db = tmp_path / "half" / "pulse.duckdb"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    write_extracts(tmp_path / "half", payouts(11))
    with pytest.raises(BuildRefused) as refused:
        build_database(tmp_path / "half", db)
    assert str(refused.value) == (
        "11 of 20 rows (55.0%) of payouts.csv were quarantined, over quarantine_fail_share (50%); top reasons: "
        "11 × period: '…' is not a month (YYYY-MM, a date, or Dec …) (e.g. payouts.csv line 11: period: 'Q4 2025' is "
        "not a month (YYYY-MM, a date, or Dec 2025))"
    )
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_the_thresholds_are_settings(tmp_path: Path):
    lenient = Settings(quarantine_warn_share=0.2, quarantine_fail_share=0.9)
    assert payout_report(build(tmp_path / "a", payouts(4), settings=lenient))["quarantine_alarm"] is False
    assert payout_report(build(tmp_path / "b", payouts(5), settings=lenient))["quarantine_alarm"] is True
    assert counts(build(tmp_path / "c", payouts(18), settings=lenient), "payouts") == (20, 2, 18)
    refused = "19 of 20 rows \\(95.0%\\) of payouts.csv were quarantined, over quarantine_fail_share \\(90%\\)"
    with pytest.raises(BuildRefused, match=refused):
        build(tmp_path / "d", payouts(19), settings=lenient)


def test_strict_refuses_on_any_quarantined_row_and_builds_a_clean_program(tmp_path: Path):
    assert counts(build(tmp_path / "clean", payouts(0), strict=True), "payouts") == (20, 20, 0)
    with pytest.raises(BuildRefused, match="^1 of 20 rows \\(5.0%\\) of payouts.csv were quarantined and --strict refuses any"):
        build(tmp_path / "one", payouts(1), strict=True)


def test_the_command_line_warns_on_stderr_and_strict_exits_non_zero(tmp_path: Path):
    folder = write_extracts(tmp_path / "extracts", payouts(2))
    db = tmp_path / "pulse.duckdb"
    command = [sys.executable, "-m", "loaders", "build", str(folder), "--db", str(db)]
    built = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    assert "payouts                read         20  loaded         18  quarantined        2  (payouts.csv)" in built.stdout
    warned = "warning: payouts: 2 of 20 rows (10.0%) of payouts.csv were quarantined, over quarantine_warn_share (5%)"
    assert warned in built.stderr
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    refused = subprocess.run([*command, "--strict"], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert "build refused: 2 of 20 rows (10.0%) of payouts.csv were quarantined and --strict refuses any" in refused.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_a_header_only_payouts_file_loads_empty_with_a_warning_and_no_alarm(tmp_path: Path):
    files = dict(TINY)
    files["payouts.csv"] = "payout_id,partner_id,amount,payout_type,period,opportunity_id,status,paid_at\n"
    report = build(tmp_path, files)
    row = payout_report(report)
    assert (row["status"], row["rows_read"], row["quarantine_alarm"]) == ("loaded", 0, False)
    assert row["warnings"] == "the file has a header and no rows: payouts loaded empty"


# ---- the banner: one mechanism, every page that reads a flagged table ----


@pytest.fixture
def flagged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny program with one of its three payouts quarantined (33%, over the 5% alarm), served."""
    files = dict(TINY)
    files["payouts.csv"] = TINY["payouts.csv"].rstrip() + "\nPO3,P1,10,bonus,Q2 2026,,paid,\n"
    db = tmp_path / "pulse.duckdb"
    build_database(write_extracts(tmp_path / "extracts", files), db)
    monkeypatch.setenv("PULSE_DB", str(db))
    return db


def banners(at) -> list[str]:
    return [w.value for w in at.warning if "did not load" in w.value]


def test_pages_that_read_a_flagged_table_show_one_banner_and_the_others_none(flagged: Path):
    health = open_page("health")
    assert not health.exception
    assert banners(health) == [
        "Some data this page reads did not load: over 5% of an extract's rows were quarantined, and the figures below "
        "leave those rows out. The Data page lists them with the reasons.\n\n"
        "- Payouts: 1 of 3 rows (33%) of payouts.csv were quarantined"
    ]
    forecast = open_page("forecast")  # reads deals and their history, not payouts
    assert not forecast.exception
    assert banners(forecast) == []


def test_the_data_page_shows_the_alarm_and_its_reasons(flagged: Path):
    at = open_page("data")
    assert not at.exception
    assert len(banners(at)) == 1
    report = at.dataframe[0].value
    assert report.loc[report["table_name"] == "payouts", "quarantine_alarm"].tolist() == [True]
    expanders = at.main.expander
    assert [e.label for e in expanders] == ["Payouts (payouts.csv): warnings"]
    assert "1 of 3 rows \\(33\\.3%\\) of payouts\\.csv were quarantined" in expanders[0].markdown[0].value


def test_no_banner_anywhere_on_a_clean_program(tiny_db: Path):
    for page in ("health", "data"):
        at = open_page(page)
        assert not at.exception
        assert banners(at) == []


def test_every_page_in_the_navigation_declares_the_tables_it_reads():
    tree = ast.parse((PROJECT / "app.py").read_text(encoding="utf-8"))
    titles = [
        node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "page" and len(node.args) > 1
    ]
    assert titles, "app.py's page list was not found"
    missing = [title for title in titles if title not in ui.PAGE_READS]
    assert not missing, f"add these pages to ui.PAGE_READS with the extract tables they read: {missing}"
    assert all(set(tables) <= set(ui.EVERY_TABLE) for tables in ui.PAGE_READS.values())
