"""Every table on every page reads as finished: columns labelled in words, money as dollars,
shares as percents, 0-100 scores as progress bars, dates in one format, partners linked to
Partner 360. Checked on the demo program, as an admin, over all time."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

import ui
from tests.conftest import APP

PAGES = ["health", "forecast", "changes", "engagement", "partner", "attribution", "disagreements", "data"]


@pytest.fixture(scope="module")
def tables(demo_db_path) -> dict[str, list[tuple[str, object, dict, list[str]]]]:
    """Per page, every table shown: (name, its values, its column config, the columns shown)."""
    with duckdb.connect(str(demo_db_path), read_only=True) as con:
        partner = con.sql("select partner_id from touchpoints group by 1 order by count(*) desc, 1 limit 1").fetchall()[0][0]
    found = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULSE_DB", str(demo_db_path))
        for page in PAGES:
            at = AppTest.from_file(str(APP), default_timeout=60)
            at.query_params["period"] = "All time"
            at.query_params["partner"] = partner
            at.run()
            at.switch_page(f"pages/{page}.py")
            at.run()
            assert not at.exception, f"pages/{page}.py: {at.exception}"
            found[page] = []
            for i, table in enumerate(at.dataframe):
                config = json.loads(table.proto.columns or "{}")
                values = table.value
                order = list(table.proto.column_order) or list(values.columns)
                shown = [c for c in order if c in values.columns and not config.get(c, {}).get("hidden")]
                found[page].append((f"{page} table {i + 1}", values, config, shown))
    return found


def kind(config: dict, column: str) -> str | None:
    return config.get(column, {}).get("type_config", {}).get("type")


def number_format(config: dict, column: str) -> str | None:
    return config.get(column, {}).get("type_config", {}).get("format")


@pytest.mark.parametrize("page", PAGES)
def test_every_column_shown_has_a_label_in_words(tables, page: str):
    raw = [
        f"{name}: {column!r} labelled {config.get(column, {}).get('label')!r}"
        for name, _, config, shown in tables[page]
        for column in shown
        if not config.get(column, {}).get("label") or re.search(r"_", config[column]["label"])
    ]
    assert not raw, "\n".join(raw)


@pytest.mark.parametrize("page", PAGES)
def test_money_shows_as_dollars_and_dates_in_one_format(tables, page: str):
    wrong = []
    for name, values, config, shown in tables[page]:
        for column in shown:
            sample = values[column].dropna()
            first = sample.iloc[0] if len(sample) else None
            if isinstance(first, Decimal) and number_format(config, column) != "dollar":
                wrong.append(f"{name}: money column {column!r} is formatted {number_format(config, column)!r}")
            if str(values[column].dtype).startswith("datetime") and number_format(config, column) != ui.DATE_FORMAT:
                wrong.append(f"{name}: date column {column!r} is formatted {number_format(config, column)!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("page", PAGES)
def test_scores_are_progress_bars_and_shares_are_percents(tables, page: str):
    wrong = []
    for name, _, config, shown in tables[page]:
        for column in shown:
            if column in ("engagement_score", "health_score") or column.endswith("_component"):
                if kind(config, column) != "progress":
                    wrong.append(f"{name}: 0-100 score {column!r} is a {kind(config, column)!r} column")
            elif re.search(r"(_rate|_share|^p_[a-z_]+)$", column) and number_format(config, column) != "percent":
                wrong.append(f"{name}: share {column!r} is formatted {number_format(config, column)!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("page", PAGES)
def test_every_table_of_partners_links_each_to_partner_360(tables, page: str):
    for name, values, config, _ in tables[page]:
        if "partner_id" not in values.columns:
            continue
        assert kind(config, "partner_link") == "link", f"{name}: partners without a Partner 360 link"
        ids = values.dropna(subset=["partner_id"])
        links = ids["partner_link"].str.extract(r"^\./partner\?partner=([^&]*)", expand=False)
        assert (links == ids["partner_id"]).all(), f"{name}: a link opens another partner"


@pytest.mark.parametrize("page", ["partner", "disagreements"])
def test_columns_naming_another_partner_link_to_its_partner_360(tables, page: str):
    linked = 0
    for name, values, config, _ in tables[page]:
        for column in set(ui.OTHER_PARTNER_COLUMNS) & set(values.columns):
            assert kind(config, column) == "link", f"{name}: {column} is not a link"
            urls = values[column].dropna()
            assert urls.str.match(r"^\./partner\?partner=[^&]+").all(), f"{name}: {column} holds {list(urls[:3])}"
            linked += len(urls)
    assert linked, f"{page}: no other partner was linked (the demo has some)"


@pytest.mark.parametrize(("code", "money_format"), [("USD", "dollar"), ("EUR", "%,.2f EUR")])
def test_column_defaults_label_dates_money_and_flags_a_page_did_not_configure(monkeypatch, code, money_format):
    # The reporting currency comes from the build's settings; fixed here so the test needs no database.
    monkeypatch.setattr(ui, "currency", lambda: code)
    frame = pl.DataFrame(
        {
            "partner_manager": ["Maria Lopez"],
            "gap_before_return_days": [12],
            "returned_at": [date(2026, 6, 1)],
            "last_seen": [date(2026, 6, 1)],
            "unpaid": [Decimal("120.00")],
            "is_dormant": [True],
            "returned": [False],
        },
        schema_overrides={"unpaid": pl.Decimal(18, 2)},
    )
    config = ui.column_config_for(frame, {"is_dormant": None, "last_seen": "Last seen"})
    assert config["partner_manager"] == "Manager"
    assert config["gap_before_return_days"] == "Gap before return (days)"
    assert config["returned_at"]["label"] == "Returned at"
    assert config["returned_at"]["type_config"]["format"] == ui.DATE_FORMAT
    assert config["last_seen"]["label"] == "Last seen" and config["last_seen"]["type_config"]["format"] == ui.DATE_FORMAT
    assert config["unpaid"]["type_config"]["format"] == money_format
    assert config["is_dormant"] is None
    assert config["returned"]["type_config"]["type"] == "checkbox"
