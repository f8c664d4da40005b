"""partner_signals on hand-built partners: each flag, and the near miss beside it.

The program is judged as of 2026-06-30. Recent window: 2026-04-01 (exclusive) to 2026-06-30;
baseline: the 180 days before, 2025-10-03 (exclusive) to 2026-04-01. Burnout's activity test: with
n = recent + baseline activities, P(X <= recent) for X ~ binomial(n, 90 / 270), checked against scipy.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from scipy.stats import binom

import queries
from loaders.build import build_database
from settings import Burnout, Settings
from tests.conftest import PROJECT, write_extracts

AS_OF = date(2026, 6, 30)
EFFORT = ["training_completed", "co_selling_call", "co_marketing", "content_download"]
TWO_TYPES = ["training_completed", "co_selling_call"]
BASELINE = (date(2025, 10, 5), date(2026, 3, 30))
RECENT = (date(2026, 4, 5), date(2026, 6, 25))


def every(partner: str, first: date, last: date, step_days: int, types: list[str], skip: tuple[date, date] | None = None):
    """Activity rows from `first` to `last` every `step_days`, cycling through `types`."""
    day, i = first, 0
    while day <= last:
        if not (skip and skip[0] <= day <= skip[1]):
            yield (partner, types[i % len(types)], day)
        day, i = day + timedelta(days=step_days), i + 1


def spread(partner: str, window: tuple[date, date], n: int, types: list[str]):
    """n activity rows spread evenly over a window (several on one day when n is large), cycling through `types`."""
    span = (window[1] - window[0]).days
    for i in range(n):
        yield (partner, types[i % len(types)], window[0] + timedelta(days=i * span // n))


def binomial_p(recent: int, baseline: int) -> float:
    """The exact one-sided p-value of a fall from `baseline` (180 days) to `recent` (90 days) activities."""
    return float(binom.cdf(recent, recent + baseline, 90 / 270))


def activities() -> str:
    rows = [
        # D91 / D89: last activity 91 and 89 days before as_of.
        ("D91", "training_completed", date(2026, 1, 15)),
        ("D91", "training_completed", date(2026, 3, 31)),
        ("D89", "training_completed", date(2026, 4, 2)),
        # LOGINS: one business review long ago, then only portal logins.
        ("LOGINS", "business_review", date(2026, 1, 15)),
        *every("LOGINS", date(2026, 1, 20), date(2026, 6, 28), 7, ["portal_login"]),
        # RET: 151 quiet days, back on 2026-05-01. SHORTGAP: 89 quiet days, back on 2026-05-01.
        ("RET", "co_selling_call", date(2025, 12, 1)),
        ("RET", "co_selling_call", date(2026, 5, 1)),
        ("RET", "co_selling_call", date(2026, 5, 15)),
        ("SHORTGAP", "co_selling_call", date(2026, 2, 1)),
        ("SHORTGAP", "co_selling_call", date(2026, 5, 1)),
        # WEEKLY: every week for a year, quiet for the last 30 days. SLOW60: every 60 days, quiet 70.
        *every("WEEKLY", date(2025, 6, 1), date(2026, 5, 31), 7, ["content_download"]),
        *every("SLOW60", date(2025, 4, 26), date(2026, 4, 21), 60, ["co_marketing"]),
        # BURN, BURN2, NOISY: the same weekly baseline of 4 activity types (25 activities in 180 days).
        *every("BURN", date(2025, 10, 8), date(2026, 3, 31), 7, EFFORT),
        *every("BURN2", date(2025, 10, 8), date(2026, 3, 31), 7, EFFORT),
        *every("NOISY", date(2025, 10, 8), date(2026, 3, 31), 7, EFFORT),
        # BURN: 3 downloads and 4 support tickets in the recent window (3 signals).
        *every("BURN", date(2026, 4, 10), date(2026, 6, 10), 30, ["content_download"]),
        *every("BURN", date(2026, 4, 20), date(2026, 6, 5), 15, ["support_ticket"]),
        # BURN2: only the 3 downloads (2 signals: activity and breadth).
        *every("BURN2", date(2026, 4, 10), date(2026, 6, 10), 30, ["content_download"]),
        # NOISY: keeps its weekly rhythm but skips May (9 activities, 4 types).
        *every("NOISY", date(2026, 4, 7), date(2026, 6, 30), 7, EFFORT, skip=(date(2026, 5, 1), date(2026, 5, 31))),
        ("TERM", "training_completed", date(2026, 1, 10)),
        # Two activity types throughout (too few for the breadth signal). Baseline -> recent activities:
        # HALVED 32 -> 4 (16.0 -> 4 per 90 days); SMALL 8 -> 1 (4.0 -> 1); EDGE_IN 16 -> 1 and EDGE_OUT 15 -> 1
        # (p just under and just over 0.01); EXACT_HALF 120 -> 30 (60.0 -> 30, a fall of exactly half) and
        # NEAR_HALF 120 -> 31 (a fall of 48%, however significant).
        *spread("HALVED", BASELINE, 32, TWO_TYPES),
        *spread("HALVED", RECENT, 4, TWO_TYPES),
        *spread("SMALL", BASELINE, 8, TWO_TYPES),
        ("SMALL", "co_selling_call", date(2026, 6, 1)),
        *spread("EDGE_IN", BASELINE, 16, TWO_TYPES),
        ("EDGE_IN", "co_selling_call", date(2026, 6, 1)),
        *spread("EDGE_OUT", BASELINE, 15, TWO_TYPES),
        ("EDGE_OUT", "co_selling_call", date(2026, 6, 1)),
        *spread("EXACT_HALF", BASELINE, 120, TWO_TYPES),
        *spread("EXACT_HALF", RECENT, 30, TWO_TYPES),
        *spread("NEAR_HALF", BASELINE, 120, TWO_TYPES),
        *spread("NEAR_HALF", RECENT, 31, TWO_TYPES),
        # THREE and TWO keep a weekly rhythm of two types (26 -> 13, no fall). Both register 8 deals in the
        # baseline and 1 lately (4.0 -> 1 per 90 days) and open 3 support tickets lately (none before);
        # THREE's certification (earned 2025-09-15) lapses on 2026-05-10: its third signal.
        *every("THREE", date(2025, 10, 6), date(2026, 6, 29), 7, TWO_TYPES),
        *every("TWO", date(2025, 10, 6), date(2026, 6, 29), 7, TWO_TYPES),
        *spread("THREE", BASELINE, 8, ["deal_registered"]),
        *spread("TWO", BASELINE, 8, ["deal_registered"]),
        ("THREE", "deal_registered", date(2026, 5, 2)),
        ("TWO", "deal_registered", date(2026, 5, 2)),
        *spread("THREE", RECENT, 3, ["support_ticket"]),
        *spread("TWO", RECENT, 3, ["support_ticket"]),
        ("THREE", "certification_earned", date(2025, 9, 15)),
        ("THREE", "certification_expired", date(2026, 5, 10)),
    ]
    lines = ["activity_id,partner_id,activity_type,occurred_at"]
    lines += [f"A{i},{p},{t},{d.isoformat()} 10:00:00" for i, (p, t, d) in enumerate(rows, start=1)]
    return "\n".join(lines)


PARTNERS = """
    partner_id,partner_name,partner_types,tier,joined_at,region,partner_manager,status,terminated_at
    D91,Dormant 91,referral,silver,2025-01-01,NA,Ann,active,
    D89,Quiet 89,referral,silver,2025-01-01,NA,Ann,active,
    LOGINS,Logins Only,reseller,gold,2025-01-01,NA,Ann,active,
    RET,Returned,referral,silver,2025-01-01,EMEA,Bob,active,
    SHORTGAP,Short Gap,referral,silver,2025-01-01,EMEA,Bob,active,
    WEEKLY,Weekly,services,silver,2025-01-01,NA,Ann,active,
    SLOW60,Every Sixty Days,services,silver,2025-01-01,NA,Ann,active,
    BURN,Burning Out,integration,gold,2025-01-01,NA,Ann,active,
    BURN2,Two Signals,integration,gold,2025-01-01,NA,Ann,active,
    NOISY,Steady Noisy Month,integration,gold,2025-01-01,NA,Ann,active,
    TERM,Terminated,referral,silver,2025-01-01,NA,Ann,terminated,2026-03-01
    HALVED,Halved,services,gold,2025-01-01,APAC,Cy,active,
    SMALL,Small Fall,services,gold,2025-01-01,APAC,Cy,active,
    EDGE_IN,Edge In,services,gold,2025-01-01,APAC,Cy,active,
    EDGE_OUT,Edge Out,services,gold,2025-01-01,APAC,Cy,active,
    EXACT_HALF,Exact Half,services,gold,2025-01-01,APAC,Cy,active,
    NEAR_HALF,Near Half,services,gold,2025-01-01,APAC,Cy,active,
    THREE,Three Signals,reseller,silver,2025-01-01,APAC,Cy,active,
    TWO,Two Signals Only,reseller,silver,2025-01-01,APAC,Cy,active,
"""
OPPORTUNITIES = """
    opportunity_id,amount,stage,created_at,close_date,sourced_partner_id
    O1,10000,Negotiation/Review,2026-03-01,2026-08-31,D91
    O2,20000,Closed Won,2025-11-01,2026-01-10,
    O3,5000,Negotiation/Review,2026-04-01,2026-09-30,D89
"""
TOUCHPOINTS = """
    touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
    T1,O2,LOGINS,referral,2025-12-01 09:00:00
"""
PAYOUTS = """
    payout_id,partner_id,amount,payout_type,period,opportunity_id,status,paid_at
    PO1,LOGINS,500,commission,2026-02-01,O2,paid,2026-02-15
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("signals")
    files = {
        "partners.csv": PARTNERS,
        "partner_activities.csv": activities(),
        "opportunities.csv": OPPORTUNITIES,
        "touchpoints.csv": TOUCHPOINTS,
        "payouts.csv": PAYOUTS,
    }
    db = folder / "signals.duckdb"
    build_database(write_extracts(folder / "extracts", files), db)
    return db


def signals_of(db: Path, **params) -> dict[str, dict]:
    con = queries.connect(db)
    try:
        frame = queries.execute(con, "partner_signals", **{"as_of": AS_OF, **params})
    finally:
        con.close()
    return {row["partner_id"]: row for row in frame.iter_rows(named=True)}


def test_dormant_from_91_quiet_days_not_from_89(program: Path):
    rows = signals_of(program)
    assert (rows["D91"]["days_since_activity"], rows["D91"]["is_dormant"]) == (91, True)
    assert (rows["D89"]["days_since_activity"], rows["D89"]["is_dormant"]) == (89, False)


def test_portal_logins_alone_do_not_keep_a_partner_awake(program: Path):
    row = signals_of(program)["LOGINS"]
    assert row["last_activity_at"].date() == date(2026, 1, 15)
    assert row["days_since_activity"] == 166
    assert row["is_dormant"]


def test_returned_after_a_gap_of_the_threshold_but_not_after_a_shorter_one(program: Path):
    rows = signals_of(program)
    assert rows["RET"]["returned"]
    assert (rows["RET"]["returned_at"], rows["RET"]["gap_before_return_days"]) == (date(2026, 5, 1), 151)
    assert not rows["SHORTGAP"]["returned"]
    assert rows["SHORTGAP"]["returned_at"] is None


def test_overdue_is_judged_against_the_partners_own_rhythm(program: Path):
    rows = signals_of(program)
    # Weekly partner, 30 days quiet: overdue, though far from dormant.
    assert (rows["WEEKLY"]["usual_gap_days"], rows["WEEKLY"]["days_since_activity"]) == (7.0, 30)
    assert rows["WEEKLY"]["is_overdue"] and not rows["WEEKLY"]["is_dormant"]
    # A partner with 60-day gaps, 70 days quiet: on its usual rhythm.
    assert (rows["SLOW60"]["usual_gap_days"], rows["SLOW60"]["days_since_activity"]) == (60.0, 70)
    assert not rows["SLOW60"]["is_overdue"]


def test_burnout_lists_each_signal_with_its_before_and_after(program: Path):
    row = signals_of(program)["BURN"]
    assert row["burnout_risk"] and row["burnout_signal_count"] == 3
    assert row["activity_fall_p"] == pytest.approx(binomial_p(3, 25), rel=1e-9)
    assert row["burnout_signals"] == (
        "activities: 3 in the last 90 days, usual 12.5 (-76%, p = 0.0061, unlikely to be chance); "
        "activity types: 1 in the last 90 days, usual 4.0; support tickets: 4 in the last 90 days, usual 0.0"
    )


def test_a_significant_halving_of_activity_alone_is_burnout(program: Path):
    row = signals_of(program)["HALVED"]
    assert row["activity_fall_p"] == pytest.approx(binomial_p(4, 32), rel=1e-9)
    assert round(row["activity_fall_p"], 4) == 0.0022
    assert row["burnout_risk"] and row["burnout_signal_count"] == 1
    assert row["burnout_signals"] == "activities: 4 in the last 90 days, usual 16.0 (-75%, p = 0.0022, unlikely to be chance)"
    # BURN2's halving (12.5 -> 3, p = 0.0061) flags it too, with the breadth signal beside it.
    burn2 = signals_of(program)["BURN2"]
    assert burn2["burnout_risk"] and burn2["burnout_signal_count"] == 2


def test_a_small_partners_halving_that_could_be_chance_is_not_burnout(program: Path):
    row = signals_of(program)["SMALL"]
    assert row["activity_fall_p"] == pytest.approx(binomial_p(1, 8), rel=1e-9)
    assert round(row["activity_fall_p"], 3) == 0.143
    assert row["burnout_signals"] == "activities: 1 in the last 90 days, usual 4.0 (-75%, p = 0.1431, could be chance)"
    assert row["burnout_signal_count"] == 1 and not row["burnout_risk"]


def test_the_significance_threshold_is_strict_at_one_percent(program: Path):
    rows = signals_of(program)
    inside, outside = rows["EDGE_IN"], rows["EDGE_OUT"]
    assert inside["activity_fall_p"] == pytest.approx(binomial_p(1, 16), rel=1e-9)
    assert outside["activity_fall_p"] == pytest.approx(binomial_p(1, 15), rel=1e-9)
    assert inside["activity_fall_p"] < 0.01 < outside["activity_fall_p"] < 0.014
    assert inside["burnout_risk"] and not outside["burnout_risk"]


def test_a_fall_of_exactly_half_counts_and_a_smaller_one_does_not_however_significant(program: Path):
    rows = signals_of(program)
    half, near = rows["EXACT_HALF"], rows["NEAR_HALF"]
    assert half["activity_fall_p"] == pytest.approx(binomial_p(30, 120), rel=1e-9)
    assert half["burnout_risk"]
    assert half["burnout_signals"].startswith("activities: 30 in the last 90 days, usual 60.0 (-50%, p = 0.0")
    # 60 -> 31 is a fall of 48%: no test, no signal, no flag.
    assert near["activity_fall_p"] is None and near["burnout_signals"] is None
    assert not near["burnout_risk"]


def test_three_signals_without_a_fall_of_activity_are_burnout(program: Path):
    row = signals_of(program)["THREE"]
    assert row["activity_fall_p"] is None
    assert row["burnout_risk"] and row["burnout_signal_count"] == 3
    assert row["burnout_signals"] == (
        "deal registrations: 1 in the last 90 days, usual 4.0; active certifications: 0, were 1; "
        "support tickets: 3 in the last 90 days, usual 0.0"
    )


def test_two_signals_are_not_enough_for_burnout(program: Path):
    row = signals_of(program)["TWO"]
    assert row["burnout_signals"] == (
        "deal registrations: 1 in the last 90 days, usual 4.0; support tickets: 3 in the last 90 days, usual 0.0"
    )
    assert row["burnout_signal_count"] == 2 and not row["burnout_risk"]


def test_the_significance_level_is_a_setting(program: Path, tmp_path: Path):
    folder = program.parent / "extracts"
    db = tmp_path / "lenient.duckdb"
    build_database(folder, db, settings=Settings(burnout=Burnout(significance=0.02)))
    rows = signals_of(db)
    # EDGE_OUT's p of 0.0137 is now below the level; SMALL's 0.143 is still far above it.
    assert rows["EDGE_OUT"]["burnout_risk"] and not rows["SMALL"]["burnout_risk"]


def test_a_steady_partner_with_one_quiet_month_fires_no_signal(program: Path):
    row = signals_of(program)["NOISY"]
    assert row["burnout_signal_count"] == 0 and row["burnout_signals"] is None
    assert not row["burnout_risk"] and not row["is_overdue"] and not row["is_dormant"]


def test_at_risk_needs_dormancy_or_burnout_and_money_at_stake(program: Path):
    rows = signals_of(program)
    # Dormant with an open deal it sourced.
    assert rows["D91"]["at_risk"] and float(rows["D91"]["open_pipeline"]) == 10000
    assert rows["D91"]["at_risk_reasons"] == "quiet 91 days; open pipeline $10,000 (1 deal)"
    # Dormant with unpaid commission: 20,000 linear credit x gold 10% = 2,000, of which 500 paid.
    assert rows["LOGINS"]["at_risk"] and float(rows["LOGINS"]["unpaid_credit"]) == 1500
    # Active with open pipeline; burning out with no money at stake.
    assert not rows["D89"]["at_risk"] and float(rows["D89"]["open_pipeline"]) == 5000
    assert rows["BURN"]["burnout_risk"] and not rows["BURN"]["at_risk"]
    assert {p for p, row in rows.items() if row["at_risk"]} == {"D91", "LOGINS"}


def test_the_manager_filter_keeps_only_that_managers_partners(program: Path):
    assert set(signals_of(program, managers=["Bob"])) == {"RET", "SHORTGAP"}


def test_events_after_as_of_are_ignored(program: Path):
    rows = signals_of(program, as_of=date(2026, 4, 15))
    # Before its return, RET had been quiet since 2025-12-01.
    assert not rows["RET"]["returned"] and rows["RET"]["is_dormant"] and rows["RET"]["days_since_activity"] == 135
    # The terminated partner is listed until its termination day.
    assert "TERM" not in rows and "TERM" in signals_of(program, as_of=date(2026, 2, 1))
    assert "TERM" not in signals_of(program)


def test_engagement_score_ranks_weighted_decayed_activity_against_all_partners(tmp_path: Path):
    files = {
        "partners.csv": """
            partner_id,partner_name,partner_types,tier,joined_at,partner_manager
            A,Today,referral,silver,2026-01-01,Ann
            B,Month Ago,referral,silver,2026-01-01,Bob
            C,Nothing,referral,silver,2026-01-01,Bob
        """,
        "partner_activities.csv": """
            activity_id,partner_id,activity_type,occurred_at
            1,A,training_completed,2026-06-30 10:00:00
            2,B,training_completed,2026-05-31 10:00:00
        """,
    }
    db = tmp_path / "e.duckdb"
    build_database(write_extracts(tmp_path / "e", files), db)
    con = queries.connect(db)
    june = queries.execute(con, "engagement_by_month", as_of=AS_OF, months=2).filter(pl.col("month") == date(2026, 6, 1))
    # training weighs 2; 30 days is one half-life: A 2.0, B 1.0, C 0 -> cume_dist 3/3, 2/3, none.
    assert june.select("partner_id", "raw_engagement", "engagement_score").rows() == [
        ("A", 2.0, 100.0),
        ("B", 1.0, 66.7),
        ("C", 0.0, 0.0),
    ]
    # The rank is against all partners, not the filtered ones: Bob's B stays at 66.7.
    bob = queries.execute(con, "engagement_by_month", as_of=AS_OF, months=1, managers=["Bob"])
    assert bob.select("partner_id", "engagement_score").rows() == [("B", 66.7), ("C", 0.0)]


def test_unpaid_credit_reads_the_same_from_either_credit_source(tiny_db: Path):
    con = queries.connect(tiny_db)
    own = queries.execute(con, "unpaid_credit_by_partner")
    # O1: 1000 x gold 10% = 100, paid. O2: 1500 each to P1 (150 accrued, unpaid) and P2 (silver 8% = 120).
    assert own.select("partner_id", pl.col("unpaid_credit").cast(pl.Float64)).rows() == [("P1", 150.0), ("P2", 120.0)]
    has_table = con.sql("select count(*) from duckdb_tables() where table_name = 'attribution_credit_default'").fetchall()
    if has_table[0][0]:
        assert queries.execute(con, "unpaid_credit_by_partner_from_attribution").equals(own)


def test_commission_owed_is_exact_to_the_cent_where_a_float_product_would_round_down(tiny_db: Path):
    con = duckdb.connect(str(tiny_db))
    try:
        # P1 is gold, 10%: 1.45 x 0.10 is 0.145 exactly, which rounds to 0.15; as floats it is just under and rounds to 0.14.
        con.execute("create temp table one_credit as select 'O9' as opportunity_id, 'P1' as partner_id, 1.45 as credit")
        owed = "select partner_id, commission_earned, unpaid_credit from unpaid_commission('one_credit', NULL)"
        rows = con.sql(owed).fetchall()
    finally:
        con.close()
    assert rows == [("P1", Decimal("0.15"), Decimal("0.15"))]


def test_cohort_curves_follow_kaplan_meier_on_the_tiny_program(tiny_db: Path):
    con = queries.connect(tiny_db)
    curves = queries.execute(con, "cohort_curves", as_of=date(2026, 6, 30))
    p1 = curves.filter((pl.col("cohort") == "FY2025 Q1") & (pl.col("curve") == "activation"))
    # P1 joined 2025-01-15; its first won partner deal (O1) closed 2026-05-15: 485 days = month 15.
    assert p1.filter(pl.col("months_since_joining") == 14)["share"].item() == 0.0
    assert p1.filter(pl.col("months_since_joining") == 15)["share"].item() == 1.0
    survival = curves.filter(pl.col("curve") == "survival")
    for _, group in survival.group_by("cohort"):
        shares = group.sort("months_since_joining")["share"].to_list()
        assert shares == sorted(shares, reverse=True)


def test_export_partner_signals_from_the_command_line(program: Path, tmp_path: Path):
    out = tmp_path / "signals.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "queries",
            "export",
            "partner_signals",
            "--db",
            str(program),
            "--param",
            "as_of=2026-06-30",
            "--out",
            str(out),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    frame = pl.read_csv(out)
    assert {
        "partner_id",
        "engagement_score",
        "last_activity_at",
        "is_dormant",
        "p_alive",
        "burnout_risk",
        "burnout_signals",
        "returned",
        "at_risk",
    } <= set(frame.columns)
    assert frame.height == 18
