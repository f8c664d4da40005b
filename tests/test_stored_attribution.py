"""What the build stores for the Attribution and Disagreements pages gives exactly what computing gives.

The build stores every touch model's weights at the settings' defaults (read by scenarios with
those parameters), the disagreement ledger as of data_as_of and each won deal's agreement of
sources (read by the Disagreements page's default view). Every case runs the output both ways
on the same database: the frames must be identical (values, types, order). A database built
before these tables computes, with the same results.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import queries
from queries.attribution import credit as attribution
from queries.disagreements import ledger as disagreements

# The Attribution page's two default scenarios, as its form sends them.
LINEAR = {"model": "linear", "lookback_days": 365, "booking_basis": "close_date"}
TIME_DECAY = {"model": "time_decay", "half_life_days": 30.0, "lookback_days": 365, "booking_basis": "close_date"}
STORED_TABLES = [
    attribution.STORED_TOUCHES,
    attribution.STORED_TOUCH_PARAMS,
    disagreements.LEDGER_TABLE,
    disagreements.TRUST_TABLE,
]


def computed(monkeypatch: pytest.MonkeyPatch, con: duckdb.DuckDBPyConnection, name: str, **params) -> pl.DataFrame:
    """The output computed from the extracts, as if nothing were stored."""
    with monkeypatch.context() as patch:
        patch.setattr(attribution, "stored_touches", lambda *args, **kwargs: None)
        patch.setattr(queries, "READ_STORED", False)
        return queries.execute(con, name, **params)


def reads_stored(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> bool:
    """Whether the runner answers these params from the rows the build stored."""
    return queries.stored_view(con, queries.output(name), params) is not None


def a_manager(con: duckdb.DuckDBPyConnection) -> str:
    return con.sql("select min(partner_manager) from partners").fetchall()[0][0]


def scenario_cases(con: duckdb.DuckDBPyConnection) -> list[dict]:
    quarter = {"start_date": date(2026, 10, 1), "end_date": date(2026, 12, 31)}
    what_if = [{"touch_type": "deal_registration", "rate": 0.2}, {"tier": "gold", "rate": 0.05}]
    return [
        {"scenario": json.dumps(LINEAR), **quarter},
        {"scenario": json.dumps(TIME_DECAY), **quarter},
        {"scenario": json.dumps(LINEAR)},
        {"scenario": json.dumps(TIME_DECAY), "tiers": ["gold", "silver"], **quarter},
        {"scenario": json.dumps(LINEAR), "managers": [a_manager(con)], "partner_types": ["reseller", "referral"]},
        {"scenario": json.dumps({"model": "w_shaped", "booking_basis": "touch_date"}), "regions": ["EMEA"]},
        {"scenario": json.dumps({"model": "first_touch", "rates": what_if}), **quarter},
        {"scenario": json.dumps({"model": "shapley"})},
    ]


def test_a_scenario_at_the_default_parameters_reads_the_stored_weights_and_gives_the_computed_table(demo_db, monkeypatch):
    con = queries.connect(demo_db)
    params = attribution.model_params(con)
    assert attribution.stored_touches(con, "linear", params) is not None
    for case in scenario_cases(con):
        stored = queries.execute(con, "attribution_scenario", **case)
        assert not stored.is_empty(), case
        assert_frame_equal(stored, computed(monkeypatch, con, "attribution_scenario", **case))


def test_the_stored_weights_of_every_touch_model_are_the_engine_s_rows_in_the_engine_s_order(demo_db):
    con = queries.connect(demo_db)
    params = attribution.model_params(con)
    stored_models = {row[0] for row in con.sql("select model from attribution_touch_default_params").fetchall()}
    assert stored_models >= set(attribution.TOUCH_MODELS) - {"markov"}
    for model in sorted(stored_models):
        engine = attribution.touch_weights(con, [model], **params)
        assert_frame_equal(attribution.stored_touches(con, model, params), engine)
        in_period = engine.filter(pl.col("close_date").is_between(date(2026, 4, 1), date(2026, 6, 30)))
        assert_frame_equal(attribution.stored_touches(con, model, params, date(2026, 4, 1), date(2026, 6, 30)), in_period)


def test_the_stored_credit_of_every_model_is_row_for_row_what_a_user_exports(demo_db):
    # The KPI pages read attribution_credit_default; a user exports attribution_credit: the same rows, cents and order.
    con = queries.connect(demo_db)
    for model in attribution.MODELS:
        stored = con.sql(
            "select model, opportunity_id, partner_id, weight, credit, close_date, fiscal_quarter "
            "from attribution_credit_default where model = $model order by rowid",
            params={"model": model},
        ).pl()
        assert stored.height > 50, model
        assert_frame_equal(stored, attribution.attribution_credit(con, model), check_dtypes=True)


def test_other_parameters_or_the_sourced_models_are_computed(demo_db, monkeypatch):
    con = queries.connect(demo_db)
    params = attribution.model_params(con)
    assert attribution.stored_touches(con, "time_decay", {**params, "half_life_days": 45}) is None
    assert attribution.stored_touches(con, "linear", {**params, "lookback_days": 90}) is None
    assert attribution.stored_touches(con, "position_based", {**params, "position_first": 0.3}) is None
    assert attribution.stored_touches(con, "crm_sourced", params) is None
    # A parameter the model does not use does not stop it reading the stored weights.
    assert attribution.stored_touches(con, "linear", {**params, "half_life_days": 45}) is not None
    longer = {"scenario": json.dumps({**TIME_DECAY, "half_life_days": 45.0}), "start_date": date(2026, 1, 1)}
    assert_frame_equal(
        queries.execute(con, "attribution_scenario", **longer), computed(monkeypatch, con, "attribution_scenario", **longer)
    )


@pytest.mark.parametrize("name", ["attribution_disagreements", "attribution_trust_by_quarter"])
def test_the_disagreements_page_outputs_as_of_data_as_of_equal_the_computed_ones_with_and_without_filters(
    demo_db, monkeypatch, name
):
    con = queries.connect(demo_db)
    data_as_of = date.fromisoformat(dict(queries.execute(con, "program_meta").iter_rows())["data_as_of"])
    assert reads_stored(con, name, {}) and reads_stored(con, name, {"as_of": data_as_of})
    cases = [
        {},
        {"as_of": data_as_of},
        {"managers": [a_manager(con)]},
        {"as_of": data_as_of, "tiers": ["gold", "silver"], "partner_types": ["reseller"], "regions": ["EMEA", "NA"]},
        {"regions": ["nowhere"]},
    ]
    for case in cases:
        stored = queries.execute(con, name, **case)
        assert not stored.is_empty() or case.get("regions") == ["nowhere"], case
        assert_frame_equal(stored, computed(monkeypatch, con, name, **case))


def test_another_as_of_date_computes_the_disagreements(demo_db):
    con = queries.connect(demo_db)
    assert not reads_stored(con, "attribution_disagreements", {"as_of": date(2026, 2, 1)})
    earlier = queries.execute(con, "attribution_disagreements", as_of=date(2026, 2, 1))
    assert_frame_equal(earlier, queries.compute(con, "attribution_disagreements", as_of=date(2026, 2, 1)))
    assert not earlier.equals(queries.execute(con, "attribution_disagreements"))


def test_a_database_built_without_the_stored_tables_computes_the_same_results(demo_db, tmp_path):
    old = tmp_path / "old.duckdb"
    shutil.copy(demo_db, old)
    writable = duckdb.connect(str(old))
    for table in STORED_TABLES:
        writable.execute("drop table " + table)  # noqa: S608 - fixed names
    writable.close()
    new_con, old_con = queries.connect(demo_db), queries.connect(old)
    assert attribution.stored_touches(old_con, "linear", attribution.model_params(old_con)) is None
    assert not reads_stored(old_con, "attribution_disagreements", {})
    cases = [
        ("attribution_scenario", {"scenario": json.dumps(TIME_DECAY), "start_date": date(2026, 7, 1)}),
        ("attribution_scenario", {"scenario": json.dumps(LINEAR), "tiers": ["gold"]}),
        ("attribution_disagreements", {}),
        ("attribution_disagreements", {"managers": [a_manager(new_con)]}),
        ("attribution_trust_by_quarter", {}),
        ("attribution_trust_by_quarter", {"partner_types": ["reseller"]}),
    ]
    for name, params in cases:
        assert_frame_equal(queries.execute(old_con, name, **params), queries.execute(new_con, name, **params))


def test_a_model_the_build_could_not_store_is_computed(demo_db, tmp_path, monkeypatch):
    """As the build leaves Markov out when its chain is too large to solve: here linear is left out."""
    db = tmp_path / "no_markov.duckdb"
    shutil.copy(demo_db, db)
    writable = duckdb.connect(str(db))
    writable.execute("delete from attribution_touch_default_params where model = 'linear'")
    writable.execute("update attribution_touch_default set linear = null")
    writable.close()
    con = queries.connect(db)
    assert attribution.stored_touches(con, "linear", attribution.model_params(con)) is None
    case = {"scenario": json.dumps(LINEAR), "start_date": date(2026, 7, 1)}
    stored = queries.execute(con, "attribution_scenario", **case)
    assert_frame_equal(stored, computed(monkeypatch, con, "attribution_scenario", **case))


def test_the_ledger_and_trust_outputs_are_their_sql_files_with_a_stored_reader_taking_the_filters():
    for name in ["attribution_disagreements", "attribution_trust_by_quarter"]:
        assert name not in queries.PYTHON_OUTPUTS
        described = queries.output(name)
        assert described.stored == f"{name}_stored"
        reader = {param.name for param in queries.output(described.stored).params}
        assert reader == {param.name for param in described.params} - {"as_of"}
        assert reader == {"regions", "tiers", "partner_types", "managers"}


def test_the_stored_ledger_is_what_the_build_computed_for_data_as_of(demo_db: Path):
    con = queries.connect(demo_db)
    ledger = con.sql("select * from attribution_disagreements_stored order by row_number").pl()
    assert ledger["row_number"].to_list() == list(range(ledger.height))
    assert_frame_equal(ledger.drop("row_number"), queries.compute(con, "attribution_disagreements"))
