"""Who sees what, decided below the pages: every page and output has a role decision, every
output declares its money columns and scope, and the runner refuses what a viewer may not run,
narrows a partner lead to their partners, drops money they may not see, and refuses a
parameter an output does not take (a misspelt filter is refused, not widened to every partner).

On the roles program of tests/test_roles_pages.py: Maria Lopez leads P1 (owed commission);
Sam Reed's P2 and P3 have payouts and pipeline of their own.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

import access
import queries
from settings import Settings
from tests.conftest import PROJECT
from tests.test_roles_pages import ROLES, build_roles_program

SETTINGS_JSON = Settings(roles=ROLES).model_dump_json()
LEAD = access.viewer_for({"is_logged_in": True, "email": "maria@example.com"}, SETTINGS_JSON)
CFO = access.viewer_for({"is_logged_in": True, "email": "cfo@example.com"}, SETTINGS_JSON)
ADMIN = access.viewer_for({"is_logged_in": True, "email": "admin@example.com"}, SETTINGS_JSON)
OUTPUTS = sorted(queries.outputs())
PAGES = sorted(path.stem for path in (PROJECT / "pages").glob("*.py"))
# A value for each required parameter, so every output can run on the roles program.
REQUIRED = {
    "partner_id": "P1",
    "opportunity_id": "O3",
    "model": "linear",
    "touch_rows": [0],
    "period_starts": [date(2026, 4, 1)],
    "period_ends": [date(2026, 6, 30)],
    "days": [date(2026, 6, 20)],
    "kind": "final",
    "opportunity_ids": ["O3"],
}


@pytest.fixture(scope="module")
def roles_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_roles_program(tmp_path_factory.mktemp("access"))


@pytest.fixture(scope="module")
def con(roles_db_path: Path):
    connection = queries.connect(roles_db_path)
    yield connection
    connection.close()


def required_params(name: str) -> dict:
    return {p.name: REQUIRED[p.name] for p in queries.output(name).params if p.required}


# ---- the registry ------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_a_role_decision(page: str):
    assert page in access.PAGES, f"pages/{page}.py has no role decision: add it to access.PAGES"


@pytest.mark.parametrize("name", OUTPUTS)
def test_every_output_has_a_role_decision_and_declares_its_money_and_scope(name: str):
    output = queries.output(name)
    where = f"{queries.sql_files()[name]}'s header" if name not in queries.PYTHON_OUTPUTS else f"{name}'s docstring"
    assert name in access.OUTPUTS, f"{name} has no role decision: add it to access.OUTPUTS"
    assert output.money is not None, f"{name} declares no money columns: add 'Money: ...' (or 'Money: none') to {where}"
    assert output.scope in ("partner", "program"), f"{name} declares no scope: add 'Scope: partner' or 'program' to {where}"


def test_the_registry_names_only_pages_and_outputs_that_exist():
    assert sorted(set(access.PAGES) - set(PAGES)) == []
    assert sorted(set(access.OUTPUTS) - set(OUTPUTS)) == []


@pytest.mark.parametrize("name", [name for name in OUTPUTS if queries.output(name).money])
def test_the_declared_money_columns_are_columns_of_the_output(con, name: str):
    frame = queries.execute(con, name, **required_params(name))
    assert set(queries.output(name).money) <= set(frame.columns), f"{name} declares money columns it does not have"


@pytest.mark.parametrize("name", [name for name in OUTPUTS if queries.output(name).scope == "program"])
def test_a_program_wide_output_names_no_partner(con, name: str):
    frame = queries.execute(con, name, **required_params(name))
    text = frame.with_columns(pl.col(pl.List(pl.String)).list.join(",")).cast(pl.String, strict=False).write_csv()
    named = sorted(set(re.findall(r"(?<![\w-])P[123](?![\w-])", text)) | {n for n in ("Acme", "Beacon", "Cobalt") if n in text})
    assert not named, f"{name} is declared program-wide but names partners {named}: declare it 'Scope: partner'"


def test_a_partner_lead_may_run_no_partner_level_output_that_cannot_be_narrowed_to_their_partners():
    unscoped = [
        name for name in OUTPUTS if queries.output(name).scope != "program" and not queries.output(name).takes("managers")
    ]
    assert "partner_activity_summary" in unscoped
    assert [name for name in unscoped if access.may(LEAD, name)] == []


def test_deny_by_default_an_unscoped_partner_output_is_refused_to_a_lead_even_when_the_registry_opens_it(
    con, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(access.OUTPUTS, "partner_activity_summary", access.EVERYONE)
    with pytest.raises(access.Refused, match="cannot be narrowed to a partner lead's own"):
        access.run(con, LEAD, "partner_activity_summary")
    assert access.run(con, CFO, "partner_activity_summary")["partner_id"].sort().to_list() == ["P1", "P2", "P3"]


def test_an_output_without_a_role_decision_is_refused_to_everyone(con, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(access.OUTPUTS, "load_report")
    for viewer in (LEAD, CFO, ADMIN):
        with pytest.raises(access.Refused, match="no role decision"):
            access.run(con, viewer, "load_report")


def test_a_role_the_registry_does_not_name_is_refused(con):
    with pytest.raises(access.Refused, match="not shown to a viewer with the role partner_lead"):
        access.run(con, LEAD, "attribution_disagreements")
    with pytest.raises(access.Refused, match="not shown to a viewer with the role finance"):
        access.run(con, CFO, "quarantine")
    stranger = access.viewer_for({"is_logged_in": True, "email": "stranger@example.com"}, SETTINGS_JSON)
    with pytest.raises(access.Refused, match="without a role"):
        access.run(con, stranger, "load_report")
    assert access.run(con, ADMIN, "quarantine").is_empty()


# ---- parameters ---------------------------------------------------------------------------


def test_a_misspelt_filter_is_refused_not_widened_to_every_partner(con):
    listed = r"partner_signals takes no parameter manager \(it takes: as_of \(date\), managers \(varchar\[\]\), regions"
    with pytest.raises(queries.ParamError, match=listed):
        queries.execute(con, "partner_signals", manager=["Maria Lopez"])
    with pytest.raises(queries.ParamError, match="partner_search takes no parameter manager"):
        access.run(con, CFO, "partner_search", manager=["Maria Lopez"])
    with pytest.raises(queries.ParamError, match="takes no parameter regoins"):
        queries.execute(con, "cohort_curves", regoins=["EMEA"])


def test_a_required_parameter_left_out_is_refused_with_the_parameters_the_output_takes(con):
    message = r"partner_profile needs partner_id \(it takes: partner_id \(varchar, required\), managers \(varchar\[\]\)\)"
    with pytest.raises(queries.ParamError, match=message):
        queries.execute(con, "partner_profile")
    with pytest.raises(queries.ParamError, match="partner_health_history needs partner_id"):
        access.run(con, ADMIN, "partner_health_history", partner_id=None)
    with pytest.raises(queries.ParamError, match="disagreement_evidence needs opportunity_id"):
        queries.execute(con, "disagreement_evidence", as_of=None)


def test_an_optional_parameter_left_out_means_what_its_header_says(con):
    everyone = queries.execute(con, "partner_search")
    assert everyone["partner_id"].to_list() == ["P1", "P2", "P3"]
    assert queries.execute(con, "partner_search", managers=["Sam Reed"])["partner_id"].to_list() == ["P2", "P3"]


# ---- what each viewer gets --------------------------------------------------------------


def test_a_lead_is_narrowed_to_their_partners_whatever_the_caller_passes(con):
    assert access.run(con, LEAD, "partner_search")["partner_id"].to_list() == ["P1"]
    assert access.run(con, LEAD, "partner_search", managers=None)["partner_id"].to_list() == ["P1"]
    assert access.run(con, LEAD, "partner_search", managers=["Sam Reed"]).is_empty()
    assert access.run(con, CFO, "partner_search", managers=["Sam Reed"])["partner_id"].to_list() == ["P2", "P3"]


def test_a_lead_asking_for_another_managers_partner_gets_nothing_of_it(con):
    for name in ("partner_profile", "partner_deals", "partner_timeline", "partner_payouts", "partner_activity_by_month"):
        assert access.run(con, LEAD, name, partner_id="P2").is_empty(), name
        assert not access.run(con, CFO, name, partner_id="P2").is_empty(), name
    assert access.run(con, LEAD, "partner_credit_by_model", partner_id="P2").is_empty()
    assert access.run(con, LEAD, "partner_health_history", partner_id="P2").is_empty()
    assert not access.run(con, LEAD, "partner_health_history", partner_id="P1").is_empty()


def test_a_deal_sourced_by_another_managers_partner_does_not_name_it_to_a_lead(con):
    deals = {row["opportunity_id"]: row for row in access.run(con, LEAD, "partner_deals", partner_id="P1").iter_rows(named=True)}
    assert (deals["O3"]["involvement"], deals["O3"]["sourced_partner_id"]) == ("registered, touched", None)
    assert deals["O1"]["sourced_partner_id"] == "P1"
    assert access.run(con, CFO, "partner_deals", partner_id="P1").filter(pl.col("opportunity_id") == "O3")[
        "sourced_partner_id"
    ].to_list() == ["P2"]


def test_money_columns_are_dropped_for_a_lead_and_kept_for_finance(con):
    lead = access.run(con, LEAD, "partner_payouts", partner_id="P1")
    assert lead.columns == ["payout_id", "payout_type", "period", "status", "paid_at", "opportunity_id"]
    assert lead["payout_id"].to_list() == ["PO1"]
    assert [float(v) for v in access.run(con, CFO, "partner_payouts", partner_id="P1")["amount"]] == [317.29]
    assert "payouts" not in access.run(con, LEAD, "partner_profile", partner_id="P1").columns
    tier_check = access.run(con, LEAD, "tier_check").columns
    assert {"credit_12m", "held_rate", "qualified_rate", "payout_difference"}.isdisjoint(tier_check)
    assert {"cost_of_channel", "partner_roi"}.isdisjoint(access.run(con, LEAD, "kpi_breakdown").columns)


def test_text_and_rows_for_a_lead_are_built_without_the_amounts(con):
    lead = access.run(con, LEAD, "partner_signals").row(0, named=True)
    assert "unpaid_credit" not in lead
    assert lead["at_risk_reasons"] == "quiet 139 days; open pipeline $5,000 (1 deal); unpaid commission"
    cfo = access.run(con, CFO, "partner_signals").filter(pl.col("partner_id") == "P1").row(0, named=True)
    assert cfo["at_risk_reasons"] == "quiet 139 days; open pipeline $5,000 (1 deal); unpaid commission $203"
    assert float(cfo["unpaid_credit"]) == 203.47
    payout = access.run(con, LEAD, "partner_timeline", partner_id="P1").filter(pl.col("kind") == "Payout")
    assert payout.select("event", "amount", "detail").rows() == [("commission (paid)", None, "PO1")]
    assert "cost_of_channel" not in access.run(con, LEAD, "program_kpis")["kpi"].to_list()
    assert "cost_of_channel" not in access.run(con, LEAD, "kpi_trend_by_quarter")["kpi"].to_list()
    assert {"cost_of_channel", "partner_roi"} <= set(access.run(con, CFO, "program_kpis")["kpi"])


def test_whether_the_viewer_sees_money_is_the_runners_to_set_not_the_callers(con):
    with pytest.raises(queries.ParamError, match="sees_money is set from the viewer"):
        access.run(con, LEAD, "partner_signals", sees_money=True)


def test_a_page_run_without_a_viewer_may_read_only_what_the_frame_needs(roles_db_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DB", str(roles_db_path))
    assert "settings_json" in queries.run("program_meta")["key"].to_list()
    with pytest.raises(access.Refused):
        queries.run("partner_signals")


# ---- the command line --------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queries", *args], cwd=PROJECT, capture_output=True, text=True, timeout=300)


def test_an_export_as_a_partner_lead_holds_their_partners_without_commission_amounts(roles_db_path: Path):
    exported = cli("export", "partner_signals", "--db", str(roles_db_path), "--as", "maria@example.com")
    assert exported.returncode == 0, exported.stderr
    assert "unpaid_credit" not in exported.stdout.splitlines()[0].split(",")
    assert 'unpaid commission"' in exported.stdout and "$203" not in exported.stdout
    assert [line.split(",")[0] for line in exported.stdout.splitlines()[1:]] == ["P1"]
    whole = cli("export", "partner_signals", "--db", str(roles_db_path))
    assert "unpaid commission $203" in whole.stdout


def test_an_export_the_viewer_may_not_run_or_missing_a_required_parameter_is_refused(roles_db_path: Path):
    refused = cli("export", "attribution_credit", "--db", str(roles_db_path), "--as", "maria@example.com")
    assert refused.returncode == 2 and "not shown to a viewer with the role partner_lead" in refused.stderr
    missing = cli("export", "partner_profile", "--db", str(roles_db_path))
    assert missing.returncode == 2 and "partner_profile needs partner_id" in missing.stderr
