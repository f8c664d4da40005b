"""Every SQL output documents what it takes: its header's `-- Params:` names are exactly the
`$names` its body binds; and the app's connection cannot read files outside its database."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

import queries
from queries.export import safe_csv

SQL_NAMES = sorted(queries.sql_files())


@pytest.mark.parametrize("name", SQL_NAMES)
def test_the_header_params_of_every_sql_output_are_the_params_its_body_uses(name: str):
    sql = queries.load_sql(name)
    output = queries.sql_output(name)
    header = [param.name for param in output.params]
    assert "-- Params:" in sql, f"{name}.sql has no '-- Params:' line (write '-- Params: none' when it takes none)"
    assert output.grain, f"{name}.sql has no '-- Grain:' line"
    assert output.summary and not output.summary.startswith("Params"), f"{name}.sql does not start with what it answers"
    assert sorted(header) == sorted(queries.body_params(sql)), f"{name}.sql: header {header} vs body {queries.body_params(sql)}"
    assert len(header) == len(set(header)), f"{name}.sql lists a parameter twice"
    assert all(param.type for param in output.params), f"{name}.sql: every parameter needs a (type)"


def test_body_params_ignore_comments_and_string_literals():
    sql = (
        "-- $not_this (date): header\nselect '$nor_this' as x, $start_date as s -- $nor_that\nwhere a = $start_date or b = $tiers"
    )
    assert queries.body_params(sql) == ["start_date", "tiers"]


def test_the_app_connection_refuses_to_read_other_files(tiny_db: Path):
    con = queries.connect(tiny_db)
    try:
        with pytest.raises(duckdb.Error, match="(?i)permission|external access|disabled"):
            con.sql("select * from read_csv('/etc/passwd')").fetchall()
        with pytest.raises(duckdb.Error):
            con.execute("set enable_external_access = true")
        with pytest.raises(duckdb.Error):
            con.sql("select * from read_text('/etc/hostname')").fetchall()
        # It still reads its own tables, and cannot write them.
        assert con.sql("select count(*) from partners").fetchall() == [(3,)]
        with pytest.raises(duckdb.Error):
            con.execute("delete from partners")
    finally:
        con.close()


def test_csv_export_neutralises_formula_cells_but_not_negative_numbers():
    frame = pl.DataFrame(
        {
            "text": ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "plain", None],
            "amount": [-5.5, 1.0, -2.0, 0.0, 3.0, 4.0, 5.0, 6.0],
            "tags": [["=x", "ok"], ["ok"], [], ["@y"], ["a"], ["b"], ["c"], ["d"]],
        }
    )
    assert pl.read_csv(safe_csv(frame)).to_dict(as_series=False) == {
        "text": ['\'=HYPERLINK("http://x")', "'+1+1", "'-2+3", "'@SUM(A1)", "'\tcmd", "'\rcmd", "plain", None],
        "amount": [-5.5, 1.0, -2.0, 0.0, 3.0, 4.0, 5.0, 6.0],
        "tags": ["'=x; ok", "ok", "", "'@y", "a", "b", "c", "d"],
    }
