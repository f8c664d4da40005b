"""Partner 360: search, the `?partner=ID` deep link, the profile, one timeline of everything,
deals and payouts, on the conftest's tiny program."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import queries
from charts.partner import activity_by_month, timeline
from tests.conftest import open_page

# Every test here only reads the tiny program: one build serves them all (tests/conftest.py, tiny_db).
pytestmark = pytest.mark.reads_tiny_program


def test_search_matches_names_and_ids_case_insensitively(tiny_db: Path):
    con = queries.connect(tiny_db)
    assert queries.execute(con, "partner_search", search="acme")["partner_id"].to_list() == ["P1"]
    assert queries.execute(con, "partner_search", search="p2")["partner_id"].to_list() == ["P2"]
    assert queries.execute(con, "partner_search")["partner_id"].to_list() == ["P1", "P2", "P3"]
    assert queries.execute(con, "partner_search", managers=["Sam Reed"])["partner_id"].to_list() == ["P2", "P3"]


def test_one_partners_engagement_by_month_is_its_rows_of_every_partners_ranking(tiny_db: Path):
    con = queries.connect(tiny_db)
    every = queries.execute(con, "engagement_by_month", months=12)
    one = queries.execute(con, "engagement_by_month", months=12, partner_id="P2")
    # P2 joined 2026-02-01: February to June. Its only weighted activity is the February deal registration.
    assert one["month"].to_list() == [date(2026, month, 1) for month in range(2, 7)]
    assert_frame_equal(one, every.filter(pl.col("partner_id") == "P2"))
    # Ranked against every partner, not alone: in June P1's training (2026-06-01) weighs more
    # than what is left of P2's February registration, so P2 is the lower of two: 50, not 100.
    assert one["engagement_score"].to_list() == [100.0, 100.0, 100.0, 100.0, 50.0]


def test_a_deep_link_opens_that_partner(tiny_db: Path):
    at = open_page("partner", {"partner": "P2"})
    assert not at.exception, at.exception
    assert [h.value for h in at.header] == ["Beacon Systems"]
    cards = {m.label: m.value for m in at.metric}
    assert cards["Tier"] == "Silver" and cards["Region"] == "NA" and cards["Partner manager"] == "Sam Reed"
    assert cards["Won deals"] == "1"  # O2 (touched); O3 was lost


def test_without_a_partner_the_page_asks_for_one(tiny_db: Path):
    at = open_page("partner")
    assert not at.exception, at.exception
    assert not at.header
    assert any("Choose a partner" in i.value for i in at.info)


def test_an_unknown_partner_id_in_the_link_does_not_raise(tiny_db: Path):
    at = open_page("partner", {"partner": "NOPE"})
    assert not at.exception, at.exception
    assert not at.header


def test_the_deals_and_payouts_tables_list_the_partners_own(tiny_db: Path):
    con = queries.connect(tiny_db)
    deals = queries.execute(con, "partner_deals", partner_id="P1")
    assert deals.select("opportunity_id", "outcome", "involvement").rows() == [
        ("O2", "won", "touched"),
        ("O1", "won", "registered, sourced (CRM), touched"),
    ]
    payouts = queries.execute(con, "partner_payouts", partner_id="P1")
    assert payouts["payout_id"].to_list() == ["PO2", "PO1"]
    p2 = queries.execute(con, "partner_deals", partner_id="P2")
    assert sorted(p2.select("opportunity_id", "outcome").rows()) == [("O2", "won"), ("O3", "lost"), ("O4", "open")]


def test_the_timeline_holds_every_kind_of_event(tiny_db: Path):
    events = queries.execute(queries.connect(tiny_db), "partner_timeline", partner_id="P1")
    assert events["kind"].value_counts().sort("kind").rows() == [
        ("Activity", 1),
        ("Deal won", 2),
        ("Payout", 2),
        ("Registration", 1),
        ("Touchpoint", 2),
    ]
    fig = timeline(events)
    assert {trace.name for trace in fig.data} == {"Activity", "Deal won", "Payout", "Registration", "Touchpoint"}
    # Zoomable on the time axis; no range slider, which drew every marker a second time.
    assert not fig.layout.xaxis.fixedrange and not fig.layout.xaxis.rangeslider.visible
    assert fig.layout.title.text == "Everything this partner did"  # a day per marker


def test_events_of_one_kind_on_one_day_share_a_marker_whose_hover_lists_them_all(tiny_db: Path):
    # P1's two touchpoints are both on 2026-04-01 (T2 on O2 at 09:00, T1 on O1 at 10:00); its two
    # won deals close on different days, so they stay two markers, each with its own text.
    events = queries.execute(queries.connect(tiny_db), "partner_timeline", partner_id="P1")
    traces = {trace.name: trace for trace in timeline(events).data}
    touch = traces["Touchpoint"]
    assert len(touch.x) == 1
    assert touch.hovertext[0].startswith("2026-04-01: 2 events<br>")
    assert "O2" in touch.hovertext[0] and "O1" in touch.hovertext[0]
    won = traces["Deal won"]
    assert len(won.x) == 2
    assert all("events" not in text for text in won.hovertext)
    assert sorted(text.split("<br>")[1] for text in won.hovertext) == ["2026-05-15", "2026-06-10"]


def test_a_busy_timeline_shows_a_marker_per_kind_and_week(tiny_db: Path, monkeypatch: pytest.MonkeyPatch):
    import charts.partner

    events = queries.execute(queries.connect(tiny_db), "partner_timeline", partner_id="P1")
    monkeypatch.setattr(charts.partner, "DAY_MARKERS_UP_TO", 3)  # P1 has seven kind-day markers
    fig = timeline(events)
    assert fig.layout.title.text == "Everything this partner did, week by week"
    traces = {trace.name: trace for trace in fig.data}
    # The two touchpoints of Wednesday 2026-04-01 are in the week that starts on Monday 2026-03-30.
    touch = traces["Touchpoint"]
    assert [str(day) for day in touch.x] == ["2026-03-30"]
    assert touch.hovertext[0] == "Week of 2026-03-30: 2 events<br>co_selling · 2026-04-01 · O2<br>referral · 2026-04-01 · O1"
    assert len(traces["Deal won"].x) == 2  # 2026-05-15 and 2026-06-10: two weeks


def test_activity_by_month_stacks_each_type(tiny_db: Path):
    monthly = queries.execute(queries.connect(tiny_db), "partner_activity_by_month", partner_id="P2")
    assert monthly.rows() == [(monthly["month"][0], "deal_registered", 1), (monthly["month"][1], "portal_login", 1)]
    assert [trace.name for trace in activity_by_month(monthly).data] == ["deal registered", "portal login"]


def test_the_profile_counts_deals_and_money(tiny_db: Path):
    profile = queries.execute(queries.connect(tiny_db), "partner_profile", partner_id="P1").row(0, named=True)
    assert (profile["won_deals"], float(profile["won_amount"]), float(profile["payouts"])) == (2, 4000.0, 250.0)
    assert profile["partner_types"] == ["referral", "reseller"]


def test_the_activity_legend_sits_under_the_plot_and_types_past_the_palette_are_hatched():
    import polars as pl

    from charts import OKABE_ITO

    types = [f"type {i:02d}" for i in range(len(OKABE_ITO) + 2)]
    monthly = pl.DataFrame(
        {"month": ["2026-01-01"] * len(types), "activity_type": types, "activities": list(range(len(types), 0, -1))}
    )
    fig = activity_by_month(monthly)
    # Above the plot, two rows of legend covered the chart's title.
    assert fig.layout.legend.y < 0 and fig.layout.legend.yanchor == "top"
    hatched = [trace.name for trace in fig.data if trace.marker.pattern.shape == "/"]
    assert hatched == ["type 09", "type 10"]  # the two whose colours repeat the first two
    assert [trace.marker.color for trace in fig.data[-2:]] == OKABE_ITO[:2]


def test_a_short_table_shows_every_row_a_long_one_scrolls_and_missing_values_show_a_dash(monkeypatch):
    import polars as pl

    import ui

    heights = []
    placeholders = set()

    def dataframe(*args, **kwargs) -> None:
        heights.append(kwargs["height"])
        placeholders.add(kwargs["placeholder"])

    monkeypatch.setattr(ui.st, "dataframe", dataframe)
    monkeypatch.setattr(ui, "download", lambda *args, **kwargs: None)
    # Partner 360's credit under each of the 11 models: "auto" showed 10 and hid Shapley below a scroll.
    ui.table(pl.DataFrame({"model": [f"m{i}" for i in range(11)]}), "short.csv")
    ui.table(pl.DataFrame({"model": [f"m{i}" for i in range(ui.SHOW_EVERY_ROW_UP_TO + 1)]}), "long.csv")
    ui.table(pl.DataFrame({"model": ["m"]}), "fixed.csv", height=200)
    assert heights == ["content", "auto", 200]
    assert placeholders == {"—"}  # not the word "None" (no band, no payout yet, a direct deal's partner)
