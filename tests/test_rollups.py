"""Build-time rollups give exactly the numbers of the direct computation.

Each output below reads `rollup_*` tables (loaders/rollups/) instead of rescanning the extracts.
Its direct computation, as it was before the rollups, is kept in tests/reference_sql/; every case
runs the output both ways on the same database and the frames must be identical (values, types,
order), including "as of" days in the past, where a later touch, registration or certification
must not leak in.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import queries
import queries.program.kpis

# Every test here only reads the tiny program: one build serves them all (tests/conftest.py, tiny_db).
pytestmark = pytest.mark.reads_tiny_program

REFERENCE = Path(__file__).parent / "reference_sql"

CASES = [
    ("program_kpis", {}),
    ("program_kpis", {"start_date": date(2025, 1, 1), "end_date": date(2025, 12, 31), "regions": ["EMEA"]}),
    ("kpi_trend_by_quarter", {}),
    ("kpi_trend_by_quarter", {"tiers": ["gold", "silver"], "quarters": 12}),
    ("kpi_breakdown", {"dimension": "partner_type"}),
    ("kpi_breakdown", {"dimension": "tier"}),
    ("kpi_breakdown", {"dimension": "region", "start_date": date(2025, 7, 1), "end_date": date(2026, 6, 30)}),
    ("kpi_breakdown", {"dimension": "partner_manager", "partner_types": ["reseller", "referral"]}),
    ("program_kpis", {"start_date": date(2025, 10, 1), "end_date": date(2025, 12, 31), "model": "shapley"}),
    ("kpi_breakdown", {"dimension": "partner_type", "regions": ["EMEA", "NA"]}),
    (
        "kpi_breakdown",
        {"dimension": "tier", "partner_types": ["referral"], "start_date": date(2025, 1, 1), "end_date": date(2026, 12, 31)},
    ),
    ("tier_check", {}),
    ("tier_check", {"as_of": date(2025, 9, 30)}),
    ("tier_check", {"as_of": date(2026, 3, 31), "regions": ["EMEA"]}),
    ("partner_flags", {}),
    ("partner_flags", {"as_of": date(2025, 11, 15)}),
    ("partner_flags", {"as_of": date(2026, 3, 1), "regions": ["NA"]}),
    ("cohort_curves", {}),
    ("cohort_curves", {"as_of": date(2025, 6, 30), "tiers": ["gold"]}),
    ("cohort_curves", {"as_of": date(2024, 2, 29)}),
    ("cohort_curves", {"as_of": date(2025, 11, 7), "regions": ["EMEA"]}),
    ("cohort_curves", {"as_of": date(2027, 9, 1)}),
    ("engagement_by_month", {}),
    ("engagement_by_month", {"as_of": date(2025, 10, 31), "months": 6}),
    ("engagement_by_month", {"as_of": date(2026, 2, 11), "months": 18, "tiers": ["gold", "silver"]}),
    ("engagement_by_month", {"as_of": date(2027, 4, 2), "months": 9}),
    ("attribution_disagreements", {}),
    ("attribution_disagreements", {"as_of": date(2026, 2, 1)}),
    ("health_inputs", {}),
    ("health_inputs", {"as_of": date(2025, 10, 1)}),
    ("partner_health", {}),
    ("partner_signals", {"as_of": date(2026, 1, 20)}),
]


def direct(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every output read its reference SQL (where there is one) instead of the rollup-based file."""
    load = queries.load_sql
    # The KPIs stored for the default view are not a reference: compute them.
    monkeypatch.setattr(queries, "READ_STORED", False)

    def reference(name: str) -> str:
        path = REFERENCE / f"{name}.sql"
        return path.read_text(encoding="utf-8") if path.exists() else load(name)

    monkeypatch.setattr(queries, "load_sql", reference)


def both_ways(db: Path, name: str, params: dict, monkeypatch: pytest.MonkeyPatch) -> tuple[pl.DataFrame, pl.DataFrame]:
    con = queries.connect(db)
    try:
        with_rollups = queries.execute(con, name, **params)
        with monkeypatch.context() as patch:
            direct(patch)
            without = queries.execute(con, name, **params)
    finally:
        con.close()
    return with_rollups, without


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_the_rollup_based_output_equals_the_direct_computation_on_the_tiny_program(tiny_db, monkeypatch, name, params):
    with_rollups, without = both_ways(tiny_db, name, params, monkeypatch)
    assert_frame_equal(with_rollups, without)


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_the_rollup_based_output_equals_the_direct_computation_on_the_demo_program(demo_db, monkeypatch, name, params):
    with_rollups, without = both_ways(demo_db, name, params, monkeypatch)
    assert not without.is_empty() or name in {"attribution_disagreements"}
    assert_frame_equal(with_rollups, without)


def test_a_deal_partner_pair_keeps_its_earliest_touch_and_approved_registration(tiny_db):
    con = queries.connect(tiny_db)
    pairs = con.sql(
        "select opportunity_id, partner_id, is_crm_sourced, is_sourced, is_involved, first_touch_on, "
        "first_approved_registration_on from rollup_deal_partners"
    ).pl()
    touches = con.sql(
        "select opportunity_id, partner_id, min(cast(occurred_at as date)) as first_touch_on from touchpoints "
        "where opportunity_id in (select opportunity_id from opportunities) group by all"
    ).pl()
    con.close()
    # Every touched pair is there, with its earliest touch day.
    joined = touches.join(pairs, on=["opportunity_id", "partner_id"], how="left", suffix="_rollup")
    assert joined["first_touch_on"].to_list() == joined["first_touch_on_rollup"].to_list()
    # A CRM sourced partner is the deal's sourced partner, and involved.
    crm = pairs.filter(pl.col("is_crm_sourced"))
    assert crm["is_sourced"].all() and crm["is_involved"].all()
