"""Markov on a program too large for the exact solve: the chain is built over partner groups.

DESIGN.md, "markov, large programs": when more partners than the exact limit (the settings'
attribution.markov_exact_max_partners, 10,000 by default) all reach one another, the chain's
states are partner groups (type x tier x region), each group's credit split over its partners by
their linear credit, and the page and the export say "markov (grouped)". Here the limit is set
low so that a program of three partners is "large".
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

import queries
from loaders.build import build_database
from queries.attribution import scenarios
from settings import Attribution, Settings
from tests.conftest import open_page, write_extracts

# P1 and P2 are one group (referral, gold, EMEA), P3 another (integration, silver, NA).
# Paths (touch order): O1 won 1,000: P1 > P3; O2 won 3,000: P3 > P2 > P1 > P1; O3 lost: P2.
# Over partners P1 > P3 > P2 > P1 is a loop: all three reach one another.
# Over groups (A = P1, P2; B = P3): O1 A > B > conversion, O2 B > A > conversion, O3 A > null.
#   From start: A 2/3, B 1/3. From A: B, conversion, null 1/3 each. From B: conversion, A 1/2 each.
#   P(conversion) from A = 3/5, from B = 4/5, from start 2/3.
#   Without A: from B 1/2, from start 1/6, so RE_A = 1 - (1/6)/(2/3) = 3/4.
#   Without B: from A 1/3, from start 2/9, so RE_B = 1 - (2/9)/(2/3) = 2/3.
#   Each deal with both groups: A 9/17, B 8/17 (3/4 : 2/3 = 9 : 8).
LARGE = {
    "partners.csv": """
        partner_id,partner_name,partner_types,tier,joined_at,region
        P1,Acme Partners,referral,gold,2025-01-15,EMEA
        P2,Beacon Systems,referral,gold,2025-02-01,EMEA
        P3,Cobalt Consulting,integration,silver,2024-06-01,NA
    """,
    "opportunities.csv": """
        opportunity_id,amount,stage,created_at,close_date,is_closed,is_won
        O1,1000,Closed Won,2026-04-01,2026-05-15,true,true
        O2,3000,Closed Won,2026-03-01,2026-06-10,true,true
        O3,2000,Closed Lost,2026-04-10,2026-06-01,true,false
    """,
    "touchpoints.csv": """
        touchpoint_id,opportunity_id,partner_id,touch_type,occurred_at
        T1,O1,P1,referral,2026-04-01 10:00:00
        T2,O1,P3,integration,2026-04-20 10:00:00
        T3,O2,P3,integration,2026-03-05 09:00:00
        T4,O2,P2,referral,2026-04-01 09:00:00
        T5,O2,P1,referral,2026-05-01 09:00:00
        T6,O2,P1,referral,2026-05-20 09:00:00
        T7,O3,P2,referral,2026-04-15 09:00:00
    """,
}


def build(tmp_path: Path, limit: int) -> Path:
    db = tmp_path / f"limit{limit}.duckdb"
    settings = Settings(attribution=Attribution(markov_exact_max_partners=limit))
    build_database(write_extracts(tmp_path / "extracts", LARGE), db, settings=settings)
    return db


def credit_rows(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    frame = queries.execute(con, "attribution_credit", model="markov")
    con.close()
    return frame.select("model", "opportunity_id", "partner_id", pl.col("credit").cast(pl.Float64)).rows()


def test_above_the_limit_markov_credits_partner_groups_split_by_linear_credit(tmp_path: Path):
    rows = credit_rows(build(tmp_path, limit=2))
    grouped = "markov (grouped)"
    assert rows == [
        # O1: A (P1) 9/17 x 1,000 = 529.41(18), B (P3) 8/17 x 1,000 = 470.58(82) + the leftover cent
        # (the largest remainder).
        (grouped, "O1", "P1", 529.41),
        (grouped, "O1", "P3", 470.59),
        # O2: A's 9/17 x 3,000 = 1,588.24 split by linear credit, P1's two touches to P2's one:
        # P1 2/3 = 1,058.82, P2 1/3 = 529.41; B (P3) 8/17 x 3,000 = 1,411.76 + the leftover cent.
        (grouped, "O2", "P1", 1058.82),
        (grouped, "O2", "P2", 529.41),
        (grouped, "O2", "P3", 1411.77),
    ]


def test_grouped_credit_adds_up_to_each_won_deal_s_revenue(tmp_path: Path):
    rows = credit_rows(build(tmp_path, limit=1))
    per_deal: dict[str, float] = {}
    for _, deal, _, credit in rows:
        per_deal[deal] = round(per_deal.get(deal, 0.0) + credit, 2)
    assert per_deal == {"O1": 1000.0, "O2": 3000.0}


def test_at_the_limit_markov_is_exact_and_says_plain_markov(tmp_path: Path):
    db = build(tmp_path, limit=3)
    rows = credit_rows(db)
    assert {row[0] for row in rows} == {"markov"}
    # The exact chain over partners credits otherwise: on O1 P1 and P3 are separate states, not 9 : 8.
    assert dict(((deal, partner), credit) for _, deal, partner, credit in rows)[("O1", "P1")] != 529.41
    con = duckdb.connect(str(db), read_only=True)
    assert not con.sql("select value from load_meta where key in ('markov_model', 'markov_note')").fetchall()
    con.close()


def test_the_build_stores_grouped_markov_under_its_name_and_says_why(tmp_path: Path):
    db = build(tmp_path, limit=2)
    con = duckdb.connect(str(db), read_only=True)
    stored = con.sql(
        "select opportunity_id, partner_id, cast(credit as double) from attribution_credit_default "
        "where model = 'markov' order by 1, 2"
    ).fetchall()
    meta = dict(con.sql("select key, value from load_meta where key like 'markov%'").fetchall())
    con.close()
    assert stored == [
        ("O1", "P1", 529.41),
        ("O1", "P3", 470.59),
        ("O2", "P1", 1058.82),
        ("O2", "P2", 529.41),
        ("O2", "P3", 1411.77),
    ]
    assert meta["markov_model"] == "markov (grouped)"
    assert meta["markov_note"] == (
        "3 of the chain's 3 partners all reach one another, over the exact solve's limit of 2 partners in one such "
        "group, so the chain is built over 2 partner groups (type x tier x region)"
    )


@pytest.mark.parametrize("booking_basis", ["close_date", "touch_date"])
def test_a_grouped_scenario_credits_all_won_revenue_and_is_labelled_grouped(tmp_path: Path, booking_basis: str):
    db = build(tmp_path, limit=2)
    con = duckdb.connect(str(db), read_only=True)
    # Other parameters than the build's are computed, not read from the stored weights.
    for spec in ({"model": "markov"}, {"model": "markov", "lookback_days": 300}):
        frame = queries.execute(con, "attribution_scenario", scenario=json.dumps({**spec, "booking_basis": booking_basis}))
        assert round(float(frame["credit"].sum()), 2) == 4000.0
        assert scenarios.scenario_label(spec, frame).startswith("markov (grouped)")
    con.close()


def test_the_attribution_page_names_the_grouped_model_and_explains_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DB", str(build(tmp_path, limit=2)))
    scenarios = [{"model": "markov"}, {"model": "linear"}]
    at = open_page("attribution", query={"period": "All time", "scenarios": json.dumps(scenarios)})
    assert not at.exception
    totals = next(d.value for d in at.dataframe if "won_revenue" in d.value.columns)
    assert list(totals["scenario"]) == ["A: markov (grouped)", "B: linear"]
    assert list(totals["credited"]) == [4000.0, 4000.0]
    assert any("Markov (grouped)" in box.value and "3 of the chain's 3 partners" in box.value for box in at.info)


def test_below_the_limit_the_page_names_plain_markov_without_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DB", str(build(tmp_path, limit=3)))
    scenarios = [{"model": "markov"}, {"model": "linear"}]
    at = open_page("attribution", query={"period": "All time", "scenarios": json.dumps(scenarios)})
    assert not at.exception
    totals = next(d.value for d in at.dataframe if "won_revenue" in d.value.columns)
    assert list(totals["scenario"]) == ["A: markov", "B: linear"]
    assert not any("Markov (grouped)" in box.value for box in at.info)
