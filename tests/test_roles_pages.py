"""Every role on every page: it renders without an exception or is not offered; a partner lead's
page text, tables, charts and downloads hold only their own partners and no payout or commission
amount; finance, executives and admins do see those amounts (so the checks can fail).

The program is built so a leak shows: the lead's own partner (P1, Acme Partners) is dormant, at
risk, in disagreements, paid commissions and owed more; the other manager's partners (P2, P3) have
payouts, pipeline and disagreements of their own. Runs against whatever pages exist in pages/; a
failure names the page, the role and what leaked.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from google.protobuf.json_format import MessageToDict
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

import queries
import state
from loaders.build import build_database
from settings import Role, Settings
from tests.conftest import APP, PROJECT, write_extracts

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
SEES_MONEY = {"executive", "finance", "admin"}
OWN_PARTNERS = {"P1"}
OTHER_PARTNERS = {"P2", "P3"}
OTHER_NAMES = {"Beacon Systems", "Cobalt Consulting"}
FINANCE_PAGES = {"attribution", "disagreements", "statement"}
PAGES = sorted(path.stem for path in (PROJECT / "pages").glob("*.py"))
# Column names and card labels that mean payout money (a column so named may not hold amounts).
MONEY_WORDS = ("payout", "commission", "liability", "cost_of_channel", "cost of channel", "paid_amount", "accrued")
# A clause about payout money: it may not quote a dollar amount to a viewer without money access.
MONEY_CLAUSE = re.compile(r"commission|payout|liabilit|owed|unpaid", re.IGNORECASE)

# As of 2026-06-20 (the latest event). Acme (P1) was last busy 2026-02-01, only logins since:
# dormant, with open pipeline (O2) and commission owed on O1 (won 2026-01-15, gold 10% of
# 2,034.70 = 203.47, never paid, past the 60-day terms); it registered O3, which the CRM says P2
# sourced (a crm_vs_registration disagreement), and was paid 317.29 against 150.07 expected on O3.
FILES = {
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at,region,country,partner_manager,status
        P1,Acme Partners,referral;reseller,gold,2025-01-15,EMEA,DE,Maria Lopez,active
        P2,Beacon Systems,integration,silver,2025-02-01,NA,US,Sam Reed,active
        P3,Cobalt Consulting,services,registered,2024-06-01,NA,CA,Sam Reed,active
    """,
    "partner_activities.csv": """
        activity_id,partner_id,activity_type,occurred_at
        A1,P1,training_completed,2025-11-10 10:00:00
        A2,P1,co_selling_call,2026-02-01 10:00:00
        A3,P1,portal_login,2026-06-18 10:00:00
        A4,P2,deal_registered,2025-12-01 10:00:00
        A5,P2,portal_login,2026-06-19 10:00:00
        A6,P3,co_marketing,2026-06-10 10:00:00
        A7,P3,business_review,2026-06-20 10:00:00
    """,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,is_closed,is_won,forecast_category,sourced_partner_id,region,account_name
        O1,2034.70,Closed Won,2025-12-01,2026-01-15,true,true,closed,P1,EMEA,Alpha GmbH
        O2,5000,Negotiation/Review,2026-03-01,2026-08-30,false,false,commit,P1,EMEA,Bravo AG
        O3,3001.40,Closed Won,2026-01-10,2026-03-01,true,true,closed,P2,NA,Charlie Ltd
        O4,4000,Proposal/Price Quote,2026-04-01,2026-09-15,false,false,best_case,P2,NA,Delta LLC
        O5,2500,Closed Won,2026-02-01,2026-05-10,true,true,closed,,NA,Echo Co
        O6,1800,Closed Lost,2026-01-05,2026-04-20,true,false,omitted,P3,NA,Foxtrot Inc
    """,
    "touchpoints.csv": """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T1,O1,P1,referral,2025-12-01 10:00:00
        T2,O2,P1,co_selling,2026-03-05 10:00:00
        T3,O3,P1,co_selling,2026-01-20 10:00:00
        T4,O3,P2,integration,2026-02-10 10:00:00
        T5,O4,P2,technical_validation,2026-04-10 10:00:00
        T6,O6,P3,implementation,2026-02-01 10:00:00
    """,
    "deal_registrations.csv": """
        registration_id,partner_id,registered_at,status,opportunity_id,claimed_role,decided_at
        R1,P1,2026-01-12 10:00:00,approved,O3,sourced,2026-01-14 10:00:00
        R2,P2,2026-04-02 10:00:00,approved,O4,sourced,2026-04-03 10:00:00
    """,
    "payouts.csv": """
        payout_id,partner_id,amount,payout_type,period,opportunity_id,status,paid_at
        PO1,P1,317.29,commission,2026-04-01,O3,paid,2026-04-20
        PO2,P2,777.31,commission,2026-04-01,O3,paid,2026-04-25
        PO3,P3,55.55,bonus,2026-05-01,,paid,2026-05-20
    """,
}


def build_roles_program(folder: Path) -> Path:
    """The program above, built by the real loaders with the roles, in `folder`."""
    db = folder / "roles.duckdb"
    build_database(write_extracts(folder / "x", FILES), db, settings=Settings(roles=ROLES))
    return db


@pytest.fixture(scope="module")
def roles_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_roles_program(tmp_path_factory.mktemp("roles"))


@pytest.fixture(scope="module")
def money_values(roles_db_path: Path) -> set[Decimal]:
    """Every payout and commission amount in the database: payouts as loaded; commission earned,
    paid and owed per partner (10% of gold credit, 8% of silver, ...); what a held tier changes
    in payouts; the payout money at stake in disagreements."""
    with duckdb.connect(str(roles_db_path), read_only=True) as con:
        payouts = [row[0] for row in con.sql("select amount from payouts").fetchall()]
    con = queries.connect(roles_db_path)
    owed = queries.execute(con, "unpaid_credit_by_partner").select("commission_earned", "commission_paid", "unpaid_credit")
    differences = queries.execute(con, "tier_check")["payout_difference"]
    at_stake = queries.execute(con, "attribution_disagreements").filter(pl.col("kind") != "crm_vs_registration")
    found = [*payouts, *(v for row in owed.rows() for v in row), *differences, *at_stake["amount_at_stake"]]
    values = {Decimal(str(value)) for value in found if value}
    # What the checks look for: 203.47 owed by Acme, 317.29 and 777.31 paid, 176.77 Acme's tier
    # difference, 167.22 paid over the plan to Acme.
    assert {Decimal(v) for v in ("203.47", "317.29", "777.31", "176.77", "167.22")} <= values
    return values


class Capture:
    """Every CSV the app offers in a download button, by the id the button carries, written as a
    click would write it (downloads are written when clicked)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        original = MediaFileManager.add_deferred
        capture = self

        def recording(self, data_callable, mimetype, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            file_id = original(self, data_callable, mimetype, *args, **kwargs)
            if mimetype == "text/csv":
                capture.files[file_id] = data_callable()
            return file_id

        self.recording = recording


def open_as(role: str, page: str, partner: str = "P1", tab: int = 0) -> AppTest | None:
    """The page as this role sees it, or None when the page is not offered to the role: every
    expander open, and in every group of tabs the one at position `tab` (the first where a group
    has fewer), as the user opens them; a closed one is not run, so a leak in it would not show."""
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
    for key in state.LAZY_EXPANDERS:
        at.session_state[key] = True
    for key in state.LAZY_TABS:
        at.session_state[f"_{key}_open"] = tab
    return at.run()


VISITS = [(role, page, "P1") for role in USERS for page in PAGES] + [("partner_lead", "partner", "P2")]


@pytest.fixture(scope="module")
def visits(roles_db_path: Path) -> dict[tuple[str, str, str], tuple[AppTest | None, dict[str, bytes]]]:
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


@pytest.fixture(scope="module")
def lead_views(visits, roles_db_path: Path) -> dict[str, list[tuple[AppTest, dict[str, bytes]]]]:
    """Every page a partner lead is offered, once per tab position: the visit above (the first
    tabs) and one run per further position, so the leak checks read every tab's content."""
    capture = Capture()
    views: dict[str, list[tuple[AppTest, dict[str, bytes]]]] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULSE_DB", str(roles_db_path))
        patch.setattr(MediaFileManager, "add_deferred", capture.recording)
        for page in PAGES:
            first = visits["partner_lead", page, "P1"]
            if first[0] is None:
                continue
            views[page] = [first]
            for tab in range(1, len(first[0].tabs)):
                capture.files = {}
                views[page].append((open_as("partner_lead", page, tab=tab), capture.files))
    return views


def frames(at: AppTest, captured: dict[str, bytes]) -> list[tuple[str, pl.DataFrame]]:
    """Every table shown and every CSV offered for download on the page (cells as text)."""
    shown = [
        (f"table {i + 1}", pl.from_pandas(table.value.reset_index(drop=True).astype(str))) for i, table in enumerate(at.dataframe)
    ]
    for where, data in downloads(at, captured):
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        if rows:
            shown.append((where, pl.DataFrame({name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])})))
    return shown


def downloads(at: AppTest, captured: dict[str, bytes]) -> list[tuple[str, bytes]]:
    found = []
    for button in at.get("download_button"):
        file_id = button.proto.deferred_file_id
        if file_id in captured:
            found.append((f"download {file_id} ({button.label})", captured[file_id]))
    return found


def strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def rendered(at: AppTest, captured: dict[str, bytes]) -> list[tuple[str, str]]:
    """Everything the page puts in front of the viewer, as text: every element's fields (titles,
    captions, markdown, metrics and their help, labels, widget options, tabs, chart figures),
    every table cell and every downloaded file's bytes."""
    texts = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is None or node.type in ("arrow_data_frame", "dataframe"):
            continue  # tables: their cells below
        fields = MessageToDict(proto, preserving_proto_field_name=True)
        if node.type == "plotly_chart":  # the figure's traces: values and hover text
            fields["spec"] = json.dumps(json.loads(fields.get("spec") or "{}").get("data", []), ensure_ascii=False)
        texts.extend((f"{node.type} {getattr(node, 'label', '') or ''}".strip(), text) for text in strings(fields))
    for where, frame in frames(at, captured)[: len(at.dataframe)]:
        for column in frame.columns:
            texts.extend((f"{where}, column {column!r}", value) for value in frame[column].drop_nulls() if value)
    texts.extend((where, data.decode("utf-8")) for where, data in downloads(at, captured))
    return texts


def amount_forms(value: Decimal) -> re.Pattern:
    """An amount as the app could write it: 203.47, 203.5, $203, $0.2k."""
    exact = re.escape(f"{value:f}".rstrip("0").rstrip("."))
    whole = f"{abs(value):,.0f}"
    return re.compile(rf"(?<![\d.]){exact}(?!\d)|\$-?{re.escape(whole)}(?![\d,])")


def money_leaks(at: AppTest, captured: dict[str, bytes], values: set[Decimal]) -> list[str]:
    leaks = []
    for where, frame in frames(at, captured):
        # A payout's id, type and status may show; a column of payout amounts may not.
        columns = [
            c
            for c in frame.columns
            if any(word in c.lower() for word in MONEY_WORDS) and frame[c].str.contains(r"^-?\d+(\.\d+)?$").any()
        ]
        if columns:
            leaks.append(f"{where}: money columns {columns}")
    for metric in at.metric:
        if any(word in metric.label.lower() for word in MONEY_WORDS):
            leaks.append(f"metric {metric.label!r} = {metric.value}")
    forms = [(value, amount_forms(value)) for value in sorted(values)]
    for where, text in rendered(at, captured):
        for clause in re.split(r"[;\n]|\. |<br>|\", \"", text):
            if MONEY_CLAUSE.search(clause) and re.search(r"\$\s?\d", clause):
                leaks.append(f"{where}: amount in {clause.strip()[:100]!r}")
        for value, form in forms:
            match = form.search(text)
            if match:
                context = text[max(0, match.start() - 50) : match.end() + 30].replace("\n", " ")
                leaks.append(f"{where}: {value} as {match.group(0)!r} in ...{context}...")
    return leaks


OTHER_IDS = re.compile(r"(?<![\w-])(?:" + "|".join(sorted(OTHER_PARTNERS)) + r")(?![\w-])")


def scope_leaks(at: AppTest, captured: dict[str, bytes]) -> list[str]:
    leaks = []
    for where, frame in frames(at, captured):
        if "partner_manager" in frame.columns:
            others = sorted(set(frame["partner_manager"]) - {"Maria Lopez", "", "None", "nan"})
            if others:
                leaks.append(f"{where}: partner_manager {others}")
    for where, text in rendered(at, captured):
        found = sorted({*OTHER_IDS.findall(text), *(name for name in OTHER_NAMES if name in text)})
        if found:
            leaks.append(f"{where}: names other managers' partners {found} in {text[:100]!r}")
    return leaks


def failure(at: AppTest) -> str:
    return "\n".join("\n".join(e.stack_trace or [e.message]) for e in at.exception)


@pytest.mark.parametrize("role", list(USERS))
@pytest.mark.parametrize("page", PAGES)
def test_every_role_sees_every_page_it_is_offered_without_an_exception(visits, role: str, page: str):
    at, _ = visits[role, page, "P1"]
    # A partner's statement is what finance sends the partner: finance and admins only.
    withheld = (role == "partner_lead" and page in FINANCE_PAGES) or (role == "executive" and page == "statement")
    if at is None:
        assert withheld, f"pages/{page}.py is not offered to {role}"
        return
    assert not withheld, f"pages/{page}.py is offered to {role}"
    assert not at.exception, f"pages/{page}.py as {role}:\n{failure(at)}"


@pytest.mark.parametrize("page", sorted(set(PAGES) - FINANCE_PAGES))
def test_a_partner_leads_page_text_tables_charts_and_downloads_name_only_their_partners(lead_views, page: str):
    assert page in lead_views, f"pages/{page}.py is not offered to a partner lead"
    for tab, (at, files) in enumerate(lead_views[page]):
        assert not at.exception, failure(at)
        leaks = scope_leaks(at, files)
        assert not leaks, f"LEAK (scope) on pages/{page}.py, tab position {tab}, for a partner lead:\n" + "\n".join(leaks)


@pytest.mark.parametrize("page", sorted(set(PAGES) - FINANCE_PAGES))
def test_a_partner_lead_sees_no_payout_or_commission_amount_anywhere(lead_views, money_values, page: str):
    assert page in lead_views, f"pages/{page}.py is not offered to a partner lead"
    for tab, (at, files) in enumerate(lead_views[page]):
        assert not at.exception, failure(at)
        leaks = money_leaks(at, files, money_values)
        assert not leaks, f"LEAK (money) on pages/{page}.py, tab position {tab}, for a partner lead:\n" + "\n".join(leaks)


@pytest.mark.parametrize("role", sorted(SEES_MONEY))
@pytest.mark.parametrize("page", ["engagement", "partner"])
def test_finance_executives_and_admins_see_the_commission_owed_and_the_payouts(visits, money_values, role: str, page: str):
    at, files = visits[role, page, "P1"]
    assert at is not None and not at.exception, failure(at) if at else page
    assert money_leaks(at, files, money_values), f"pages/{page}.py shows {role} no payout or commission amount"


def test_the_lead_is_told_why_their_partner_is_at_risk_without_the_amount_owed(visits):
    at, _ = visits["partner_lead", "engagement", "P1"]
    at_risk = pl.from_pandas(at.dataframe[0].value)
    assert at_risk["partner_id"].to_list() == ["P1"]
    assert at_risk["at_risk_reasons"].to_list() == ["quiet 139 days; open pipeline $5,000 (1 deal); unpaid commission"]
    admin, _ = visits["admin", "engagement", "P1"]
    reasons = dict(pl.from_pandas(admin.dataframe[0].value).select("partner_id", "at_risk_reasons").iter_rows())
    assert reasons["P1"] == "quiet 139 days; open pipeline $5,000 (1 deal); unpaid commission $203"


def test_a_partner_lead_opening_another_managers_partner_sees_nothing_of_it(visits, money_values):
    at, files = visits["partner_lead", "partner", "P2"]
    assert at is not None and not at.exception
    leaks = scope_leaks(at, files) + money_leaks(at, files, money_values)
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
            partners |= set(frame["partner_id"])
    assert {"P1", "P2", "P3"} <= partners, "the scope only narrows a partner lead"


@pytest.mark.parametrize("role", list(USERS))
def test_only_an_admin_is_offered_the_upload(visits, role: str):
    at, _ = visits[role, "data", "P1"]
    assert at is not None and not at.exception
    assert bool(at.get("file_uploader")) == (role == "admin"), role


def test_the_leak_checks_read_the_tabs_and_expanders_a_first_visit_does_not_open(lead_views):
    def tables(views) -> set[str]:
        return {column for at, _ in views for table in at.dataframe for column in table.value.columns}

    # Partner 360's payouts are its second tab; Program health's tier chart and calibration sit in expanders.
    assert "payout_id" in tables(lead_views["partner"]) - tables(lead_views["partner"][:1])
    health, _ = lead_views["health"][0]
    assert all(box.children for box in health.expander), [box.label for box in health.expander if not box.children]
    # Engagement's "All partners" list is its sixth tab and has the engagement score column.
    assert len(lead_views["engagement"]) == 6
