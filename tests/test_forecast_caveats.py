"""What the forecast does with deals the CRM states badly, on hand-built programs worked out by
hand: open deals past their close date (stale) are left out of CRM weighted and the sales call
(the historical method counts them at what stale deals won before: test_forecast_stale.py),
counted with their amount and listed; a stage the stage map gives no probability uses the
deal's own, else the deals are named; and the backtest says when stale deals make a method's
error large."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import queries
import state
from queries.forecast.methods import METHODS
from settings import Settings, Stage, salesforce_stages
from tests.conftest import open_page, open_tab
from tests.test_as_of import EXPORT, PARTNERS, build


def row(frame: pl.DataFrame, **where) -> dict:
    matches = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert matches.height == 1, (where, matches)
    return matches.row(0, named=True)


@pytest.fixture(scope="module")
def export_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("export"), EXPORT)


@pytest.fixture(scope="module")
def counted_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = Settings(forecast_stale_deals="current_quarter")
    return build(tmp_path_factory.mktemp("counted"), EXPORT, settings=settings)


# ---- stale open deals ------------------------------------------------------------------


def test_stale_open_deals_are_left_out_of_the_pipeline_methods(export_db: Path):
    result = queries.execute(queries.connect(export_db), "pipeline_forecast")
    q3 = result.filter(pl.col("fiscal_quarter") == "FY2023 Q3")
    # CRM weighted, FY2023 Q3 as of 2023-09-01: won so far W1 1000 + W2 3000; open and due:
    # O1 2000 x 0.5 (stage map) + O2 5000 x 0.4 (its own) + O3 3000 x 0 (no probability) = 3000.
    # S1 (4000, due 2023-08-15) and S2 (1000, due 2023-06-30) are stale: not counted.
    assert row(q3, method="crm_weighted", segment="all")["expected"] == 7000
    assert row(q3, method="crm_weighted", segment="partner")["expected"] == 2000  # W1 1000 + O1 1000 + O3 0
    assert row(q3, method="crm_weighted", segment="direct")["expected"] == 5000  # W2 3000 + O2 2000
    # No method counts a stale deal: the sales call has no commit deal, so it is what was won.
    assert row(q3, method="sales_commit", segment="all")["expected"] == 4000
    assert set(q3.filter(pl.col("segment") == "all")["open_deals"]) == {3}
    assert {row(q3, method=m, segment="all")["won_to_date"] for m in METHODS} == {4000}


def test_stale_open_deals_are_counted_with_their_amount_and_listed_for_cleanup(export_db: Path):
    con = queries.connect(export_db)
    caveats = queries.execute(con, "forecast_caveats").filter(pl.col("kind") == "stale")
    assert caveats.select("segment", "deals", "amount").rows() == [
        ("partner", 1, 4000.0),
        ("partner_sourced", 1, 4000.0),
        ("direct", 1, 1000.0),
        ("all", 2, 5000.0),
    ]
    assert row(caveats, segment="all")["message"] == (
        "2 open deals, $5.0k, have a close date before 2023-09-01: CRM weighted and the sales call leave them out; "
        "the historical method counts them in FY2023 Q3 at the share of past stale deals like them won in the "
        "quarter after; update or close them in the CRM."
    )
    assert row(caveats, segment="partner")["message"] == (
        "1 open deal, $4.0k, has a close date before 2023-09-01: CRM weighted and the sales call leave it out; "
        "the historical method counts it in FY2023 Q3 at the share of past stale deals like it won in the quarter "
        "after; update or close it in the CRM."
    )
    stale = queries.execute(con, "forecast_deals").filter(pl.col("is_stale")).sort("opportunity_id")
    assert stale.select("opportunity_id", "amount", "days_past_close", "fiscal_quarter", "in_forecast").rows() == [
        ("S1", 4000.0, 17, "FY2023 Q3", False),
        ("S2", 1000.0, 63, "FY2023 Q3", False),
    ]
    # No deal was stale on the eve of a quarter over by 2023-09-01 (S2 was, on FY2023 Q3's): nothing
    # to learn from, so the historical method counts them at 0; CRM weighted leaves them out.
    assert set(stale["historical_group"]) == {"stale: none in closed history yet (counted at 0)"}
    assert stale["expected_value"].to_list() == [0.0, 0.0] and stale["crm_weighted"].is_null().all()


def test_a_deal_due_on_the_as_of_day_is_not_stale(tmp_path: Path):
    files = dict(EXPORT)
    files["opportunities.csv"] = EXPORT["opportunities.csv"].replace(
        "S1,4000,Negotiation/Review,2023-05-01,2023-08-15", "S1,4000,Negotiation/Review,2023-05-01,2023-09-01"
    )
    con = queries.connect(build(tmp_path, files))
    s1 = row(queries.execute(con, "forecast_deals"), opportunity_id="S1")
    assert (s1["is_stale"], s1["in_forecast"], s1["fiscal_quarter"], s1["crm_weighted"]) == (False, True, "FY2023 Q3", 3600)
    assert row(queries.execute(con, "forecast_caveats"), kind="stale", segment="all")["deals"] == 1  # S2 only


def test_the_setting_counts_stale_deals_in_the_current_quarter_and_says_so(counted_db: Path):
    con = queries.connect(counted_db)
    q3 = queries.execute(con, "pipeline_forecast").filter(pl.col("fiscal_quarter") == "FY2023 Q3")
    # 7000 as above + S1 4000 x 0.9 + S2 1000 x 0.1.
    assert row(q3, method="crm_weighted", segment="all")["expected"] == 10700
    assert row(q3, method="crm_weighted", segment="partner")["expected"] == 5600
    assert row(queries.execute(con, "forecast_caveats"), kind="stale", segment="all")["message"] == (
        "2 open deals, $5.0k, have a close date before 2023-09-01: every method counts them in FY2023 Q3 "
        "(setting forecast_stale_deals; the historical method at the share of past stale deals like them won in "
        "the quarter after); update or close them in the CRM."
    )


# ---- stages without a probability -------------------------------------------------------


def test_a_stage_without_probability_uses_the_deals_own_else_the_deals_are_named(export_db: Path):
    con = queries.connect(export_db)
    deals = queries.execute(con, "forecast_deals").filter(pl.col("in_forecast")).sort("opportunity_id")
    assert deals.select("opportunity_id", "probability_source", "crm_weighted").rows() == [
        ("O1", "stage_map", 1000.0),
        ("O2", "deal", 2000.0),
        ("O3", "none", 0.0),
    ]
    caveats = queries.execute(con, "forecast_caveats").filter(pl.col("kind") != "stale")
    assert caveats.select("kind", "segment", "deals", "amount", "stages").rows() == [
        ("no_probability", "partner", 1, 3000.0, "Etapa Negociación"),
        ("no_probability", "partner_sourced", 1, 3000.0, "Etapa Negociación"),
        ("no_probability", "all", 1, 3000.0, "Etapa Negociación"),
        ("deal_probability", "direct", 1, 5000.0, "Etapa Propuesta"),
        ("deal_probability", "all", 1, 5000.0, "Etapa Propuesta"),
    ]
    assert row(caveats, kind="no_probability", segment="all")["message"] == (
        "1 open deal, $3.0k, in a stage without a probability: add it to the stage map (Etapa Negociación); "
        "until then CRM weighted counts this deal at 0."
    )
    assert row(caveats, kind="deal_probability", segment="all")["message"] == (
        "1 open deal, $5.0k, in a stage the stage map gives no probability (Etapa Propuesta), uses its own "
        "probability from the CRM."
    )


def test_a_stage_listed_without_a_probability_takes_the_deals_own(tmp_path: Path):
    stages = salesforce_stages()
    stages["Etapa Propuesta"] = Stage(order=11)
    stages["Etapa Negociación"] = Stage(order=12)
    # Two deals in one unnamed stage: the message names the stage once, and counts both.
    files = dict(EXPORT)
    files["opportunities.csv"] = (
        EXPORT["opportunities.csv"].rstrip() + "\n        O4,1000,Etapa Negociación,2023-08-20,2023-09-29,false,false,,\n"
    )
    con = queries.connect(build(tmp_path, files, settings=Settings(stage_map=stages)))
    deals = queries.execute(con, "forecast_deals")
    assert row(deals, opportunity_id="O2")["crm_weighted"] == 2000  # 5000 x its own 0.4
    assert row(queries.execute(con, "forecast_caveats"), kind="no_probability", segment="all")["message"] == (
        "2 open deals, $4.0k, in a stage without a probability: add it to the stage map (Etapa Negociación); "
        "until then CRM weighted counts these deals at 0."
    )


# ---- the page ----------------------------------------------------------------------------


def deal_lists(at) -> list[list[str]]:
    return [sorted(table.value["opportunity_id"]) for table in at.dataframe if "opportunity_id" in table.value.columns]


def test_the_page_warns_of_stale_deals_and_stages_without_probability_and_lists_the_stale_ones(
    export_db: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PULSE_DB", str(export_db))
    at = open_page("forecast", {"forecast_segment": "all"})
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert (
        "2 open deals, $5.0k, have a close date before 2023-09-01: CRM weighted and the sales call leave them out; the "
        "historical method counts them in FY2023 Q3 at the share of past stale deals like them won in the quarter "
        "after; update or close them in the CRM. They are listed under **Stale: past their close date** below."
    ) in warnings
    assert any(w.startswith("1 open deal, $3.0k, in a stage without a probability: add it") for w in warnings)
    assert any(c.value.startswith("1 open deal, $5.0k, in a stage the stage map gives no probability") for c in at.caption)
    assert {m.label: m.value for m in at.metric}["CRM weighted, FY2023 Q3"] == "$7.0k"
    # The largest expected value: every open deal, the stale ones at the historical method's value (0 here).
    assert ["O1", "O2", "O3", "S1", "S2"] in deal_lists(at)
    assert ["S1", "S2"] not in deal_lists(at)  # a closed tab's list is not sent
    at = open_tab(at, state.FORECAST_DEAL_LIST, "Stale")
    assert deal_lists(at) == [["S1", "S2"]]  # the Stale tab: every stale deal of the pipeline
    partner = open_page("forecast")  # a program with partners opens on the partner pipeline
    assert any(w.value.startswith("1 open deal, $4.0k, has a close date before 2023-09-01") for w in partner.warning)


# ---- the backtest ------------------------------------------------------------------------

# Backtest of FY2026 Q2 (data runs to 2026-07-15). K01-K30 give the closed history to learn from
# (30, the minimum: open on the eve of Q1, all won in it, so every deal is won). On the eve of Q2
# (2026-03-31):
# - M (1000, Negotiation/Review 90%, commit) is due 2026-05-20 and is won then;
# - G (10000, Negotiation/Review, commit) was due 2026-03-15: stale. It never closes.
# - Z is created on 2026-07-15, the last day of the data (so Q2 is over).
EXAMPLES = [f"K{i:02d}" for i in range(1, 31)]
STALE_BACKTEST = {
    "partners.csv": PARTNERS,
    "opportunities.csv": "\n".join(
        [
            "opportunity_id,amount,stage,created_at,close_date,forecast_category",
            *[f"{k},1000,Closed Won,2025-12-01,2026-02-01,closed" for k in EXAMPLES],
            "M,1000,Closed Won,2026-03-01,2026-05-20,closed",
            "G,10000,Negotiation/Review,2026-01-05,2026-03-15,commit",
            "Z,100,Prospecting,2026-07-15,2026-09-30,pipeline",
        ]
    ),
    "opportunity_history.csv": "\n".join(
        [
            "opportunity_id,stage,changed_at,amount,close_date,forecast_category",
            *[f"{k},Prospecting,2025-12-01 09:00:00,1000,2026-02-01,pipeline" for k in EXAMPLES],
            *[f"{k},Closed Won,2026-02-01 09:00:00,1000,2026-02-01,closed" for k in EXAMPLES],
            "M,Negotiation/Review,2026-03-01 09:00:00,1000,2026-05-20,commit",
            "M,Closed Won,2026-05-20 09:00:00,1000,2026-05-20,closed",
            "G,Negotiation/Review,2026-01-05 09:00:00,10000,2026-03-15,commit",
        ]
    ),
}
OPEN_G = "G,10000,Negotiation/Review,2026-01-05,2026-03-15,commit"
WON_G = "G,10000,Closed Won,2026-01-05,2026-05-10,closed"


def stale_won(files: dict[str, str], *extra: str) -> dict[str, str]:
    """G is won on 2026-05-10 after all (and any extra deals are added)."""
    changed = dict(files)
    opportunities = files["opportunities.csv"].replace(OPEN_G, WON_G).rstrip()
    changed["opportunities.csv"] = opportunities + "".join(f"\n{line}" for line in extra) + "\n"
    changed["opportunity_history.csv"] = files["opportunity_history.csv"].rstrip() + (
        "\nG,Closed Won,2026-05-10 09:00:00,10000,2026-05-10,closed\n"
    )
    return changed


def backtest(db: Path) -> pl.DataFrame:
    return queries.execute(queries.connect(db), "forecast_backtest").filter(pl.col("segment") == "all")


def test_a_stale_deal_left_out_of_the_backtest_keeps_its_error_small_and_unexplained(tmp_path: Path):
    result = backtest(build(tmp_path, STALE_BACKTEST))
    crm = row(result, method="crm_weighted")
    # M 1000 x 0.9 against M's 1000: 10%. G was stale on 2026-04-01 and is left out.
    assert (crm["forecast"], crm["actual"], crm["abs_pct_error"]) == (900, 1000, 10.0)
    assert (crm["stale_deals"], crm["stale_amount"], crm["stale_forecast"], crm["stale_won"]) == (1, 10000, 0, 0)
    assert result["stale_note"].is_null().all()


def test_stale_deals_counted_in_the_backtest_explain_its_large_error(tmp_path: Path):
    result = backtest(build(tmp_path, STALE_BACKTEST, settings=Settings(forecast_stale_deals="current_quarter")))
    crm = row(result, method="crm_weighted")
    # M 900 + G 10000 x 0.9 = 9900 against 1000: 890%, of which G made 9000 and brought nothing.
    assert (crm["forecast"], crm["abs_pct_error"], crm["stale_forecast"], crm["stale_won"]) == (9900, 890.0, 9000, 0)
    # The sales call: both commit. Historical learns stale deals from stale ones: none was stale on a past
    # eve (every K was due in its quarter), so G counts 0 and M 1000 is the actual, whatever the setting.
    assert {row(result, method=m)["stale_forecast"] for m in ("sales_commit", "sales_best_case")} == {10000}
    assert (row(result, method="historical")["stale_forecast"], row(result, method="historical")["forecast"]) == (0, 1000)
    assert set(result["stale_note"]) == {
        "FY2026 Q2: 1 open deal, $10.0k, was already past its close date on 2026-04-01 and counted in the quarter "
        "(CRM weighted $9.0k, Sales call: commit $10.0k, Sales call: commit + best case $10.0k of the forecast); none "
        "of it closed won in the quarter. That is most of the error of CRM weighted, Sales call: commit and Sales "
        "call: commit + best case."
    }


def test_a_stale_deal_won_after_all_explains_a_shortfall_only_when_it_is_most_of_it(tmp_path: Path):
    result = backtest(build(tmp_path, stale_won(STALE_BACKTEST), name="won"))
    crm = row(result, method="crm_weighted")
    # 900 against M 1000 + G 10000: 91.8% short, and G's 10000 is most of the 10100.
    assert (crm["forecast"], crm["actual"], crm["abs_pct_error"], crm["stale_won"]) == (900, 11000, 91.8, 10000)
    assert set(result["stale_note"]) == {
        "FY2026 Q2: $10.0k of the actual came from the one open deal already past its close date on 2026-04-01, "
        "which the forecast leaves out. That is most of the shortfall of CRM weighted, Sales call: commit, Sales "
        "call: commit + best case and Historical."
    }
    # A deal created in the quarter and won for 20000 makes the shortfall 30100: G's 10000 is a third of it.
    bigger = backtest(build(tmp_path, stale_won(STALE_BACKTEST, "L,20000,Closed Won,2026-04-10,2026-06-01,closed"), name="big"))
    assert row(bigger, method="crm_weighted")["abs_pct_error"] == pytest.approx(30100 / 31000 * 100, abs=0.05)
    assert bigger["stale_note"].is_null().all()


def test_the_page_says_why_a_backtest_error_is_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    db = build(tmp_path, STALE_BACKTEST, settings=Settings(forecast_stale_deals="current_quarter"))
    monkeypatch.setenv("PULSE_DB", str(db))
    at = open_page("forecast", {"forecast_segment": "all"})
    assert not at.exception, at.exception
    why = [w.value for w in at.warning if w.value.startswith("**Why some errors are large: stale deals.**")]
    assert len(why) == 1 and "- FY2026 Q2: 1 open deal, $10.0k, was already past its close date on 2026-04-01" in why[0]
