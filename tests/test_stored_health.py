"""The health score, its movers and history, and the partner signals stored at build give exactly what computing gives.

The build stores (queries.health.health_score.store_health, queries.engagement.signals.store_signals) every
partner's default-weight score on data_as_of, on the quarter starts of the history and on the
day the movers compare with, the movers and the signals as of data_as_of. The outputs read them
for those views and apply the shared filters to the stored rows. Each test below asks the same
question twice, once reading the stored tables and once with them turned off (queries.READ_STORED), and
wants the same frame: same rows, order, columns, types and values.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import queries
from loaders.build import build_database
from queries import meta
from queries.engagement import signals
from queries.health import health_score
from tests.conftest import TINY, write_extracts

TINY_AS_OF = date(2026, 6, 20)
STORED_TABLES = ["health_days_precomputed", "health_scores_precomputed", "health_movers_precomputed", "signals_precomputed"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny program of conftest (P1 EMEA gold Maria Lopez; P2 NA silver Sam Reed; P3 terminated), built once."""
    folder = tmp_path_factory.mktemp("stored_health")
    db = folder / "tiny.duckdb"
    build_database(write_extracts(folder / "extracts", TINY), db)
    return db


@contextmanager
def computed() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(queries, "READ_STORED", False)
        yield


@contextmanager
def never_computed() -> Iterator[None]:
    """Computing any of the four outputs fails: only the stored tables can answer."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed instead of read from the stored tables")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(health_score, "inputs_as_of", refuse)
        patch.setattr(signals, "unpaid_credit", refuse)
        yield


def stored_and_computed(db: Path, name: str, **params: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    con = queries.connect(db)
    try:
        stored = queries.execute(con, name, **params)
        with computed():
            return stored, queries.execute(con, name, **params)
    finally:
        con.close()


def assert_same(db: Path, name: str, **params: object) -> pl.DataFrame:
    stored, fresh = stored_and_computed(db, name, **params)
    assert_frame_equal(stored, fresh, check_exact=True)
    return stored


# ---- the tiny program ------------------------------------------------------------------------

TINY_VIEWS = [
    ("partner_health", {}),
    ("partner_health", {"as_of": TINY_AS_OF}),
    ("partner_health", {"regions": ["NA"]}),
    ("partner_health", {"managers": ["Maria Lopez"], "partner_types": ["reseller"]}),
    ("partner_health", {"tiers": ["silver"], "as_of": date(2026, 4, 1)}),
    ("partner_health", {"managers": []}),
    ("partner_health", {"w_revenue": 35.0}),
    ("partner_health", {"w_revenue": 80.0, "regions": ["EMEA"]}),
    ("partner_health_movers", {}),
    ("partner_health_movers", {"managers": ["Sam Reed"]}),
    ("partner_signals", {}),
    ("partner_signals", {"as_of": TINY_AS_OF, "regions": ["EMEA"]}),
    ("partner_signals", {"partner_types": ["integration", "services"], "managers": ["Sam Reed"]}),
    ("partner_health_history", {"partner_id": "P1"}),
    ("partner_health_history", {"partner_id": "P2", "quarters": 3}),
    ("partner_health_history", {"partner_id": "P1", "as_of": date(2026, 1, 1)}),
    ("partner_health_history", {"partner_id": "nobody"}),
]


@pytest.mark.parametrize(("name", "params"), TINY_VIEWS, ids=[f"{n}-{sorted(p)}" for n, p in TINY_VIEWS])
def test_the_stored_tables_give_what_computing_gives_on_the_tiny_program(tiny: Path, name: str, params: dict):
    assert_same(tiny, name, **params)


def test_the_tiny_filters_keep_the_partners_a_reader_expects(tiny: Path):
    assert assert_same(tiny, "partner_health")["partner_id"].sort().to_list() == ["P1", "P2"]  # P3 is terminated
    assert assert_same(tiny, "partner_health", regions=["NA"])["partner_id"].to_list() == ["P2"]
    assert assert_same(tiny, "partner_signals", managers=["Maria Lopez"])["partner_id"].to_list() == ["P1"]
    assert assert_same(tiny, "partner_health", managers=[]).is_empty()


def test_the_default_views_read_the_stored_tables_without_computing(tiny: Path):
    con = queries.connect(tiny)
    try:
        with never_computed():
            assert queries.execute(con, "partner_health", regions=["NA"]).height == 1
            assert queries.execute(con, "partner_health", as_of=TINY_AS_OF, w_revenue=35.0).height == 2
            queries.execute(con, "partner_health_movers", managers=["Sam Reed"])
            assert queries.execute(con, "partner_health_history", partner_id="P1")["scored_on"][-1] == TINY_AS_OF
            assert queries.execute(con, "partner_signals", tiers=["gold"])["partner_id"].to_list() == ["P1"]
            # Other weights, another day: computed.
            with pytest.raises(AssertionError, match="computed instead"):
                queries.execute(con, "partner_health", w_revenue=80.0)
            with pytest.raises(AssertionError, match="computed instead"):
                queries.execute(con, "partner_signals", as_of=date(2026, 5, 1))
    finally:
        con.close()


def test_a_database_built_without_the_stored_tables_still_computes_every_view(tiny: Path, tmp_path: Path):
    old = tmp_path / "old.duckdb"
    shutil.copy(tiny, old)
    con = duckdb.connect(str(old))
    for table in STORED_TABLES:
        con.execute("drop table " + table)  # noqa: S608 - fixed names
    con.close()
    old_con, new_con = queries.connect(old), queries.connect(tiny)
    try:
        for name, params in TINY_VIEWS:
            before = queries.execute(old_con, name, **params)
            assert_frame_equal(before, queries.execute(new_con, name, **params), check_exact=True)
    finally:
        old_con.close()
        new_con.close()


def test_a_build_without_a_data_as_of_stores_empty_tables_and_computes(tiny: Path, tmp_path: Path):
    undated = tmp_path / "undated.duckdb"
    shutil.copy(tiny, undated)
    con = duckdb.connect(str(undated))
    con.execute("delete from load_meta where key = 'data_as_of'")
    health_score.store_health(con)
    signals.store_signals(con)
    assert [con.sql("select count(*) from " + t).fetchall()[0][0] for t in STORED_TABLES] == [0, 0, 0, 0]  # noqa: S608
    con.close()
    for name in ("partner_health", "partner_signals"):
        assert assert_same(undated, name).is_empty()
    assert_same(undated, "partner_health", as_of=TINY_AS_OF)
    assert_same(undated, "partner_health_movers", as_of=TINY_AS_OF)


# ---- the demo program ----------------------------------------------------------------------


def demo_scope(db: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        managers = [m for (m,) in con.sql("select distinct partner_manager from partners order by 1 limit 3").fetchall()]
        return {"regions": ["EMEA", "NA"], "managers": managers}
    finally:
        con.close()


def test_the_stored_health_and_movers_give_what_computing_gives_on_the_demo(demo_db_path: Path):
    scope = demo_scope(demo_db_path)
    con = queries.connect(demo_db_path)
    day = meta.data_as_of(con)
    con.close()
    everyone = assert_same(demo_db_path, "partner_health")
    assert everyone.height > 20
    assert_same(demo_db_path, "partner_health", as_of=day, **scope)
    assert_same(demo_db_path, "partner_health", partner_types=["reseller"], tiers=["gold", "silver"])
    assert_same(demo_db_path, "partner_health", as_of=date(2026, 7, 1), regions=["NA"])
    movers = assert_same(demo_db_path, "partner_health_movers")
    assert movers.height > 20
    filtered = assert_same(demo_db_path, "partner_health_movers", **scope)
    assert 0 < filtered.height < movers.height


def test_the_stored_history_gives_what_computing_gives_on_the_demo(demo_db_path: Path):
    con = queries.connect(demo_db_path)
    partners = [p for (p,) in con.sql("select partner_id from partners order by joined_at desc, partner_id limit 2").fetchall()]
    partners += [p for (p,) in con.sql("select partner_id from partners order by joined_at, partner_id limit 1").fetchall()]
    con.close()
    for partner_id in partners:
        assert_same(demo_db_path, "partner_health_history", partner_id=partner_id)
    oldest = assert_same(demo_db_path, "partner_health_history", partner_id=partners[-1])
    assert oldest.height == 9
    # A day before the build's: some quarter starts stored, the others computed.
    assert_same(demo_db_path, "partner_health_history", partner_id=partners[-1], as_of=date(2026, 4, 1))


def test_the_stored_signals_give_what_computing_gives_on_the_demo(demo_db_path: Path):
    scope = demo_scope(demo_db_path)
    everyone = assert_same(demo_db_path, "partner_signals")
    filtered = assert_same(demo_db_path, "partner_signals", **scope)
    assert 0 < filtered.height < everyone.height
    assert_same(demo_db_path, "partner_signals", partner_types=["reseller"], tiers=["gold"])
