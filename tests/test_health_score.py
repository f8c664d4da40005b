"""The partner health score on five hand-built partners whose every number can be worked out by hand.

Scored on 2026-06-30. P1-P4 joined 2024-01-01 (12 months of history); P5 (referral, gold,
like P1 and P2) joined 2026-05-31 and did nothing yet. Population of 5, so a percentile
rank is 100 x (partners at or below) / 5, and 0 for a partner with nothing.

| input (12 mo)          | P1   | P2   | P3   | P4   | P5 |
| revenue (linear)       | 2500 | 1500 | 500  | 0    | 0  |  O1 1000 -> P1; O2 3000 -> P1, P2 half each; O3 500 -> P3
| open pipeline          | 0    | 0    | 0    | 2000 | 0  |  O4 open, sourced by P4
| raw engagement         | 12   | 7    | 4    | 0.1  | 0  |  activities on the day (no decay)
| certifications current | 2    | 0    | 0    | 0    | 0  |  P2 earned one and lost it
| trainings              | 1    | 2    | 1    | 0    | 0  |
| business reviews       | 2    | 0    | 1    | 0    | 0  |
| approval rate          | 0.5  | -    | 1.0  | 0.0  | -  |

Components (no shrinkage, k = 0): revenue 100/80/60/0/0; pipeline 0/0/0/100/0; engagement
100/80/60/40/0; enablement (certs rank, trainings rank) P1 (100+80)/2 = 90, P2 (0+100)/2 =
50, P3 (0+80)/2 = 40; relationship (reviews rank, 100 x approval) P1 (100+50)/2 = 75, P2 0
(reviews alone), P3 (80+100)/2 = 90, P4 (0+0)/2 = 0.
Score (35 revenue, 20 pipeline, 20 engagement, 15 enablement, 10 relationship):
P1 35 + 0 + 20 + 13.5 + 7.5 = 76; P2 28 + 0 + 16 + 7.5 + 0 = 51.5; P3 21 + 0 + 12 + 6 + 9 = 48;
P4 0 + 20 + 8 + 0 + 0 = 28; P5 0.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

import queries
from loaders.build import build_database
from queries.health import health_score, win_model
from settings import Settings
from tests.conftest import PROJECT, write_extracts

AS_OF = date(2026, 6, 30)

HEALTH = {
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at,region,partner_manager,status
        P1,Acme,referral,gold,2024-01-01,EMEA,Maria Lopez,active
        P2,Beacon,referral,gold,2024-01-01,NA,Sam Reed,active
        P3,Cobalt,reseller,silver,2024-01-01,NA,Sam Reed,active
        P4,Delta,reseller,silver,2024-01-01,EMEA,Maria Lopez,active
        P5,Echo,referral,gold,2026-05-31,NA,Sam Reed,active
    """,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,is_closed,is_won,sourced_partner_id
        O1,1000,Closed Won,2026-03-01,2026-05-01,true,true,
        O2,3000,Closed Won,2026-04-01,2026-06-01,true,true,
        O3,500,Closed Won,2026-02-01,2026-04-01,true,true,
        O4,2000,Negotiation/Review,2026-06-01,2026-09-30,false,false,P4
    """,
    "touchpoints.csv": """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T1,O1,P1,referral,2026-04-01 10:00:00
        T2,O2,P1,co_selling,2026-05-01 10:00:00
        T3,O2,P2,co_selling,2026-05-02 10:00:00
        T4,O3,P3,referral,2026-03-01 10:00:00
    """,
    "partner_activities.csv": """
        activity_id,partner_id,activity_type,occurred_at
        A1,P1,certification_earned,2026-06-30 10:00:00
        A2,P1,certification_earned,2026-06-30 10:00:00
        A3,P1,training_completed,2026-06-30 10:00:00
        A4,P1,business_review,2026-06-30 10:00:00
        A5,P1,business_review,2026-06-30 10:00:00
        A6,P2,certification_earned,2026-06-30 10:00:00
        A7,P2,certification_expired,2026-06-30 10:00:00
        A8,P2,training_completed,2026-06-30 10:00:00
        A9,P2,training_completed,2026-06-30 10:00:00
        A10,P3,training_completed,2026-06-30 10:00:00
        A11,P3,business_review,2026-06-30 10:00:00
        A12,P4,portal_login,2026-06-30 10:00:00
    """,
    "deal_registrations.csv": """
        registration_id,partner_id,registered_at,status,decided_at
        R1,P1,2026-05-01 10:00:00,approved,2026-05-02 10:00:00
        R2,P1,2026-05-01 10:00:00,rejected,2026-05-02 10:00:00
        R3,P3,2026-05-01 10:00:00,approved,2026-05-02 10:00:00
        R4,P4,2026-05-01 10:00:00,rejected,2026-05-02 10:00:00
    """,
}

OBSERVED = {"P1": 76.0, "P2": 51.5, "P3": 48.0, "P4": 28.0, "P5": 0.0}


@pytest.fixture(scope="module")
def health_dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The program built twice: without shrinkage (k = 0) and with the default k = 3 months."""
    folder = tmp_path_factory.mktemp("health")
    extracts = write_extracts(folder / "extracts", HEALTH)
    plain, shrunk = folder / "plain.duckdb", folder / "shrunk.duckdb"
    build_database(extracts, plain, settings=Settings(health_prior_months=0))
    build_database(extracts, shrunk)
    return {"plain": plain, "shrunk": shrunk}


def score(db: Path, **params: object) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return queries.execute(con, "partner_health", as_of=AS_OF, **params)
    finally:
        con.close()


def by_partner(frame: pl.DataFrame, column: str) -> dict[str, float]:
    return dict(zip(frame["partner_id"], frame[column], strict=True))


def test_components_are_percentile_ranks_worked_out_by_hand(health_dbs):
    frame = score(health_dbs["plain"])
    assert by_partner(frame, "revenue_component") == {"P1": 100.0, "P2": 80.0, "P3": 60.0, "P4": 0.0, "P5": 0.0}
    assert by_partner(frame, "pipeline_component") == {"P1": 0.0, "P2": 0.0, "P3": 0.0, "P4": 100.0, "P5": 0.0}
    assert by_partner(frame, "engagement_component") == {"P1": 100.0, "P2": 80.0, "P3": 60.0, "P4": 40.0, "P5": 0.0}
    assert by_partner(frame, "enablement_component") == {"P1": 90.0, "P2": 50.0, "P3": 40.0, "P4": 0.0, "P5": 0.0}
    assert by_partner(frame, "relationship_component") == {"P1": 75.0, "P2": 0.0, "P3": 90.0, "P4": 0.0, "P5": 0.0}
    assert by_partner(frame, "revenue_12m") == {"P1": 2500, "P2": 1500, "P3": 500, "P4": 0, "P5": 0}
    assert by_partner(frame, "certifications_current")["P2"] == 0


def test_score_is_the_weighted_mean_of_the_components(health_dbs):
    frame = score(health_dbs["plain"])
    assert by_partner(frame, "health_score") == OBSERVED
    assert frame["partner_id"].to_list() == ["P1", "P2", "P3", "P4", "P5"]
    assert frame["rank"].to_list() == [1, 2, 3, 4, 5]
    assert frame.select("revenue_weight", "pipeline_weight", "engagement_weight", "enablement_weight", "relationship_weight").row(
        0
    ) == (35.0, 20.0, 20.0, 15.0, 10.0)
    assert frame["history_share"].to_list() == [1.0] * 5


def test_changed_weights_rerank_partners(health_dbs):
    pipeline_only = score(health_dbs["plain"], w_revenue=0, w_pipeline=1, w_engagement=0, w_enablement=0, w_relationship=0)
    assert by_partner(pipeline_only, "health_score") == {"P1": 0.0, "P2": 0.0, "P3": 0.0, "P4": 100.0, "P5": 0.0}
    assert pipeline_only["partner_id"][0] == "P4"
    assert pipeline_only["pipeline_weight"][0] == 100.0
    # Half revenue, half relationship: P3 = (60 + 90) / 2 = 75 overtakes P2 = (80 + 0) / 2 = 40.
    halves = score(health_dbs["plain"], w_revenue=50, w_pipeline=0, w_engagement=0, w_enablement=0, w_relationship=50)
    assert by_partner(halves, "health_score") == {"P1": 87.5, "P2": 40.0, "P3": 75.0, "P4": 0.0, "P5": 0.0}


def test_negative_or_all_zero_weights_are_refused(health_dbs):
    with pytest.raises(ValueError, match="negative"):
        score(health_dbs["plain"], w_revenue=-1)
    with pytest.raises(ValueError, match="above zero"):
        score(health_dbs["plain"], w_revenue=0, w_pipeline=0, w_engagement=0, w_enablement=0, w_relationship=0)


def test_a_one_month_partner_scores_near_its_segment_average(health_dbs):
    frame = score(health_dbs["shrunk"])
    young = frame.filter(pl.col("partner_id") == "P5").row(0, named=True)
    months = 30 / 30.4375
    share = months / (months + 3)
    # The prior of referral x gold: P1, P2 and P5 weighted by months of history (12, 12, 0.99).
    segment = (12 * OBSERVED["P1"] + 12 * OBSERVED["P2"] + months * OBSERVED["P5"]) / (24 + months)
    assert young["history_share"] == pytest.approx(share, abs=0.001)
    assert young["segment_score"] == pytest.approx(segment, abs=0.05)
    assert young["observed_score"] == 0.0
    assert young["health_score"] == pytest.approx(share * 0 + (1 - share) * segment, abs=0.05)
    # It rests three quarters on its segment: much nearer the segment's average than its own empty record.
    assert abs(young["health_score"] - segment) < 0.25 * segment
    # Established partners rest 12 / 15 = 80% on their own history.
    p1 = frame.filter(pl.col("partner_id") == "P1").row(0, named=True)
    assert p1["history_share"] == 0.8
    assert p1["health_score"] == pytest.approx(0.8 * 76 + 0.2 * segment, abs=0.05)


def test_filters_keep_partners_without_changing_their_scores(health_dbs):
    everyone = score(health_dbs["plain"])
    sam = score(health_dbs["plain"], managers=["Sam Reed"])
    assert sam["partner_id"].to_list() == ["P2", "P3", "P5"]
    assert by_partner(sam, "health_score") == {k: v for k, v in OBSERVED.items() if k in ("P2", "P3", "P5")}
    assert by_partner(sam, "rank") == {k: v for k, v in by_partner(everyone, "rank").items() if k in ("P2", "P3", "P5")}
    assert score(health_dbs["plain"], partner_types=["reseller"])["partner_id"].to_list() == ["P3", "P4"]


def test_history_scores_each_quarter_start_and_the_day(health_dbs):
    con = duckdb.connect(str(health_dbs["plain"]), read_only=True)
    history = queries.execute(con, "partner_health_history", partner_id="P1", quarters=3, as_of=AS_OF)
    con.close()
    assert history["scored_on"].to_list() == [date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1), AS_OF]
    assert history["fiscal_quarter"].to_list() == ["FY2025 Q4", "FY2026 Q1", "FY2026 Q2", "FY2026 Q2"]
    assert history["health_score"][-1] == 76.0


def test_movers_compare_with_the_same_day_a_quarter_earlier(health_dbs):
    con = duckdb.connect(str(health_dbs["plain"]), read_only=True)
    movers = queries.execute(con, "partner_health_movers", as_of=AS_OF)
    con.close()
    assert movers["compared_with"].unique().to_list() == [date(2026, 3, 30)]
    # P5 had not joined then, so it has no move.
    assert sorted(movers["partner_id"]) == ["P1", "P2", "P3", "P4"]
    row = movers.filter(pl.col("partner_id") == "P1").row(0, named=True)
    assert row["change"] == pytest.approx(row["health_score"] - row["score_before"], abs=0.05)
    assert movers["change"].to_list() == sorted(movers["change"].to_list(), reverse=True)


def test_months_before_keeps_the_day_or_the_months_last_day():
    assert health_score.months_before(date(2026, 11, 20), 3) == date(2026, 8, 20)
    assert health_score.months_before(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert health_score.months_before(date(2026, 2, 15), 3) == date(2025, 11, 15)


def test_export_gives_the_table_on_the_command_line(health_dbs, tmp_path):
    out = tmp_path / "health.csv"
    subprocess.run(
        [sys.executable, "-m", "queries", "export", "partner_health", "--db", str(health_dbs["plain"]),
         "--param", "as_of=2026-06-30", "--out", str(out)],
        cwd=PROJECT, check=True, capture_output=True,
    )  # fmt: skip
    exported = pl.read_csv(out)
    assert dict(zip(exported["partner_id"], exported["health_score"], strict=True)) == OBSERVED


# ---- the win model ---------------------------------------------------------------------


def test_rolling_splits_never_train_on_the_evaluated_quarter():
    quarters = [date(2025, 1, 1), date(2025, 4, 1), date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1)]
    splits = win_model.rolling_splits(quarters, holdout=4)
    assert [evaluated for _, evaluated in splits] == quarters[2:]
    for train, evaluated in splits:
        assert evaluated not in train
        assert max(train) < evaluated
    assert splits[0][0] == quarters[:2]


def test_the_stored_evaluation_trains_only_on_earlier_quarters(demo_db_path):
    con = duckdb.connect(str(demo_db_path), read_only=True)
    evaluation = queries.execute(con, "win_model_evaluation")
    calibration = queries.execute(con, "win_model_calibration")
    con.close()
    per_quarter = evaluation.filter(pl.col("fiscal_quarter") != "all held-out")
    assert per_quarter.height >= 1
    assert (per_quarter["trained_through"] < per_quarter["quarter_start"]).all()
    assert set(calibration["predictor"]) == {"model", "baseline"}
    assert calibration.filter(pl.col("predictor") == "model")["partners"].sum() == evaluation["partners"][-1]


def synthetic_panel(seed: int, label_from_baseline: bool) -> pl.DataFrame:
    """Partner-quarters with noise features; the label either copies 'won last quarter' or follows a feature."""
    rng = np.random.default_rng(seed)
    rows = 6 * 80
    frame = pl.DataFrame({f: rng.normal(size=rows) for f in win_model.FEATURES}).with_columns(
        quarter_start=pl.Series([date(2024 + (i // 80) // 4, 1 + 3 * ((i // 80) % 4), 1) for i in range(rows)]),
        won_last_quarter=pl.Series(rng.integers(0, 2, rows), dtype=pl.Int8),
    )
    if label_from_baseline:
        return frame.with_columns(won=pl.col("won_last_quarter"))
    return frame.with_columns(won=(pl.col("open_deals") > 0).cast(pl.Int8))


def test_the_model_is_hidden_when_it_does_not_beat_the_baseline():
    con = duckdb.connect()
    con.execute("create table partners (partner_id varchar)")
    win_model.store_tables(con, synthetic_panel(1, label_from_baseline=True))
    evaluation = win_model.win_model_evaluation(con)
    pooled = evaluation.filter(pl.col("fiscal_quarter") == "all held-out").row(0, named=True)
    assert pooled["auc_baseline"] == 1.0
    assert not evaluation["model_shown"].any()
    assert win_model.predict(con, pl.DataFrame({"partner_id": ["X"]})).is_empty()


def test_the_model_is_shown_when_it_beats_the_baseline():
    con = duckdb.connect()
    win_model.store_tables(con, synthetic_panel(2, label_from_baseline=False))
    evaluation = win_model.win_model_evaluation(con)
    pooled = evaluation.filter(pl.col("fiscal_quarter") == "all held-out").row(0, named=True)
    assert pooled["auc_model"] > 0.9 > 0.6 > pooled["auc_baseline"]
    assert evaluation["model_shown"].all()


def test_win_probabilities_reach_the_health_table_on_the_demo(demo_db_path):
    con = duckdb.connect(str(demo_db_path), read_only=True)
    shown = bool(queries.execute(con, "win_model_evaluation")["model_shown"].any())
    health = queries.execute(con, "partner_health")
    con.close()
    assert health["p_won_next_quarter"].is_not_null().all() == shown
    if shown:
        assert health["p_won_next_quarter"].is_between(0, 1).all()


def test_a_program_with_few_won_deals_still_builds_and_scores(health_dbs):
    con = duckdb.connect(str(health_dbs["plain"]), read_only=True)
    evaluation = win_model.win_model_evaluation(con)
    health = queries.execute(con, "partner_health", as_of=AS_OF)
    con.close()
    assert list(evaluation.columns) == [*win_model.EVALUATION_SCHEMA, "model_shown"]
    assert health["p_won_next_quarter"].is_null().all() or not evaluation.is_empty()
    assert Settings().health_prior_months == 3.0
