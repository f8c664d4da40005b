"""An amount reads one way wherever Partner Pulse writes it (queries/formatting.py, `money`): the
cards' short form, whole units in sentences, cents on statements and workbooks, each in the
reporting currency: a symbol before the amount for dollars, the currency's code after it otherwise."""

from __future__ import annotations

import json
from decimal import Decimal

import polars as pl

from charts.health import format_value
from queries import workbook
from queries.formatting import money
from queries.partner import statement


def test_short_amounts_switch_to_thousands_millions_and_billions_at_each_limit():
    assert money(999.4) == "$999"
    assert money(1000) == "$1.0k"
    assert money(12_449) == "$12.4k"
    assert money(999_999) == "$1000.0k"
    assert money(1_000_000) == "$1.0M"
    assert money(2_500_000_000) == "$2.5B"
    assert money(-950) == "-$950"
    assert money(None) == "n/a"


def test_whole_amounts_keep_cents_only_under_one_unit():
    assert money(279_382.4, style="whole") == "$279,382"
    assert money(1, style="whole") == "$1"
    assert money(0.4, style="whole") == "$0.40"
    assert money(Decimal("203.49"), style="whole") == "$203"


def test_cents_keep_a_decimal_amount_to_the_cent_and_say_what_stands_for_nothing():
    assert money(Decimal("1234.56"), style="cents") == "$1,234.56"
    assert money(-0.5, style="cents") == "-$0.50"
    assert money(None, style="cents", missing="—") == "—"


def test_another_reporting_currency_is_written_by_its_code_after_the_amount():
    assert money(1_234_567, "EUR") == "1.2M EUR"
    assert money(279_382.4, "EUR", "whole") == "279,382 EUR"
    assert money(-1234.5, "GBP", "cents") == "-1,234.50 GBP"


def test_the_statement_table_and_the_health_cards_write_money_the_same_way():
    frame = pl.DataFrame({"opportunity_id": ["O1", "O2"], "owed": [Decimal("1200.50"), None]})
    printed = statement.readable(frame, ["opportunity_id", "owed"], "EUR", total=["owed"])
    assert printed["Owed"].to_list() == ["1,200.50 EUR", "—", "1,200.50 EUR"]
    assert statement.readable(frame, ["owed"])["Owed"].to_list() == ["$1,200.50", "—"]
    assert format_value(1_250_000.0, "money") == money(1_250_000.0) == "$1.2M"


def test_a_workbook_sizes_a_money_column_by_the_amount_as_its_currency_shows_it():
    assert workbook.shown(1234.5, "money") == "$1,234.50"
    assert workbook.shown(1234.5, "money", "EUR") == "1,234.50 EUR"
    assert workbook.shown(None, "money") == ""


def test_a_program_reported_in_euros_shows_euros_on_the_cards_and_in_the_tables(tmp_path, monkeypatch):
    from loaders.build import build_database
    from settings import Settings
    from tests.conftest import TINY, open_page, write_extracts

    db = tmp_path / "eur.duckdb"
    build_database(write_extracts(tmp_path / "tiny", TINY), db, settings=Settings(reporting_currency="EUR"))
    monkeypatch.setenv("PULSE_DB", str(db))
    at = open_page("partner", {"partner": "P1"})
    assert not at.exception
    won = next(metric for metric in at.metric if metric.label == "Won revenue")
    assert won.value == "4.0k EUR"  # O1 (1,000, sourced by P1) and O2 (3,000, where P1 is involved)
    assert all("$" not in metric.value for metric in at.metric)
    configs = "".join(frame.proto.columns for frame in at.dataframe)
    assert '"%,.2f EUR"' in configs and '"dollar"' not in configs
    # The timeline's hover writes P1's won deals as the cards do (its other charts draw no amounts).
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert specs and all("$" not in spec for spec in specs)
    assert any("1,000 EUR" in spec for spec in specs)
    # The health page: its money cards, its breakdown table, and its trend chart of sourced revenue.
    at = open_page("health", {"period": "All time"})
    assert not at.exception
    assert any(metric.value.endswith(" EUR") for metric in at.metric)
    assert all("$" not in metric.value for metric in at.metric)
    configs = "".join(frame.proto.columns for frame in at.dataframe)
    assert '"%,.2f EUR"' in configs and '"dollar"' not in configs
    at.selectbox(key="health_trend_kpi").select("Partner-sourced revenue").run()
    trend = at.get("plotly_chart")[0].proto.spec
    assert json.loads(trend)["layout"]["yaxis"]["ticksuffix"] == " EUR" and "$" not in trend
