"""A Salesforce Data Export folder (Setup > Data Export) loads on the first try with the
`salesforce` preset: ISO-8859-1 files with quoted fields and 0/1 booleans, the empty-lookup
id, partners told apart from the other accounts, the deals' partners from OpportunityPartner
and Partner, the org's dated FX rates, Spanish stages decided by IsClosed / IsWon, and each
deal's own probability. Every row here is made up for the test."""

# Export rows are as wide as Salesforce writes them.
# ruff: noqa: E501

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from loaders.build import BuildRefused, build_database
from queries import execute
from settings import FxRate, SalesforceExport, Settings
from tests.conftest import open_page
from tests.loading import counts, quarantined, query

A = "001000000000001AAA"  # Distribuidora Andina: IsPartner, Type Channel Partner / Reseller
B = "001000000000002AAA"  # Soluciones Núñez: a customer by Type, but a deal's Partner__c
C = "001000000000003AAA"  # Tecnología Ñandú: a partner on a deal in OpportunityPartner.csv
D = "001000000000004AAA"  # Integradores del Sur: Type Technology Partner
E = "001000000000005AAA"  # Cliente Uno: a customer (and the account of deals O1, O2)
F = "001000000000006AAA"  # Tienda Dos: a customer
G = "001000000000007AAA"  # Cliente Tres: a customer
H = "001000000000008AAA"  # Socio de Cuenta: a Distributor of Cliente Uno in Partner.csv
EMPTY = "000000000000000AAA"  # Salesforce's empty lookup
OWNER = "005000000000001AAA"

EXPORT = {
    "Account.csv": f"""
        "Id","IsDeleted","Name","Type","BillingCountry","OwnerId","CreatedDate","IsPartner","Partner_Tier__c"
        "{A}","0","Distribuidora Andina, S.A.","Channel Partner / Reseller","Perú","{OWNER}","2024-02-01T10:00:00.000Z","1","Gold"
        "{B}","0","Soluciones Núñez","Customer - Direct","México","{OWNER}","2024-03-01T10:00:00.000Z","0",""
        "{C}","0","Tecnología Ñandú","Other","Paraguay","{OWNER}","2024-04-01T10:00:00.000Z","0","Silver"
        "{D}","0","Integradores del Sur","Technology Partner","Chile","{OWNER}","2024-05-01T10:00:00.000Z","0",""
        "{E}","0","Cliente Uno, S.A. de C.V.","Customer - Direct","México","{OWNER}","2023-01-01T10:00:00.000Z","0",""
        "{F}","0","Tienda Dos","Customer - Channel","España","{OWNER}","2023-01-01T10:00:00.000Z","0",""
        "{G}","0","Cliente Tres","Customer - Direct","Brasil","{OWNER}","2023-01-01T10:00:00.000Z","0",""
        "{H}","0","Socio de Cuenta","Other","Colombia","{OWNER}","2024-06-01T10:00:00.000Z","0",""
    """,
    "Opportunity.csv": f"""
        "Id","IsDeleted","AccountId","Name","StageName","Amount","Probability","CloseDate","Type","LeadSource","IsClosed","IsWon","ForecastCategoryName","CurrencyIsoCode","OwnerId","CreatedDate","Partner__c"
        "O1","0","{E}","Renovación, anual","Cerrada Ganada","10000.00","100","2025-03-15","Renewal","Partner","1","1","Closed","USD","{OWNER}","2025-01-10T09:00:00.000Z","{B}"
        "O2","0","{E}","Expansión ""Norte"" zona","Cerrada Ganada","200000.00","100","2025-06-10","New Business","Web","1","1","Closed","MXN","{OWNER}","2025-02-01T09:00:00.000Z","{EMPTY}"
        "O3","0","{F}","Tienda piloto","Cerrada Perdida","5000.00","0","2025-05-20","New Business","Web","1","0","Omitted","EUR","{OWNER}","2025-02-15T09:00:00.000Z",""
        "O4","0","{G}","Propuesta grande","Propuesta","100000.00","50","2025-12-15","New Business","Partner","0","0","Pipeline","MXN","{OWNER}","2025-04-01T09:00:00.000Z",""
        "O5","0","{F}","Segunda tienda","Negociación","8000.00","75","2025-11-30","New Business","Web","0","0","Best Case","USD","{OWNER}","2025-05-01T09:00:00.000Z",""
        "O6","0","{G}","Brasil","Cerrada Ganada","3000.00","100","2025-07-01","New Business","Web","1","1","Closed","BRL","{OWNER}","2025-03-01T09:00:00.000Z",""
    """,
    "OpportunityPartner.csv": f"""
        "Id","OpportunityId","AccountToId","Role","IsPrimary","ReversePartnerId","CreatedDate","IsDeleted"
        "00I1","O2","{C}","VAR/Reseller","1","","2025-03-01T10:00:00.000Z","0"
        "00I2","O2","{E}","Client","0","00I1","2025-03-01T10:00:00.000Z","0"
        "00I3","O4","{A}","Distributor","1","","2025-04-02T10:00:00.000Z","0"
        "00I4","O6","{A}","Distributor","1","","2025-03-05T10:00:00.000Z","0"
    """,
    "Partner.csv": f"""
        "Id","OpportunityId","AccountFromId","AccountToId","Role","IsPrimary","ReversePartnerId","CreatedDate","IsDeleted"
        "00P1","O2","{EMPTY}","{C}","VAR/Reseller","1","","2025-03-01T10:00:00.000Z","0"
        "00P2","","{E}","{H}","Distributor","0","00P3","2024-06-02T10:00:00.000Z","0"
        "00P3","","{H}","{E}","Client","0","00P2","2024-06-02T10:00:00.000Z","0"
    """,
    "OpportunityHistory.csv": """
        "Id","OpportunityId","CreatedDate","StageName","Amount","ExpectedRevenue","CloseDate","Probability","ForecastCategory","IsDeleted"
        "0081","O1","2025-01-10T09:00:00.000Z","Prospección","9000.00","900.00","2025-03-31","10","Pipeline","0"
        "0082","O1","2025-03-15T09:00:00.000Z","Cerrada Ganada","10000.00","10000.00","2025-03-15","100","Closed","0"
        "0083","O4","2025-04-01T09:00:00.000Z","Prospección","90000.00","9000.00","2025-12-15","10","Pipeline","0"
        "0084","O4","2025-06-01T09:00:00.000Z","Propuesta","100000.00","50000.00","2025-12-15","50","Pipeline","0"
        "0085","O6","2025-03-01T09:00:00.000Z","Prospección","3000.00","300.00","2025-07-01","10","Pipeline","0"
    """,
    "User.csv": f"""
        "Id","Name","Email"
        "{OWNER}","María Pérez","maria@example.com"
    """,
    "CurrencyType.csv": """
        "Id","IsoCode","ConversionRate","DecimalPlaces","IsActive","IsCorporate"
        "01L1","USD","1.000000","2","1","1"
        "01L2","MXN","17.000000","2","1","0"
        "01L3","EUR","0.900000","2","1","0"
    """,
    "DatedConversionRate.csv": """
        "Id","IsoCode","ConversionRate","StartDate","NextStartDate"
        "04w1","MXN","20.000000","2025-01-01","2025-06-01"
        "04w2","MXN","16.000000","2025-06-01","9999-12-31"
        "04w3","EUR","0.800000","2025-01-01","9999-12-31"
    """,
}
SETTINGS = Settings(salesforce=SalesforceExport(partner_field="Partner__c"))


def write_export(folder: Path, files: dict[str, str] = EXPORT) -> Path:
    """The export as Data Export writes it: ISO-8859-1, CRLF line ends."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        lines = textwrap.dedent(text).strip().splitlines()
        (folder / name).write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return folder


@pytest.fixture(scope="module")
def export_db(tmp_path_factory: pytest.TempPathFactory):
    folder = write_export(tmp_path_factory.mktemp("salesforce") / "export")
    db = folder.parent / "pulse.duckdb"
    report = build_database(folder, db, preset="salesforce", settings=SETTINGS)
    return report, db


def table_row(report, table: str) -> dict:
    return report.filter(report["table_name"] == table).row(0, named=True)


def test_the_export_loads_on_the_first_try_with_every_table_counted(export_db):
    report, _ = export_db
    assert counts(report, "partners") == (5, 5, 0)
    assert counts(report, "opportunities") == (6, 5, 1)
    assert counts(report, "touchpoints") == (3, 2, 1)
    assert counts(report, "opportunity_history") == (5, 4, 1)
    assert {row["table_name"]: row["encoding"] for row in report.iter_rows(named=True) if row["status"] == "loaded"} == {
        "partners": "ISO-8859-1",
        "opportunities": "ISO-8859-1",
        "touchpoints": "UTF-8",  # plain ASCII: UTF-8 and ISO-8859-1 alike
        "opportunity_history": "ISO-8859-1",
    }


def test_partners_are_the_accounts_that_are_partners_never_every_account(export_db):
    report, db = export_db
    assert query(db, "select partner_id, partner_name, tier, partner_manager, country from partners order by 1") == [
        (A, "Distribuidora Andina, S.A.", "gold", "María Pérez", "Perú"),
        (B, "Soluciones Núñez", "registered", "María Pérez", "México"),
        (C, "Tecnología Ñandú", "silver", "María Pérez", "Paraguay"),
        (D, "Integradores del Sur", "registered", "María Pérez", "Chile"),
        (H, "Socio de Cuenta", "registered", "María Pérez", "Colombia"),
    ]
    assert table_row(report, "partners")["warnings"] == (
        "5 of the 8 accounts are partners (1 by IsPartner, 2 by a partner on a deal in OpportunityPartner.csv, "
        "1 by a partner role in Partner.csv, 1 by a deal's PartnerAccountId or Partner__c, "
        "2 by Type (salesforce.partner_account_types)); "
        "the other 3 (customers and other accounts) are not partners and are not loaded as partners"
    )


def test_deals_convert_at_the_orgs_dated_rates_and_a_currency_without_one_is_quarantined(export_db):
    _, db = export_db
    assert query(
        db,
        "select opportunity_id, account_name, currency, amount_original, amount, stage, is_closed, is_won, "
        "probability, sourced_partner_id, owner from opportunities order by 1",
    ) == [
        # 10,000 USD; the custom lookup Partner__c is the sourced partner.
        ("O1", "Cliente Uno, S.A. de C.V.", "USD", Decimal("10000.00"), Decimal("10000.00"), "Cerrada Ganada", True, True, 1.0, B, "María Pérez"),
        # 200,000 MXN closed 2025-06-10, when 16 MXN made one USD: 12,500 USD. The empty lookup is empty.
        ("O2", "Cliente Uno, S.A. de C.V.", "MXN", Decimal("200000.00"), Decimal("12500.00"), "Cerrada Ganada", True, True, 1.0, None, "María Pérez"),
        # 5,000 EUR at 0.8 EUR per USD: 6,250 USD.
        ("O3", "Tienda Dos", "EUR", Decimal("5000.00"), Decimal("6250.00"), "Cerrada Perdida", True, False, 0.0, None, "María Pérez"),
        ("O4", "Cliente Tres", "MXN", Decimal("100000.00"), Decimal("6250.00"), "Propuesta", False, False, 0.5, None, "María Pérez"),
        ("O5", "Tienda Dos", "USD", Decimal("8000.00"), Decimal("8000.00"), "Negociación", False, False, 0.75, None, "María Pérez"),
    ]
    assert quarantined(db, "opportunities") == [
        ("Opportunity.csv", 7, "CurrencyIsoCode: no FX rate for BRL on the CloseDate in the settings")
    ]


def test_the_deals_partners_come_from_opportunity_partner_without_the_reverse_records(export_db):
    report, db = export_db
    assert query(db, "select touchpoint_id, opportunity_id, partner_id, touch_type from touchpoints order by 1") == [
        ("00I1", "O2", C, "co_selling"),
        ("00I3", "O4", A, "co_selling"),
    ]
    assert quarantined(db, "touchpoints") == [
        (
            "OpportunityPartner.csv",
            5,
            "deal 'O6' quarantined (Opportunity.csv line 7): CurrencyIsoCode: no FX rate for BRL on the CloseDate in the settings",
        )
    ]
    assert table_row(report, "touchpoints")["warnings"].splitlines()[1] == (
        "1 row of OpportunityPartner.csv names the deal's own account (Salesforce's reverse record of a partner "
        "relationship): not read as touchpoints"
    )


def test_history_in_spanish_stages_loads_and_a_quarantined_deals_history_says_why(export_db):
    report, db = export_db
    assert query(db, "select opportunity_id, stage, amount from opportunity_history order by changed_at") == [
        ("O1", "Prospección", Decimal("9000.00")),
        ("O1", "Cerrada Ganada", Decimal("10000.00")),
        ("O4", "Prospección", Decimal("5625.00")),  # 90,000 MXN at 16 per USD (the row's close date, 2025-12-15)
        ("O4", "Propuesta", Decimal("6250.00")),
    ]
    assert quarantined(db, "opportunity_history") == [
        (
            "OpportunityHistory.csv",
            6,
            "deal 'O6' quarantined (Opportunity.csv line 7): CurrencyIsoCode: no FX rate for BRL on the CloseDate in the settings",
        )
    ]
    assert table_row(report, "opportunity_history")["warnings"].splitlines()[-1] == (
        "stages not in the stage map, loaded because their deals loaded: Cerrada Ganada, Propuesta, Prospección"
    )


def test_the_load_report_gives_the_spanish_stages_as_settings_to_paste(export_db):
    report, _ = export_db
    deals = table_row(report, "opportunities")
    assert "stages not in the stage map, loaded using their IsClosed/IsWon: Cerrada Ganada, Cerrada Perdida, Negociación, Propuesta" in deals["warnings"]
    assert deals["settings_snippet"] == textwrap.dedent(
        """\
        [stage_map."Propuesta"]
        order = 11
        probability = 0.5
        is_closed = false
        is_won = false

        [stage_map."Negociación"]
        order = 12
        probability = 0.75
        is_closed = false
        is_won = false

        [stage_map."Cerrada Ganada"]
        order = 13
        probability = 1.0
        is_closed = true
        is_won = true

        [stage_map."Cerrada Perdida"]
        order = 14
        probability = 0.0
        is_closed = true
        is_won = false"""
    )
    assert table_row(report, "opportunity_history")["settings_snippet"] == (
        '[stage_map."Prospección"]\norder = 15\n'
        "probability = 0.0  # no deal says: set the chance a deal in this stage closes won\n"
        "is_closed = false\nis_won = false"
    )


def test_win_rate_and_revenue_on_the_loaded_export(export_db):
    _, db = export_db
    # Closed in 2025: O1 and O2 won (10,000 + 12,500 USD), O3 lost; O6 (BRL) is quarantined.
    assert query(
        db,
        "select count(*) filter (where is_won), count(*) filter (where is_closed and not is_won), "
        "sum(amount) filter (where is_won) from opportunities",
    ) == [(2, 1, Decimal("22500.00"))]
    con = duckdb.connect(str(db), read_only=True)
    kpis = execute(con, "program_kpis", start_date=date(2025, 1, 1), end_date=date(2025, 12, 31))
    con.close()
    rows = {row["kpi"]: row for row in kpis.iter_rows(named=True)}
    # 2025 is not over on the export's date (2025-06-01), so it counts to that day: O1 won, O3 lost;
    # O2's close date (2025-06-10) is after the export was taken.
    assert (rows["win_rate"]["end_date"], rows["win_rate"]["in_progress"]) == (date(2025, 6, 1), True)
    assert rows["win_rate"]["value"] == pytest.approx(1 / 2)


def test_the_orgs_rates_give_way_to_the_settings_own_for_a_currency_they_name(tmp_path: Path):
    folder = write_export(tmp_path / "export")
    settings = Settings(
        salesforce=SalesforceExport(partner_field="Partner__c"),
        fx_rates=[FxRate(currency="MXN", rate=0.05), FxRate(currency="BRL", rate=0.2)],
    )
    report = build_database(folder, tmp_path / "pulse.duckdb", preset="salesforce", settings=settings)
    assert counts(report, "opportunities") == (6, 6, 0)
    assert query(tmp_path / "pulse.duckdb", "select opportunity_id, amount from opportunities where currency <> 'USD' order by 1") == [
        ("O2", Decimal("10000.00")),  # 200,000 MXN x 0.05
        ("O3", Decimal("6250.00")),  # EUR still from the export
        ("O4", Decimal("5000.00")),
        ("O6", Decimal("600.00")),
    ]


def test_without_opportunity_partner_the_deals_partners_come_from_partner_csvs_rows_on_a_deal(tmp_path: Path):
    files = {name: text for name, text in EXPORT.items() if name != "OpportunityPartner.csv"}
    report = build_database(write_export(tmp_path / "export", files), tmp_path / "pulse.duckdb", preset="salesforce", settings=SETTINGS)
    assert counts(report, "touchpoints") == (1, 1, 0)
    assert query(tmp_path / "pulse.duckdb", "select touchpoint_id, opportunity_id, partner_id from touchpoints") == [("00P1", "O2", C)]
    assert table_row(report, "touchpoints")["warnings"] == (
        "2 rows of Partner.csv are partners of accounts, not of a deal: they tell which accounts are partners and are not "
        "read as touchpoints"
    )
    # C is still a partner by its role on O2; A no longer is a partner on a deal, but is by IsPartner and Type.
    assert counts(report, "partners") == (5, 5, 0)


def test_a_partner_lookup_the_export_lacks_and_an_export_with_no_partner_at_all_are_refused(tmp_path: Path):
    folder = write_export(tmp_path / "export")
    with pytest.raises(BuildRefused, match=r"Opportunity.csv: no column 'Partner_Account__c', the partner lookup the settings name \(salesforce.partner_field\); its custom columns are: Partner__c"):
        build_database(folder, tmp_path / "a.duckdb", preset="salesforce", settings=Settings(salesforce=SalesforceExport(partner_field="Partner_Account__c")))
    customers_only = {
        "Account.csv": f"""
            "Id","Name","Type","CreatedDate","IsPartner"
            "{E}","Cliente Uno","Customer - Direct","2023-01-01T10:00:00.000Z","0"
        """,
        "Opportunity.csv": EXPORT["Opportunity.csv"],
    }
    with pytest.raises(BuildRefused, match="Account.csv: none of its 1 accounts is a partner"):
        build_database(write_export(tmp_path / "customers", customers_only), tmp_path / "b.duckdb", preset="salesforce")


DEALS_BANNER = "- Opportunities: 1 of 6 rows (17%) of Opportunity.csv were quarantined"
HISTORY_BANNER = "- Opportunity history: 1 of 5 rows (20%) of OpportunityHistory.csv were quarantined"
TOUCHES_BANNER = "- Touchpoints: 1 of 3 rows (33%) of OpportunityPartner.csv were quarantined"


@pytest.mark.parametrize(
    ("page", "banner"),
    [
        ("health", [DEALS_BANNER, TOUCHES_BANNER]),
        ("forecast", [DEALS_BANNER, HISTORY_BANNER, TOUCHES_BANNER]),
        ("engagement", [DEALS_BANNER, TOUCHES_BANNER]),
        ("partner", [DEALS_BANNER, HISTORY_BANNER, TOUCHES_BANNER]),
        ("attribution", [DEALS_BANNER, TOUCHES_BANNER]),
        ("disagreements", [DEALS_BANNER, TOUCHES_BANNER]),
        ("data", [DEALS_BANNER, HISTORY_BANNER, TOUCHES_BANNER]),
    ],
)
def test_every_page_runs_on_the_export_and_names_the_flagged_tables_it_reads(
    export_db, monkeypatch: pytest.MonkeyPatch, page: str, banner: list[str]
):
    monkeypatch.setenv("PULSE_DB", str(export_db[1]))
    at = open_page(page, {"period": "All time"})
    assert not at.exception, "\n".join("\n".join(e.stack_trace or [e.message]) for e in at.exception)
    # Deals, touchpoints and history each had rows quarantined past the 5% alarm.
    assert [[line for line in w.value.splitlines() if line.startswith("- ")] for w in at.warning if "did not load" in w.value] == [
        banner
    ]
