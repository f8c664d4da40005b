"""Bands that hold: each simulated run takes one past quarter's shared shock, so the P10-P90
band carries good and bad quarters (many deals slipping at once), not only deal-by-deal luck."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from queries import fiscal
from queries.forecast import methods as forecast


def totals(shocks: list[np.ndarray | None] | None) -> np.ndarray:
    # 200 open deals of 100.00, each won this quarter with probability 0.5.
    amounts = np.full(200, 100.0)
    segments = np.zeros(200, dtype=np.int64)
    won_by = forecast.won_by_quarter(np.zeros(200, dtype=np.int64), np.full(200, 0.5), np.zeros(200), 1)
    return forecast.simulate(amounts, segments, [won_by], runs=4000, shocks=shocks)[0][:, 0, 0]


def test_a_shared_quarter_shock_widens_the_band_and_keeps_the_expected_amount():
    alone = totals(None)
    shocked = totals([np.tile([0.5, 1.5], 2000)])  # half the runs a slow quarter, half a good one
    p10, p90 = np.percentile(alone, [10, 90])
    s10, s90 = np.percentile(shocked, [10, 90])
    assert p90 - p10 < 2_500  # independent deals: about 10,000 +/- 900
    assert (s10, s90) == (pytest.approx(5_000, abs=600), pytest.approx(15_000, abs=600))
    assert alone.mean() == pytest.approx(10_000, rel=0.01) and shocked.mean() == pytest.approx(10_000, rel=0.02)


def test_a_shock_of_one_changes_nothing():
    np.testing.assert_array_equal(totals([np.ones(4000)]), totals(None))


def examples(won_by_quarter: dict[date, int]) -> pl.DataFrame:
    rows = []
    for start, won in won_by_quarter.items():
        for i in range(2):
            rows.append(
                {"quarter_start": start, "amount": 100.0, "outcome": "won" if i < won else "lost", "probability": 0.25,
                 "stage": "Prospecting", "age_bucket": "0-30 days", "segment": "direct", "partner_type": "direct"}
            )  # fmt: skip
    return pl.DataFrame(rows)


def test_each_past_quarters_shock_is_what_its_open_deals_won_over_what_the_rates_said_relative_to_the_mean():
    # Two deals of 100.00 open on each eve: 1, 2 and 0 won, shares 1/2, 1 and 0 of their amount, over
    # their mean of 1/2: shocks 1, 2 and 0. CRM weighted gave each deal 0.25 (50.00 a quarter): won over
    # that, 2, 4 and 0, over their mean of 2.
    quarters = {date(2025, 1, 1): 1, date(2025, 4, 1): 2, date(2025, 7, 1): 0}
    shocks = forecast._quarter_shocks(examples(quarters))
    np.testing.assert_allclose(shocks["historical"], [1.0, 2.0, 0.0])
    np.testing.assert_allclose(shocks["crm_weighted"], [1.0, 2.0, 0.0])


def test_below_three_past_quarters_the_bands_carry_no_shock():
    assert forecast._quarter_shocks(examples({date(2025, 1, 1): 1, date(2025, 4, 1): 2})) is None
    assert forecast._quarter_shocks(examples({date(2025, 1, 1): 0, date(2025, 4, 1): 0, date(2025, 7, 1): 0})) is None


def test_the_draws_are_numpys_16_bit_draws_call_after_call():
    # Odd sizes leave half a 32-bit word unused, as numpy's Generator does.
    generator, draws = np.random.default_rng(forecast.SEED), forecast._Draws(forecast.SEED)
    for size in (7, 2, 1, 200_001, 4, 3):
        expected = generator.integers(0, 65536, size=size, dtype=np.uint16)
        np.testing.assert_array_equal(draws.uint16(size), expected)


def test_a_shocked_run_wins_a_deal_when_its_draw_over_the_shock_is_below_its_probability():
    # 5 deals of whole amounts (exact sums), 3 runs per past quarter of 3 shocks, 2 quarters.
    amounts = np.array([100.0, 200.0, 300.0, 400.0, 500.0])
    segments = np.array([0, 1, 2, 0, 1])
    won_by = forecast.won_by_quarter(np.array([0, 0, 1, 1, 0]), np.array([0.1, 0.5, 0.3, 0.9, 0.45]), np.full(5, 0.4), 2)
    shock = np.repeat([0.5, 1.0, 1.7], 3)
    runs = len(shock)
    result = forecast.simulate(amounts, segments, [won_by], runs=runs, shocks=[shock])[0]
    # By hand: the same draws, each scaled by its run's 1 / shock in single precision.
    draws = np.random.default_rng(forecast.SEED).integers(0, 65536, size=(runs, 5), dtype=np.uint16).astype(np.int32)
    scaled = (draws * (1 / shock).astype(np.float32)[:, None]).astype(np.float32)
    expected = np.zeros((runs, 2, 3))
    for quarter in range(2):
        won = scaled < np.round(won_by[:, quarter] * 65536)
        earlier = scaled < np.round(won_by[:, quarter - 1] * 65536) if quarter else np.zeros_like(won)
        for segment in range(3):
            expected[:, quarter, segment] = ((won & ~earlier) * amounts * (segments == segment)).sum(axis=1)
    np.testing.assert_array_equal(result, expected)
    assert expected[:3].sum() < expected[6:].sum()  # a slow quarter's runs win less than a good one's


# ---- new business: what deals not created yet will win, learned from past quarters ----------


def won_deals(rows: list[tuple[str, str, date, date, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"opportunity_id": pl.String, "segment": pl.String, "created_at": pl.Date, "close_date": pl.Date,
                      "amount": pl.Float64}, orient="row",
    )  # fmt: skip


# The program's first deal is W0 (FY2025 Q3, a partial first quarter: not learned from). FY2025 Q4:
# A (sourced, created in it) and B (created in Q3, so not new business there). FY2026 Q1: C
# (sourced, created 10 January) and D (direct, created 20 February). FY2026 Q2: E, created and won
# after the forecasts below look from.
WON = won_deals(
    [
        ("W0", "direct", date(2025, 8, 1), date(2025, 8, 20), 999.0),
        ("A", "partner_sourced", date(2025, 10, 5), date(2025, 11, 1), 1000.0),
        ("B", "partner_sourced", date(2025, 9, 20), date(2025, 10, 10), 5000.0),
        ("C", "partner_sourced", date(2026, 1, 10), date(2026, 3, 1), 3000.0),
        ("D", "direct", date(2026, 2, 20), date(2026, 3, 15), 600.0),
        ("E", "partner_sourced", date(2026, 4, 2), date(2026, 4, 30), 7000.0),
    ]
)


def test_new_business_is_the_mean_of_past_quarters_created_and_won_amounts():
    # On the eve of FY2026 Q2: FY2025 Q4 won 1000 (A) and FY2026 Q1 3000 (C) + 600 (D) from deals
    # created within them. Mean by segment: sourced (1000 + 3000) / 2, influenced 0, direct 600 / 2.
    [quarter] = forecast._new_business(WON, date(2026, 4, 1), date(2026, 3, 31), 1, 1)
    np.testing.assert_array_equal(quarter, [[1000.0, 0.0, 0.0], [3000.0, 0.0, 600.0]])
    np.testing.assert_array_equal(quarter.mean(axis=0), [2000.0, 0.0, 300.0])


def test_new_business_learns_only_from_quarters_over_by_the_day():
    # E (7000, won in FY2026 Q2) is in the data but Q2 is not over on 2026-04-15, nor on its eve.
    for day in (date(2026, 3, 31), date(2026, 4, 15)):
        [quarter] = forecast._new_business(WON, fiscal.quarter_start(day + timedelta(days=1)), day, 1, 1)
        assert quarter.shape == (2, 3) and 7000.0 not in quarter
    # A year later the last four quarters count, FY2026 Q2 (E) the oldest; FY2026 Q1 no longer does.
    [later] = forecast._new_business(WON, date(2027, 4, 1), date(2027, 3, 31), 1, 1)
    np.testing.assert_array_equal(later, [[7000.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_inside_a_quarter_new_business_is_what_deals_created_after_the_same_day_won():
    # 2026-04-15 is 15 days into FY2026 Q2: in FY2026 Q1 the deals created from 16 January won
    # 600 (D; C was created on the 10th); in FY2025 Q4 none created from 16 October won (A: the 5th).
    this_quarter, next_quarter = forecast._new_business(WON, date(2026, 4, 1), date(2026, 4, 15), 1, 2)
    np.testing.assert_array_equal(this_quarter, [[0.0, 0.0, 0.0], [0.0, 0.0, 600.0]])
    # FY2026 Q3 learns from FY2026 Q1 (a quarter before it, FY2025 Q4, is whole): what deals created
    # from 16 October (15 days into FY2025 Q4) on won in it, C and D. FY2025 Q4 would need FY2025 Q3.
    np.testing.assert_array_equal(next_quarter, [[3000.0, 0.0, 600.0]])


def rated(deals: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"amount": [100.0] * deals, "segment": ["direct"] * deals, "quarter_index": [0] * deals,
         "probability": [0.5] * deals, "p_won": [0.5] * deals, "p_slip": [0.0] * deals,
         "forecast_category": ["pipeline"] * deals}
    )  # fmt: skip


def test_new_business_adds_its_mean_to_the_historical_forecast_and_widens_its_band():
    def historical(new_business):
        rows = forecast._method_rows(rated(200), 1, 4000, include_sales=False, new_business=new_business)
        return {(r["method"], r["segment"]): r for r in rows}

    alone = historical(None)
    # Past quarters won 1000 or 5000 of direct new business: mean 3000, each run one of them.
    added = historical([np.array([[0.0, 0.0, 1000.0], [0.0, 0.0, 5000.0]])])
    before, after = alone[("historical", "direct")], added[("historical", "direct")]
    assert (after["expected"], after["new_business"]) == (before["expected"] + 3000, 3000)
    assert after["p90"] - after["p10"] > (before["p90"] - before["p10"]) + 3000
    assert (added[("historical", "partner")]["new_business"], added[("historical", "all")]["new_business"]) == (0, 3000)
    # CRM weighted forecasts the deals that exist: no new business, the same band.
    assert added[("crm_weighted", "direct")] == alone[("crm_weighted", "direct")]
    assert added[("crm_weighted", "direct")]["new_business"] == 0


def test_rates_are_shares_of_the_groups_amount_not_of_its_deals():
    # One group of four: 100 and 100 won, 800 lost, 1000 slipped. By amount: won 200 / 2000, lost
    # 800 / 2000 (by count it would be 1/2 and 1/4). A group of deals of 0 takes the count share.
    group = {"stage": "Prospecting", "age_bucket": "0-30 days", "segment": "direct", "partner_type": "direct"}
    outcomes = (("won", 100.0), ("won", 100.0), ("lost", 800.0), ("slipped", 1000.0))
    examples = pl.DataFrame([{**group, "outcome": o, "amount": a} for o, a in outcomes])
    deal = pl.DataFrame([{**group, "opportunity_id": "D", "amount": 500.0, "probability": 0.1}])
    rates = forecast._rates(deal, examples, min_group_deals=4).row(0, named=True)
    assert (rates["p_won"], rates["p_lost"], rates["p_slip"]) == pytest.approx((0.1, 0.4, 0.5))
    free = forecast._rates(deal, examples.with_columns(pl.lit(0.0).alias("amount")), min_group_deals=4).row(0, named=True)
    assert (free["p_won"], free["p_lost"]) == pytest.approx((0.5, 0.25))


# ---- involvement at close: a deal direct on the eve may be partner-influenced when it is won ---------


def eve_deal(opportunity_id: str, start: date, segment: str, amount: float) -> dict:
    # Open on the eve of `start`, due in that quarter, not stale.
    return {"opportunity_id": opportunity_id, "quarter_start": start, "close_date": start + timedelta(days=40),
            "age_days": 10, "stage": "Prospecting", "segment": segment, "partner_type": "direct", "amount": amount,
            "probability": 0.25}  # fmt: skip


def final(opportunity_id: str, won: bool, close_date: date, segment: str) -> dict:
    return {"opportunity_id": opportunity_id, "is_closed": True, "is_won": won, "close_date": close_date, "segment": segment}


Q1, Q2 = date(2026, 1, 1), date(2026, 4, 1)
# On the eve of FY2026 Q1 four direct deals and one influenced one were open. Won in Q1: D1 (300,
# still direct), D2 (100, a partner touched it before it closed: influenced), D3 (600, sourced by a
# registration before its close), I1 (500, influenced). D4 (1000, direct) was lost. On the eve of
# Q2, D5 (direct, 2000) was open; it was won in Q2 as influenced.
EVES = pl.DataFrame(
    [eve_deal("D1", Q1, "direct", 300.0), eve_deal("D2", Q1, "direct", 100.0), eve_deal("D3", Q1, "direct", 600.0),
     eve_deal("D4", Q1, "direct", 1000.0), eve_deal("I1", Q1, "partner_influenced", 500.0),
     eve_deal("D5", Q2, "direct", 2000.0)]
)  # fmt: skip
FINALS = pl.DataFrame(
    [final("D1", True, date(2026, 2, 1), "direct"), final("D2", True, date(2026, 2, 2), "partner_influenced"),
     final("D3", True, date(2026, 2, 3), "partner_sourced"), final("D4", False, date(2026, 2, 4), "direct"),
     final("I1", True, date(2026, 2, 5), "partner_influenced"), final("D5", True, date(2026, 5, 1), "partner_influenced")]
)  # fmt: skip


def test_the_migration_is_where_the_amount_won_of_each_eve_involvement_ended_by_amount():
    # On the eve of Q2 only Q1 is over: of the 1,000 won of direct deals (D1, D2, D3; D4 was lost),
    # 300 stayed direct, 100 ended influenced and 600 sourced. Influenced stayed influenced; sourced
    # has no example and keeps its amount.
    examples = forecast._examples(EVES, FINALS, Q2 - timedelta(days=1), 1)
    migration = forecast._migration(examples, min_group_deals=1)
    np.testing.assert_allclose(migration, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.1, 0.3]])


def test_the_migration_learns_only_from_quarters_over_by_the_day():
    # D5 (2,000, direct then influenced) was won in Q2: not over on 2026-05-15, so it does not count.
    during = forecast._migration(forecast._examples(EVES, FINALS, date(2026, 5, 15), 1), min_group_deals=1)
    np.testing.assert_allclose(during[2], [0.6, 0.1, 0.3])
    # Once Q2 is over it does: direct won 3,000, 2,100 of it influenced at its close.
    after = forecast._migration(forecast._examples(EVES, FINALS, date(2026, 6, 30), 1), min_group_deals=1)
    np.testing.assert_allclose(after[2], [600 / 3000, 2100 / 3000, 300 / 3000])


def test_below_the_minimum_count_of_won_deals_an_involvement_keeps_its_amount():
    examples = forecast._examples(EVES, FINALS, Q2 - timedelta(days=1), 1)
    # 3 direct deals won, 1 influenced: a minimum of 4 learns nothing; a minimum of 3 learns direct's row.
    assert forecast._migration(examples, min_group_deals=4) is None
    np.testing.assert_allclose(forecast._migration(examples, min_group_deals=3)[2], [0.6, 0.1, 0.3])


def test_the_historical_forecast_counts_what_direct_deals_win_where_their_kind_ended():
    # 200 direct deals of 100.00, each won with 0.5: 10,000 expected. A quarter of direct amount won
    # ended influenced: historical forecasts 7,500 direct and 2,500 influenced, in every run (the
    # band of all deals is the same); CRM weighted forecasts the deals as the CRM states them.
    migration = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.25, 0.75]])

    def by_key(migration):
        rows = forecast._method_rows(rated(200), 1, 4000, include_sales=False, migration=migration)
        return {(r["method"], r["segment"]): r for r in rows}

    alone, moved = by_key(None), by_key(migration)
    assert moved[("historical", "direct")]["expected"] == pytest.approx(7_500)
    assert moved[("historical", "partner_influenced")]["expected"] == pytest.approx(2_500)
    assert moved[("historical", "partner")]["expected"] == pytest.approx(2_500)
    for band in ("p10", "p50", "p90"):
        every_deal = alone[("historical", "all")][band]
        assert moved[("historical", "all")][band] == pytest.approx(every_deal)
        assert moved[("historical", "partner_influenced")][band] == pytest.approx(every_deal / 4, rel=1e-6)
    assert moved[("crm_weighted", "direct")] == alone[("crm_weighted", "direct")]
