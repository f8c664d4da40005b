"""What changed in the pipeline between two dates: a tiny history checked by hand, every kind of
change, opening + changes = closing to the cent per quarter and involvement, and the same
identity on random histories (hypothesis), all loaded by the real loaders."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import queries
from loaders import derived
from loaders.build import build_database
from queries.forecast import forecast_history, pipeline_changes
from tests.conftest import open_page, write_extracts

# Data as of 2026-11-20 (P1's training that day is the latest event), in FY2026 Q4 (October to
# December; FY2027 Q1 is January to March). The week compared: the end of 2026-11-13 to the end of
# 2026-11-20. S* are sourced by P1 (EMEA, referral), N1 by P2 (NA, reseller); I* are influenced by
# P2's touches; D* and R1 are direct.
PARTNERS = """
    partner_id,partner_name,partner_types,tier,joined_at,region,partner_manager
    P1,Acme Partners,referral,gold,2024-01-01,EMEA,Maria Lopez
    P2,Beacon Systems,reseller,silver,2024-01-01,NA,Sam Reed
"""
WEEK = {
    "partners.csv": PARTNERS,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,is_closed,is_won,forecast_category,sourced_partner_id,region,account_name
        S1,1500.35,Negotiation/Review,2026-09-01,2026-12-15,false,false,commit,P1,EMEA,Sierra One
        S2,2000.00,Closed Won,2026-09-01,2026-11-17,true,true,closed,P1,EMEA,Sierra Two
        S3,700.50,Prospecting,2026-11-15,2026-12-20,false,false,pipeline,P1,EMEA,Sierra Three
        N1,1000.00,Prospecting,2026-10-05,2026-12-31,false,false,pipeline,P2,NA,November One
        N2,600.00,Closed Won,2026-10-05,2026-11-18,true,true,closed,P2,NA,November Two
        I1,2800.40,Value Proposition,2026-08-01,2027-01-15,false,false,best_case,,NA,India One
        I2,1200.00,Proposal/Price Quote,2026-10-01,2026-12-20,false,false,commit,,NA,India Two
        I3,900.00,Closed Lost,2026-10-01,2026-11-18,true,false,omitted,,NA,India Three
        I4,2250.75,Needs Analysis,2026-10-01,2026-12-01,false,false,pipeline,,NA,India Four
        D1,4400.00,Closed Won,2026-07-01,2026-11-19,true,true,closed,,NA,Delta One
        D2,1800.00,Negotiation/Review,2026-10-01,2026-12-15,false,false,commit,,NA,Delta Two
        D3,650.00,Closed Won,2026-11-16,2026-11-19,true,true,closed,,NA,Delta Three
        D4,500.00,Closed Won,2026-09-01,2026-10-20,true,true,closed,,NA,Delta Four
        D5,300.00,Prospecting,2026-10-10,2026-12-31,false,false,pipeline,,NA,Delta Five
        R1,800.00,Qualification,2026-09-01,2026-12-30,false,false,pipeline,,NA,Romeo One
    """,
    # N1 and N2 have no history rows: their state on 2026-11-13 comes from their created and close dates.
    "opportunity_history.csv": """
        opportunity_id,stage,changed_at,amount,close_date,forecast_category
        S1,Negotiation/Review,2026-09-01 09:00:00,1000.10,2026-12-15,commit
        S1,Negotiation/Review,2026-11-16 09:00:00,1500.35,2026-12-15,commit
        S2,Proposal/Price Quote,2026-09-01 09:00:00,2000.00,2026-11-30,commit
        S2,Closed Won,2026-11-17 09:00:00,2000.00,2026-11-17,closed
        S3,Prospecting,2026-11-15 09:00:00,700.50,2026-12-20,pipeline
        I1,Value Proposition,2026-08-01 09:00:00,3000.00,2026-12-10,best_case
        I1,Value Proposition,2026-11-16 09:00:00,2800.40,2027-01-15,best_case
        I2,Proposal/Price Quote,2026-10-01 09:00:00,1200.00,2027-02-10,commit
        I2,Proposal/Price Quote,2026-11-17 09:00:00,1200.00,2026-12-20,commit
        I3,Needs Analysis,2026-10-01 09:00:00,900.00,2026-12-05,pipeline
        I3,Closed Lost,2026-11-18 09:00:00,900.00,2026-11-18,omitted
        I4,Needs Analysis,2026-10-01 09:00:00,2500.00,2026-12-01,pipeline
        I4,Needs Analysis,2026-11-19 09:00:00,2250.75,2026-12-01,pipeline
        D1,Negotiation/Review,2026-07-01 09:00:00,4000.00,2026-12-01,commit
        D1,Negotiation/Review,2026-11-14 09:00:00,4400.00,2026-12-01,commit
        D1,Closed Won,2026-11-19 09:00:00,4400.00,2026-11-19,closed
        D2,Negotiation/Review,2026-10-01 09:00:00,1800.00,2026-12-10,commit
        D2,Negotiation/Review,2026-11-15 09:00:00,1800.00,2027-01-20,commit
        D2,Negotiation/Review,2026-11-18 09:00:00,1800.00,2026-12-15,commit
        D3,Prospecting,2026-11-16 09:00:00,650.00,2026-12-31,pipeline
        D3,Closed Won,2026-11-19 10:00:00,650.00,2026-11-19,closed
        D4,Negotiation/Review,2026-09-01 09:00:00,500.00,2026-10-30,commit
        D4,Closed Won,2026-10-20 09:00:00,500.00,2026-10-20,closed
        D5,Prospecting,2026-10-10 09:00:00,300.00,2026-12-31,pipeline
        R1,Qualification,2026-09-01 09:00:00,800.00,2026-11-30,pipeline
        R1,Closed Lost,2026-11-01 09:00:00,800.00,2026-11-01,omitted
        R1,Qualification,2026-11-16 09:00:00,800.00,2026-12-30,pipeline
    """,
    "touchpoints.csv": """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T1,I1,P2,co_selling,2026-10-15 10:00:00
        T2,I2,P2,co_selling,2026-10-15 10:00:00
        T3,I3,P2,co_selling,2026-10-15 10:00:00
        T4,I4,P2,co_selling,2026-10-15 10:00:00
    """,
    "partner_activities.csv": """
        activity_id,partner_id,activity_type,occurred_at
        A1,P1,training_completed,2026-11-20 10:00:00
    """,
}
FROM, TO = date(2026, 11, 13), date(2026, 11, 20)
Q4, Q1 = "FY2026 Q4", "FY2027 Q1"


def money(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture(scope="module")
def week_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("changes")
    build_database(write_extracts(folder / "week", WEEK), folder / "week.duckdb")
    return folder / "week.duckdb"


@pytest.fixture(scope="module")
def week(week_db: Path):
    con = queries.connect(week_db)
    yield con
    con.close()


def changes(con, **params) -> list[tuple]:
    frame = queries.execute(con, "pipeline_changes", **params)
    return frame.select("opportunity_id", "fiscal_quarter", "change_kind", "amount_change", "involvement").rows()


def test_every_kind_of_change_in_the_week_is_a_row_in_the_quarter_it_changes(week):
    assert sorted(changes(week, from_date=FROM, to_date=TO)) == sorted(
        [
            ("S1", Q4, "amount_up", money("500.25"), "sourced"),  # 1,000.10 -> 1,500.35, due in December both days
            ("S2", Q4, "won", money("-2000.00"), "sourced"),
            ("S3", Q4, "created", money("700.50"), "sourced"),  # created on 2026-11-15
            ("N2", Q4, "won", money("-600.00"), "sourced"),  # no history: open until its close date, 2026-11-18
            ("I1", Q4, "pushed_out", money("-3000.00"), "influenced"),  # at its amount on 2026-11-13 ...
            ("I1", Q1, "pulled_in", money("2800.40"), "influenced"),  # ... and in at its amount on 2026-11-20
            ("I2", Q1, "pushed_out", money("-1200.00"), "influenced"),  # moved earlier: out of FY2027 Q1 ...
            ("I2", Q4, "pulled_in", money("1200.00"), "influenced"),  # ... into FY2026 Q4
            ("I3", Q4, "lost", money("-900.00"), "influenced"),
            ("I4", Q4, "amount_down", money("-249.25"), "influenced"),
            # D1's amount went up on 2026-11-14 and it was won on 2026-11-19: won at its amount on
            # 2026-11-13, no amount change.
            ("D1", Q4, "won", money("-4000.00"), "direct"),
            # D2 was pushed to January on 2026-11-15 and back to December on 2026-11-18: no change.
            ("D3", Q4, "created", money("650.00"), "direct"),  # created and won in the week
            ("D3", Q4, "won", money("-650.00"), "direct"),
            ("R1", Q4, "pulled_in", money("800.00"), "direct"),  # lost on 2026-11-01, reopened on 2026-11-16
        ]
    )


def test_opening_plus_changes_is_closing_to_the_cent_for_each_involvement_and_quarter(week):
    totals = queries.execute(week, "pipeline_change_totals", from_date=FROM, to_date=TO)
    by = totals.group_by("fiscal_quarter", "involvement").agg(pl.col(step).sum() for step in pipeline_changes.STEPS)
    steps = {(row["fiscal_quarter"], row["involvement"]): row for row in by.iter_rows(named=True)}
    # Worked out by hand: opening (open on 2026-11-13, due in the quarter) and closing (open on 2026-11-20).
    expected = {
        # S1 1,000.10 + S2 2,000.00 + N1 1,000.00 + N2 600.00 -> S1 1,500.35 + S3 700.50 + N1 1,000.00
        (Q4, "sourced"): ("4600.10", "3200.85"),
        # I1 3,000.00 + I3 900.00 + I4 2,500.00 -> I2 1,200.00 + I4 2,250.75
        (Q4, "influenced"): ("6400.00", "3450.75"),
        (Q1, "influenced"): ("1200.00", "2800.40"),  # I2 -> I1
        # D1 4,000.00 + D2 1,800.00 + D5 300.00 -> D2 1,800.00 + D5 300.00 + R1 800.00
        (Q4, "direct"): ("6100.00", "2900.00"),
    }
    assert set(steps) == set(expected)
    for key, (opening, closing) in expected.items():
        row = steps[key]
        assert (row["opening"], row["closing"]) == (money(opening), money(closing)), key
        changes_sum = sum(row[kind] for kind in pipeline_changes.CHANGE_KINDS)
        assert row["opening"] + changes_sum == row["closing"], key


def test_the_change_rows_add_up_to_the_totals_kind_by_kind(week):
    rows = queries.execute(week, "pipeline_changes", from_date=FROM, to_date=TO)
    totals = queries.execute(week, "pipeline_change_totals", from_date=FROM, to_date=TO)
    for kind in pipeline_changes.CHANGE_KINDS:
        assert rows.filter(pl.col("change_kind") == kind)["amount_change"].sum() == totals[kind].sum(), kind
    # Signs: money leaving the quarter is negative.
    signs = rows.group_by("change_kind").agg((pl.col("amount_change") > 0).all().alias("positive"))
    assert dict(signs.iter_rows()) == {
        "created": True, "pulled_in": True, "amount_up": True, "pushed_out": False, "amount_down": False, "won": False,
        "lost": False,
    }  # fmt: skip


def test_a_deal_without_history_rows_is_labelled_and_counted_from_its_created_and_close_dates(week):
    rows = queries.execute(week, "pipeline_changes", from_date=FROM, to_date=TO)
    # N2: open on 2026-11-13 (created 2026-10-05, closing 2026-11-18), won by 2026-11-20.
    assert rows.filter(pl.col("basis") == "created_close_dates").select("opportunity_id", "change_kind", "from_stage").rows() == [
        ("N2", "won", "Prospecting")  # the first open stage, assumed
    ]
    # Created after from_date, N1 is the CRM's record on to_date: nothing about it was assumed.
    since_october = queries.execute(week, "pipeline_changes", from_date=date(2026, 10, 1), to_date=TO)
    n1 = since_october.filter(pl.col("opportunity_id") == "N1")
    assert n1.select("change_kind", "amount_change", "basis").rows() == [("created", money("1000.00"), "history")]


def test_the_involvement_and_partner_are_those_known_at_to_date(week):
    rows = queries.execute(week, "pipeline_changes", from_date=FROM, to_date=TO)
    partners = dict(rows.select("opportunity_id", "partner_id").unique().iter_rows())
    assert partners == {
        "S1": "P1", "S2": "P1", "S3": "P1", "N2": "P2", "I1": "P2", "I2": "P2", "I3": "P2", "I4": "P2", "D1": None, "D3": None,
        "R1": None,
    }  # fmt: skip


def test_the_partner_filters_keep_the_deals_of_matching_partners_and_drop_direct_ones(week):
    emea = changes(week, from_date=FROM, to_date=TO, regions=["EMEA"])
    assert sorted(row[0] for row in emea) == ["S1", "S2", "S3"]
    resellers = queries.execute(week, "pipeline_change_totals", from_date=FROM, to_date=TO, partner_types=["reseller"])
    assert resellers.group_by("involvement").agg(pl.col("closing").sum()).sort("involvement").rows() == [
        ("influenced", money("6251.15")),  # I2 1,200.00 + I4 2,250.75 + I1 2,800.40
        ("sourced", money("1000.00")),  # N1
    ]
    assert queries.execute(week, "pipeline_changes", from_date=FROM, to_date=TO, managers=["Nobody"]).is_empty()


def test_by_default_the_week_compared_ends_on_the_datas_last_day(week):
    assert changes(week) == changes(week, from_date=FROM, to_date=TO)
    assert set(queries.execute(week, "pipeline_changes")["from_date"]) == {FROM}


def test_the_same_day_twice_has_no_change_and_a_reversed_pair_is_refused(week):
    assert changes(week, from_date=TO, to_date=TO) == []
    totals = queries.execute(week, "pipeline_change_totals", from_date=TO, to_date=TO)
    assert (totals["opening"] == totals["closing"]).all()
    with pytest.raises(queries.ParamError, match="after to_date"):
        queries.execute(week, "pipeline_changes", from_date=TO, to_date=FROM)


def test_the_waterfall_of_one_quarter_and_pipeline_adds_its_involvements(week):
    totals = queries.execute(week, "pipeline_change_totals", from_date=FROM, to_date=TO)
    partner = pipeline_changes.waterfall(totals, Q4, "partner").row(0, named=True)
    # Sourced + influenced in FY2026 Q4.
    assert (partner["opening"], partner["closing"]) == (money("11000.10"), money("6651.60"))
    assert (partner["won"], partner["lost"], partner["pushed_out"]) == (money("-2600.00"), money("-900.00"), money("-3000.00"))
    by_region = pipeline_changes.waterfall(totals, Q4, "all", by="region")
    assert by_region["region"].to_list() == ["NA", "EMEA"]  # largest opening first
    assert by_region["closing"].sum() == money("9551.60")
    empty = pipeline_changes.waterfall(totals, "FY2030 Q1", "direct")
    assert empty.height == 1 and empty["closing"][0] == 0


# ---- the identity on random histories ---------------------------------------------------------------

OPEN_STAGES = ["Prospecting", "Qualification", "Value Proposition", "Negotiation/Review"]
START = date(2026, 9, 1)


@st.composite
def histories(draw):
    """A few deals, each a run of changes on increasing days: stage (open, won or lost, and
    reopened now and then), amount in cents and close date; sometimes no history at all."""
    deals = []
    for index in range(draw(st.integers(1, 6))):
        created = START + timedelta(days=draw(st.integers(0, 80)))
        rows, day = [], created
        for _ in range(draw(st.integers(1, 4))):
            day += timedelta(days=draw(st.integers(0, 12)))
            stage = draw(st.sampled_from([*OPEN_STAGES, "Closed Won", "Closed Lost"]))
            close = day if stage.startswith("Closed") else day + timedelta(days=draw(st.integers(-20, 200)))
            rows.append((day, stage, draw(st.integers(100, 500_000)), close))
        deals.append(
            {
                "id": f"X{index}",
                "created": created,
                "rows": rows,
                "history": draw(st.booleans()) or len(rows) > 1,
                "partner": draw(st.sampled_from([None, "sourced", "touched"])),
            }
        )
    first = draw(st.integers(0, 100))
    return deals, START + timedelta(days=first), START + timedelta(days=first + draw(st.integers(0, 40)))


def write_history(folder: Path, deals: list[dict]) -> Path:
    opportunities = ["opportunity_id,amount,stage,created_at,close_date,sourced_partner_id,region"]
    history = ["opportunity_id,stage,changed_at,amount,close_date"]
    touches = ["touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at"]
    for deal in deals:
        last_day, stage, cents, close = deal["rows"][-1]
        sourced = "P1" if deal["partner"] == "sourced" else ""
        opportunities.append(f"{deal['id']},{cents / 100:.2f},{stage},{deal['created']},{close},{sourced},EMEA")
        if deal["history"]:
            for j, (day, stage, cents, close) in enumerate(deal["rows"]):
                changed_at = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=j)
                history.append(f"{deal['id']},{stage},{changed_at},{cents / 100:.2f},{close}")
        if deal["partner"] == "touched":
            touches.append(f"T{deal['id']},{deal['id']},P1,co_selling,{deal['created']} 08:00:00")
    files = {
        "partners.csv": PARTNERS,
        "opportunities.csv": "\n".join(opportunities),
        "partner_activities.csv": "activity_id,partner_id,activity_type,occurred_at\nA1,P1,training_completed,2026-12-31 10:00",
    }
    # A header without rows is refused by the loader: an optional table with no rows is left out.
    for name, lines in (("opportunity_history.csv", history), ("touchpoints.csv", touches)):
        if len(lines) > 1:
            files[name] = "\n".join(lines)
    return write_extracts(folder, files)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(program=histories())
def test_opening_plus_changes_is_closing_on_random_histories(program, tmp_path_factory, monkeypatch):
    deals, from_date, to_date = program
    folder = tmp_path_factory.mktemp("random")
    monkeypatch.setattr(derived, "DERIVED", [])  # the extracts alone: the identity needs no derived table
    build_database(write_history(folder / "extracts", deals), folder / "db.duckdb")
    con = queries.connect(folder / "db.duckdb")
    try:
        totals = queries.execute(con, "pipeline_change_totals", from_date=from_date, to_date=to_date)
        rows = queries.execute(con, "pipeline_changes", from_date=from_date, to_date=to_date)
        states = queries.execute(con, "pipeline_as_of", snapshot_dates=[from_date, to_date])
    finally:
        con.close()
    key = ["fiscal_quarter", "involvement"]
    # Opening and closing worked out apart from the ledger: the open deals on each day, by close quarter.
    open_on = {
        day: {
            (quarter, pipeline_changes.INVOLVEMENT[segment]): amount
            for quarter, segment, amount in states.filter(pl.col("snapshot_date") == day)
            .group_by(pl.col("close_date").dt.quarter().alias("q"), pl.col("close_date").dt.year().alias("y"), "segment")
            .agg(pl.col("amount").sum())
            .select(pl.format("FY{} Q{}", "y", "q"), "segment", "amount")
            .iter_rows()
        }
        for day in (from_date, to_date)
    }
    summed = totals.group_by(key).agg(pl.col(step).sum() for step in pipeline_changes.STEPS)
    changed = {
        (quarter, involvement): amount
        for quarter, involvement, amount in rows.group_by(key).agg(pl.col("amount_change").sum()).iter_rows()
    }
    for row in summed.iter_rows(named=True):
        where = (row["fiscal_quarter"], row["involvement"])
        assert row["opening"] == open_on[from_date].get(where, 0), where
        assert row["closing"] == open_on[to_date].get(where, 0), where
        assert row["opening"] + changed.get(where, 0) == row["closing"], where
    # Every open pipeline of either day is in the totals.
    assert {k for k, v in open_on[from_date].items() if v} | {k for k, v in open_on[to_date].items() if v} <= {
        (r["fiscal_quarter"], r["involvement"]) for r in summed.iter_rows(named=True)
    }


def test_the_stored_default_view_gives_the_same_rows_as_computing_them(demo_db: Path, monkeypatch: pytest.MonkeyPatch):
    con = queries.connect(demo_db)
    region, manager = con.sql(
        "select region, partner_manager from partners where partner_manager is not null order by partner_id limit 1"
    ).fetchall()[0]
    for params in ({}, {"regions": [region], "partner_types": ["reseller", "referral"]}, {"managers": [manager]}):
        for name in ("pipeline_changes", "pipeline_change_totals"):
            stored = queries.execute(con, name, **params)
            with monkeypatch.context() as patch:
                patch.setattr(queries, "READ_STORED", False)
                computed = queries.execute(con, name, **params)
            assert stored.height, (name, params)
            assert_frame_equal(stored, computed)


# ---- the forecast week by week, and the sentence at the top of the page -----------------------


def test_the_forecast_history_has_every_method_at_the_end_of_each_week_back_to_the_quarters_eve(week):
    history = queries.execute(week, "forecast_history")
    days = sorted(set(history["as_of"]))
    # Counted back from data_as_of in steps of 7 days while on or after 2026-09-30, the eve of FY2026 Q4.
    assert days == [date(2026, 10, 2) + timedelta(days=7 * k) for k in range(8)]
    assert history.group_by("as_of").len()["len"].unique().to_list() == [4]  # the four methods
    assert set(history["fiscal_quarter"]) == {Q4} and set(history["segment"]) == {"partner"}
    assert (history["week_start"] == history["as_of"] - timedelta(days=6)).all()
    won = dict(history.filter(pl.col("method") == "historical").select("as_of", "won_to_date").iter_rows())
    # S2 (2,000.00, won 2026-11-17) and N2 (600.00, closing 2026-11-18): nothing partner won in Q4 before.
    assert (won[FROM], won[TO]) == (0, 2600)
    commit = history.filter((pl.col("as_of") == TO) & (pl.col("method") == "sales_commit"))
    assert commit["expected"].to_list() == [5300.35]  # S1 1,500.35 + I2 1,200.00 open in commit, + 2,600.00 won
    assert commit["p10"].to_list() == [None]


def test_each_week_of_the_history_is_the_forecast_as_it_stood_that_day(week):
    history = queries.execute(week, "forecast_history", segment="all")
    for day in (FROM, TO):
        then = queries.execute(week, "pipeline_forecast", as_of=day).filter(
            (pl.col("segment") == "all") & (pl.col("fiscal_quarter") == Q4)
        )
        expected = dict(then.select("method", "expected").iter_rows())
        assert dict(history.filter(pl.col("as_of") == day).select("method", "expected").iter_rows()) == expected, day


def test_a_quarter_not_begun_has_no_history_and_a_misspelt_one_is_refused(week):
    assert queries.execute(week, "forecast_history", fiscal_quarter="FY2027 Q2").is_empty()
    assert set(queries.execute(week, "forecast_history", fiscal_quarter="FY2026 Q3")["as_of"]).issubset(
        {date(2026, 9, 30) - timedelta(days=7 * k) for k in range(15)}
    )
    with pytest.raises(queries.ParamError, match="FY2026 Q4"):
        queries.execute(week, "forecast_history", fiscal_quarter="2026Q4")
    # A year starting in February is named after the year it ends in: FY2027 begins in February 2026.
    assert forecast_history.quarter_from_label("FY2027 Q2", 2) == date(2026, 5, 1)


def test_the_sentence_says_how_far_the_forecast_moved_and_the_won_pushed_and_new_pipeline_behind_it():
    step = {"won": Decimal("-2600.00"), "pushed_out": Decimal("-3000.00"), "created": Decimal("700.50")}
    assert pipeline_changes.moved_sentence("partner", Q4, 9000.0, 7400.0, FROM, step) == (
        "The partner forecast for FY2026 Q4 moved from $9.0k to $7.4k since 2026-11-13: $2.6k won, "
        "$3.0k pushed out of the quarter, $700 new pipeline."
    )
    assert pipeline_changes.moved_sentence("direct", Q4, 9000.0, 9001.0, FROM, step).startswith(
        "The direct forecast for FY2026 Q4 stayed at $9.0k since 2026-11-13"
    )


def test_the_page_opens_on_the_last_week_with_the_sentence_the_waterfall_and_the_deals(week_db, week, monkeypatch):
    monkeypatch.setenv("PULSE_DB", str(week_db))
    at = open_page("changes")
    assert not at.exception, at.exception
    before, after = (
        queries.execute(week, "pipeline_forecast", as_of=day)
        .filter((pl.col("segment") == "partner") & (pl.col("fiscal_quarter") == Q4) & (pl.col("method") == "historical"))[
            "expected"
        ][0]
        for day in (FROM, TO)
    )
    sentence = (
        f"The partner forecast for FY2026 Q4 moved from {money_text(before)} to {money_text(after)} since 2026-11-13: "
        "$2.6k won, $3.0k pushed out of the quarter, $700 new pipeline."
    )
    assert any(sentence in block.value for block in at.markdown), [b.value for b in at.markdown]
    assert len(at.get("plotly_chart")) == 2  # the waterfall and the forecast week by week
    # The deals behind the bar chosen: pushed out of FY2026 Q4, the partner pipeline: I1 at its amount on 2026-11-13.
    at.selectbox(key="changes_kind").select("pushed_out").run()
    deals = [frame.value for frame in at.dataframe if "opportunity_id" in frame.value.columns][0]
    assert deals["opportunity_id"].tolist() == ["I1"] and float(deals["amount_change"].iloc[0]) == -3000.0
    assert deals["partner_link"].iloc[0].startswith("./partner?partner=P2")


def money_text(value: float) -> str:
    from queries.formatting import money as format_money

    return format_money(value)


def test_the_stored_forecast_history_is_the_computed_one(demo_db: Path, monkeypatch: pytest.MonkeyPatch):
    con = queries.connect(demo_db)
    for segment in ("partner", "direct"):
        stored = queries.execute(con, "forecast_history", segment=segment)
        with monkeypatch.context() as patch:
            patch.setattr(queries, "READ_STORED", False)
            computed = queries.execute(con, "forecast_history", segment=segment)
        assert stored.height
        assert_frame_equal(stored, computed)
