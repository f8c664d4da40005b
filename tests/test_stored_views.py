"""One mechanism serves stored default views: the runner reads what the build stored when it
answers the call, and it gives exactly the frame computing gives (queries/__init__.py,
`stored_view`). Every output that declares `Stored:` is checked here on the demo program."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

import queries
from scripts.export_all import samples

STORED = sorted(name for name, output in queries.outputs().items() if output.stored)


def test_the_outputs_with_a_stored_default_view_are_declared_not_switched_per_module():
    assert set(STORED) >= {
        "attribution_disagreements",
        "attribution_trust_by_quarter",
        "kpis_by_period",
        "partner_signal_rows",
        "pipeline_forecast",
        "forecast_deals",
        "forecast_caveats",
        "forecast_backtest",
        "partner_health_scores",
        "partner_health_movers",
        "pipeline_changes",
        "pipeline_change_totals",
        "forecast_history",
    }
    for name in STORED:
        reader = queries.output(name).stored
        assert reader in queries.outputs(), f"{name} names a reader that does not exist: {reader}"
        assert queries.output(reader).stored is None
    for module in queries.QUERIES_DIR.rglob("*.py"):
        source = module.read_text(encoding="utf-8")
        assert "_default_view" not in source, f"{module} decides its own stored view"


@pytest.mark.parametrize("name", STORED)
def test_the_stored_default_view_equals_the_computed_one(demo_db_path: Path, monkeypatch: pytest.MonkeyPatch, name: str):
    con = queries.connect(demo_db_path)
    output = queries.output(name)
    sample = samples(con)
    params = {param.name: sample[param.name] for param in output.params if param.required}
    assert queries.stored_view(con, output, params) is not None, "the default view is not read from the stored rows"
    stored = queries.execute(con, name, **params)
    monkeypatch.setattr(queries, "READ_STORED", False)
    assert queries.stored_view(con, output, params) is None
    assert_frame_equal(stored, queries.execute(con, name, **params), check_exact=True)


@pytest.mark.parametrize("name", [name for name in STORED if queries.output(name).takes("as_of")])
def test_another_day_or_an_empty_filter_is_computed(demo_db_path: Path, name: str):
    con = queries.connect(demo_db_path)
    output = queries.output(name)
    sample = samples(con)
    assert queries.stored_view(con, output, {"as_of": sample["as_of"]}) is not None
    assert queries.stored_view(con, output, {"as_of": sample["as_of"] - timedelta(days=1)}) is None
    if output.takes("regions"):
        assert queries.stored_view(con, output, {"regions": []}) is None


def test_the_dates_and_quarter_a_page_passes_read_the_stored_rows_only_when_they_are_the_stored_ones(demo_db_path: Path):
    con = queries.connect(demo_db_path)
    as_of = samples(con)["as_of"]
    week_before = as_of - timedelta(days=7)
    for name in ("pipeline_changes", "pipeline_change_totals"):
        output = queries.output(name)
        assert queries.stored_view(con, output, {"from_date": week_before, "to_date": as_of}) is not None
        assert queries.stored_view(con, output, {"to_date": as_of, "managers": ["Zoe Rodriguez"]}) is not None
        assert queries.stored_view(con, output, {"from_date": week_before}) is not None
        assert queries.stored_view(con, output, {"from_date": week_before - timedelta(days=1), "to_date": as_of}) is None
        assert queries.stored_view(con, output, {"to_date": as_of - timedelta(days=1)}) is None
    history = queries.output("forecast_history")
    quarter = queries.execute(con, "forecast_history")["fiscal_quarter"][0]
    assert queries.stored_view(con, history, {"fiscal_quarter": quarter, "segment": "direct"}) is not None
    assert queries.stored_view(con, history, {"fiscal_quarter": "FY2020 Q1"}) is None
    assert queries.stored_view(con, history, {"regions": ["EMEA"]}) is None
    # An unknown pipeline has no stored rows: the output is computed, and refuses it.
    assert queries.stored_view(con, history, {"segment": "nowhere"}) is None
    with pytest.raises(queries.ParamError, match="segment must be one of"):
        queries.execute(con, "forecast_history", segment="nowhere")
