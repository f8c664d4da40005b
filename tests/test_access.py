"""Who sees what: local mode, deny by default, finance pages, a partner lead's scope."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import access
from loaders.build import build_database
from settings import Role, Settings
from tests.conftest import APP, TINY, write_extracts

ROLES = {
    "cfo@example.com": Role(role="finance"),
    "maria@example.com": Role(role="partner_lead", partner_managers=["Maria Lopez"]),
    "nobody-assigned@example.com": Role(role="partner_lead"),
}


@pytest.fixture
def roles_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "roles.duckdb"
    build_database(write_extracts(tmp_path / "x", TINY), db, settings=Settings(roles=ROLES))
    monkeypatch.setenv("PULSE_DB", str(db))
    return db


def run_as(user: dict) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = user
    return at.run()


def test_without_login_configured_the_app_runs_as_admin_and_says_so(roles_db: Path):
    at = run_as({})
    assert not at.exception
    assert any("Local mode" in info.value for info in at.sidebar.info)


def test_a_signed_in_user_without_a_role_sees_no_data(roles_db: Path):
    at = run_as({"is_logged_in": True, "email": "stranger@example.com"})
    assert not at.exception
    assert any("no role" in warning.value for warning in at.warning)
    assert not at.dataframe and not at.metric


def test_login_configured_but_not_signed_in_offers_sign_in(roles_db: Path):
    at = run_as({"is_logged_in": False})
    assert not at.exception
    assert [button.label for button in at.button] == ["Sign in"]


def test_a_partner_lead_is_scoped_to_their_own_partners():
    viewer = access.viewer_for(
        {"is_logged_in": True, "email": "Maria@Example.com"},
        Settings(roles=ROLES).model_dump_json(),
    )
    assert viewer.role == "partner_lead" and not viewer.sees_money
    assert viewer.scope(None) == ["Maria Lopez"]
    assert viewer.scope(["Sam Reed"]) == [access.NO_PARTNER]
    assert viewer.scope(["Maria Lopez", "Sam Reed"]) == ["Maria Lopez"]


def test_a_partner_lead_with_no_partners_assigned_sees_none():
    viewer = access.viewer_for(
        {"is_logged_in": True, "email": "nobody-assigned@example.com"}, Settings(roles=ROLES).model_dump_json()
    )
    assert viewer.scope(None) == [access.NO_PARTNER]


def test_finance_pages_are_not_offered_to_a_partner_lead(roles_db: Path):
    lead = run_as({"is_logged_in": True, "email": "maria@example.com"})
    cfo = run_as({"is_logged_in": True, "email": "cfo@example.com"})
    assert not lead.exception and not cfo.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        lead.switch_page("pages/disagreements.py")
    cfo.switch_page("pages/disagreements.py").run()
    assert not cfo.exception
