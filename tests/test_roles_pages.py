"""Every role on every page: it renders without an exception or is not offered; a partner lead's
tables and downloads hold only their own partners; payout amounts only reach finance,
executives and admins.

Runs against whatever pages exist in pages/. A failure names the page, the role and what
leaked (a column, a partner, a metric): those are real leaks for the page's owner to fix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from loaders.build import build_database
from settings import Role, Settings
from tests.conftest import APP, PROJECT, TINY, write_extracts

# Maria Lopez manages P1 only; Sam Reed manages P2 and P3.
USERS = {
    "executive": "exec@example.com",
    "partner_lead": "maria@example.com",
    "finance": "cfo@example.com",
    "admin": "admin@example.com",
}
ROLES = {
    "exec@example.com": Role(role="executive"),
    "maria@example.com": Role(role="partner_lead", partner_managers=["Maria Lopez"]),
    "cfo@example.com": Role(role="finance"),
    "admin@example.com": Role(role="admin"),
}
OWN_PARTNERS = {"P1"}
OWN_NAMES = {"Acme Partners"}
OTHER_NAMES = {"Beacon Systems", "Cobalt Consulting"}
FINANCE_PAGES = {"attribution", "disagreements"}
PAGES = sorted(path.stem for path in (PROJECT / "pages").glob("*.py"))
# Money a partner lead must not see: payout amounts and commissions (column names, metric labels).
MONEY_WORDS = ("payout", "commission", "liability", "cost_of_channel", "cost of channel", "paid_amount", "accrued")

# The tiny program plus money and activity on the other manager's partners, so a leak shows.
FILES = {
    **TINY,
    "payouts.csv": """
        payout_id,partner_id,amount,payout_type,period,opportunity_id,status,paid_at
        PO1,P1,100,commission,2026-05-01,O1,paid,2026-06-15
        PO2,P1,150,commission,2026-06-01,O2,accrued,
        PO3,P2,777,commission,2026-06-01,O2,paid,2026-06-20
        PO4,P3,55,bonus,2026-04-01,,paid,2026-04-20
        PO5,P3,-66,bonus,2026-04-01,,paid,2026-04-20
    """,
}


@pytest.fixture(scope="module")
def roles_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("roles")
    db = folder / "roles.duckdb"
    build_database(write_extracts(folder / "x", FILES), db, settings=Settings(roles=ROLES))
    return db


@pytest.fixture
def roles_db(roles_db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PULSE_DB", str(roles_db_path))
    return roles_db_path


class Capture:
    """Every file the app offers in a download button, by the id the button carries: the
    writer the click runs (downloads are written when clicked)."""

    def __init__(self) -> None:
        self.files: dict[str, Callable[[], bytes]] = {}
        original = MediaFileManager.add_deferred
        capture = self

        def recording(self, data_callable, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            file_id = original(self, data_callable, *args, **kwargs)
            capture.files[file_id] = data_callable
            return file_id

        self.recording = recording


def open_as(role: str, page: str, partner: str = "P1") -> AppTest | None:
    """The page as this role sees it, or None when the page is not offered to the role."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.user = {"is_logged_in": True, "email": USERS[role]}
    at.query_params["period"] = "All time"
    at.query_params["partner"] = partner
    at.run()
    try:
        at.switch_page(f"pages/{page}.py")
    except ValueError as exc:
        assert "Could not find a navigation page" in str(exc)
        return None
    return at.run()


VISITS = [(role, page, "P1") for role in USERS for page in PAGES] + [("partner_lead", "partner", "P2")]


@pytest.fixture(scope="module")
def visits(roles_db_path: Path) -> dict[tuple[str, str, str], tuple[AppTest | None, dict[str, Callable[[], bytes]]]]:
    """Every role on every page, run once for the module (the Streamlit caches stay warm between
    runs, as on a server), with the downloads each run offered."""
    capture = Capture()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULSE_DB", str(roles_db_path))
        patch.setattr(MediaFileManager, "add_deferred", capture.recording)
        results = {}
        for visit in VISITS:
            capture.files = {}
            results[visit] = (open_as(*visit), capture.files)
    return results


def frames(at: AppTest, captured: dict[str, Callable[[], bytes]]) -> list[tuple[str, pl.DataFrame]]:
    """Every table shown and every CSV offered for download on the page."""
    shown = [(f"table {i + 1}", pl.from_pandas(table.value.reset_index(drop=True))) for i, table in enumerate(at.dataframe)]
    for button in at.get("download_button"):
        file_id = button.proto.deferred_file_id
        write = captured.get(file_id)
        data = write() if write else None
        if data:
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
            if rows:
                frame = pl.DataFrame({name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])})
                shown.append((f"download {file_id} ({button.label})", frame))
    return shown


def scope_leaks(at: AppTest, captured: dict[str, Callable[[], bytes]]) -> list[str]:
    leaks = []
    for where, frame in frames(at, captured):
        if "partner_id" in frame.columns:
            others = sorted(set(frame["partner_id"].cast(pl.String).drop_nulls()) - OWN_PARTNERS)
            if others:
                leaks.append(f"{where}: partner_id {others}")
        if "partner_manager" in frame.columns:
            others = sorted(set(frame["partner_manager"].cast(pl.String).drop_nulls()) - {"Maria Lopez"})
            if others:
                leaks.append(f"{where}: partner_manager {others}")
        for column in frame.columns:
            if frame.schema[column] == pl.String:
                names = sorted({value for value in frame[column].drop_nulls() for name in OTHER_NAMES if name in value})
                if names and column not in ("partner_id", "partner_manager"):
                    leaks.append(f"{where}: column {column!r} names other managers' partners {names[:3]}")
                raw = sorted(
                    {
                        value[:80]
                        for value in frame[column].drop_nulls()
                        if '"partner_id":"P2"' in value or '"partner_id":"P3"' in value
                    }
                )
                if raw:
                    leaks.append(f"{where}: column {column!r} holds rows of other managers' partners {raw[:2]}")
    text = " ".join(str(element.value) for element in [*at.markdown, *at.title, *at.header, *at.subheader, *at.caption])
    named = sorted(name for name in OTHER_NAMES if name in text)
    if named:
        leaks.append(f"page text names other managers' partners {named}")
    return leaks


def money_leaks(at: AppTest, captured: dict[str, Callable[[], bytes]]) -> list[str]:
    leaks = []
    for where, frame in frames(at, captured):
        columns = [c for c in frame.columns if any(word in c.lower() for word in MONEY_WORDS)]
        if columns:
            leaks.append(f"{where}: money columns {columns}")
    for metric in at.metric:
        if any(word in metric.label.lower() for word in MONEY_WORDS):
            leaks.append(f"metric {metric.label!r} = {metric.value}")
    return leaks


def failure(at: AppTest) -> str:
    return "\n".join("\n".join(e.stack_trace or [e.message]) for e in at.exception)


@pytest.mark.parametrize("role", list(USERS))
@pytest.mark.parametrize("page", PAGES)
def test_every_role_sees_every_page_it_is_offered_without_an_exception(visits, role: str, page: str):
    at, _ = visits[role, page, "P1"]
    if at is None:
        assert role == "partner_lead" and page in FINANCE_PAGES, f"pages/{page}.py is not offered to {role}"
        return
    assert not (role == "partner_lead" and page in FINANCE_PAGES), f"pages/{page}.py is offered to a partner lead"
    assert not at.exception, f"pages/{page}.py as {role}:\n{failure(at)}"


@pytest.mark.parametrize("page", sorted(set(PAGES) - FINANCE_PAGES))
def test_a_partner_leads_tables_and_downloads_hold_only_their_partners(visits, page: str):
    at, files = visits["partner_lead", page, "P1"]
    assert at is not None and not at.exception
    leaks = scope_leaks(at, files)
    assert not leaks, f"LEAK (scope) on pages/{page}.py for a partner lead:\n" + "\n".join(leaks)


@pytest.mark.parametrize("page", sorted(set(PAGES) - FINANCE_PAGES))
def test_a_partner_lead_sees_no_payout_amounts(visits, page: str):
    at, files = visits["partner_lead", page, "P1"]
    assert at is not None and not at.exception
    leaks = money_leaks(at, files)
    assert not leaks, f"LEAK (payouts) on pages/{page}.py for a partner lead:\n" + "\n".join(leaks)


def test_a_partner_lead_opening_another_managers_partner_sees_nothing_of_it(visits):
    at, files = visits["partner_lead", "partner", "P2"]
    assert at is not None and not at.exception
    leaks = scope_leaks(at, files)
    if leaks:
        leaks += [f"metric {m.label!r} = {m.value}" for m in at.metric]
    assert not leaks, "LEAK (scope) on pages/partner.py?partner=P2 for a partner lead:\n" + "\n".join(leaks)


@pytest.mark.parametrize("role", ["executive", "finance", "admin"])
def test_finance_roles_see_every_partner(visits, role: str):
    at, files = visits[role, "engagement", "P1"]
    assert at is not None and not at.exception
    partners = set()
    for _, frame in frames(at, files):
        if "partner_id" in frame.columns:
            partners |= set(frame["partner_id"].cast(pl.String).drop_nulls())
    assert {"P1", "P2"} <= partners, "the scope only narrows a partner lead"


@pytest.mark.parametrize("role", list(USERS))
def test_only_an_admin_is_offered_the_upload(visits, role: str):
    at, _ = visits[role, "data", "P1"]
    assert at is not None and not at.exception
    assert bool(at.get("file_uploader")) == (role == "admin"), role
